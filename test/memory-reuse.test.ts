// Memory a large call uses is kept for the next one: Python's freed object
// arenas (native/py_arena_cache.h) and blocks of 1 MiB or more
// (native/py_large_blocks.h), both modes, and the wire buffers of
// large messages (native/wire_buffers.h, native mode; a large result's
// bytes are lent to the decoder, not copied, and detached after it).
import { describe, expect, it } from "vitest";
import { BACKENDS, SANITIZED, childScript, fixture, runNode, skipReason, withBridge } from "./helpers.ts";

const records = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ id: i, name: `${tag}-${i}`, tags: ["a", tag, `t${i % 7}`], blob: Buffer.from([i & 255, tag.length]) }));

// The worker keeps memory only through esem_wire.so's extension module:
// ESEM_SUBPROCESS_CODEC=python or =ctypes runs it without the caches.
const workerCodec = process.env.ESEM_SUBPROCESS_CODEC;
const noWorkerCaches = workerCodec === "python" || workerCodec === "ctypes";

describe.each(BACKENDS)("memory reuse (%s)", (mode) => {
  const skip = skipReason(mode);
  const noCaches = mode === "subprocess" && noWorkerCaches;

  // Under ASan the first touch of shadow memory faults too: fault counts say nothing there.
  // (Skipped tests here: not Linux, ASan, or a worker without esem_wire.so's caches.)
  it.skipIf(skip || SANITIZED || noCaches)("keeps Python's freed arenas: rebuilding 10 000 records faults far less than with ESEM_ARENA_CACHE_MB=0", async () => {
    const run = async (env: NodeJS.ProcessEnv) => {
      const out = await runNode(childScript("arena-faults.mjs"), [mode, fixture()], 30_000, { env: { ...process.env, ...env } });
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout.trim()).faults as number;
    };
    const cached = await run({});
    const uncached = await run({ ESEM_ARENA_CACHE_MB: "0" });
    // Uncached: every build maps its ~3 MB of objects afresh (hundreds of faults here).
    expect(uncached).toBeGreaterThan(100);
    expect(cached).toBeLessThan(uncached / 4);
  });

  it.skipIf(skip || noCaches || process.platform !== "linux")("keeps Python's freed large blocks: a 16 MiB bytes made again faults almost never, an 80 MiB one (past the 64 MiB budget) too; ESEM_BLOCK_CACHE_MB=0 leaves malloc's", async () => {
    const run = async (env: NodeJS.ProcessEnv) => {
      const out = await runNode(childScript("large-blocks.mjs"), [mode, fixture()], 30_000, { env: { ...process.env, ...env } });
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout.trim()) as { boundary: boolean; faults: number; largerFaults: number };
    };
    const cached = await run({});
    expect(cached.boundary).toBe(true); // the Buffer's copy is one of the cache's blocks
    if (!SANITIZED) {
      expect(cached.faults).toBeLessThan(64); // 4 096 pages of 4 KiB, already touched
      expect(cached.largerFaults).toBeLessThan(64); // 20 480 pages: it faulted all of them before a block larger than the budget was kept
    }
    expect((await run({ ESEM_BLOCK_CACHE_MB: "0" })).boundary).toBe(false);
  });

  it.skipIf(skip || mode !== "subprocess" || process.platform !== "linux")("gives the large blocks it keeps back once the worker has been idle a second", async (ctx) => {
    await withBridge(mode, async (bridge) => {
      const m = await bridge.python(fixture("memory_reuse.py"));
      const kept = (await m.keep_large_block(16 << 20)) as number | null;
      if (kept === null) return ctx.skip("the worker runs the pure-Python codec (no esem_wire.so): no large-block cache");
      expect(kept).toBeGreaterThanOrEqual(16 << 20);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(await m.large_blocks_kept()).toBe(0);
      // A block larger than the budget is kept alone, and given back the same way.
      expect(await m.keep_large_block(80 << 20)).toBeGreaterThanOrEqual(80 << 20);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(await m.large_blocks_kept()).toBe(0);
    });
  });

  it.skipIf(skip)("gives each of many large Buffers in flight its own block, and results keep their bytes after later calls", async () => {
    await withBridge(mode, async (bridge) => {
      const m = await bridge.python(fixture("memory_reuse.py"));
      const make = (k: number, size: number) => Buffer.alloc(size, k);
      const sizes = [1 << 20, (3 << 20) + 7, 5 << 20, (16 << 20) + 1];
      const sent = sizes.flatMap((size, i) => [make(2 * i + 1, size), make(2 * i + 2, size)]);
      const first = (await Promise.all(sent.map((b) => m.echo(b)))) as Buffer[];
      for (let round = 0; round < 3; round++) await Promise.all(sizes.map((size, i) => m.echo(make(100 + round * 10 + i, size))));
      first.forEach((back, k) => expect(back.equals(sent[k])).toBe(true));
    });
  });

  it.skipIf(skip)("gives each of many large calls in flight its own bytes, and results keep theirs after later calls", async () => {
    await withBridge(mode, async (bridge) => {
      const m = await bridge.python(fixture("memory_reuse.py"));
      const tags = ["p", "q", "r", "s", "t", "u", "v", "w"];
      const sent = tags.map((t) => records(5000, t));
      const first = (await Promise.all(sent.map((rows) => m.echo(rows)))) as ReturnType<typeof records>[];
      // More large calls reuse the buffers the first ones had.
      for (let round = 0; round < 3; round++) await Promise.all(tags.map((t) => m.echo(records(5000, `${t}${round}`))));
      first.forEach((back, k) => expect(back).toEqual(sent[k]));
    });
  });
});
