// How calls run side by side (docs/concurrency.md), both modes: blocking
// calls on more Python threads, calls on one object in order, coroutines on
// one asyncio loop, cancellation of running and queued calls. Timings are
// measured in a child process and judged with generous limits.
import { describe, expect, it } from "vitest";
import { createBridge, opts } from "../src/index.ts";
import { BACKENDS, childScript, fixture, rejectionOf, runNode, skipReason, withBridge } from "./helpers.ts";

describe.each(BACKENDS)("concurrency on the %s backend", (mode) => {
  const skip = skipReason(mode);

  it.skipIf(skip)("runs blocking calls side by side, coroutines together, and stops a busy loop on timeout (child, generous limits)", async () => {
    const child = await runNode(childScript("concurrency-timing.mjs"), [fixture(), mode], 60_000);
    expect({ code: child.code, signal: child.signal }, child.stderr.slice(-2000)).toEqual({ code: 0, signal: null });
    const r = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
    expect(r.fourSleeps).toBeLessThan(1400); // 2000 one after another
    expect(r.sleepThreads).toBeGreaterThan(1);
    expect(r.cpuFourOverOne).toBeGreaterThan(2); // one GIL: about 4
    expect(r.napsValues).toEqual([1, 2]);
    expect(r.twoNaps).toBeLessThan(1800); // 2000 one after another
    expect(r.plainDuringNap).toBeLessThan(300);
    expect(r.foreverStopped).toBeLessThan(1000);
    expect(r.foreverError).toEqual(["TimeoutError", "ESEM_TIMEOUT"]);
    expect([r.afterCancel, r.afterCancelAgain]).toEqual([3, 6]);
  }, 90_000);

  it.skipIf(skip)("keeps calls on one object in order, never overlapping, while other calls go on", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      const log = await c.Log();
      const steps = [log.step("a", 0.2), log.step("b", 0.05), log.step("c", 0)];
      expect(await c.spin(10)).toBe(45); // not held up by the object's queue
      expect(await Promise.all(steps)).toEqual(["a", "b", "c"]);
      expect(await log.events).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    });
  });

  it.skipIf(skip)("rejects an async def's exception as a PythonError, and iterates an async generator with for await", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      const error = (await rejectionOf(c.fails())) as any;
      expect(error.pythonType).toBe("ValueError");
      expect(error.message).toBe("async failure");
      const seen: number[] = [];
      for await (const i of await c.ticks(3, 0.01)) seen.push(i as number);
      expect(seen).toEqual([0, 1, 2]);
    });
  });

  it.skipIf(skip)("awaits a JS callback's promise inside a coroutine", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      const later = async (x: number) => {
        await new Promise((r) => setTimeout(r, 10));
        return x * 2;
      };
      expect(await c.await_js(later, 21)).toBe(42);
    });
  });

  it.skipIf(skip)("removes a cancelled call that is still queued: it never runs", async () => {
    const bridge = createBridge({ mode, threads: 1 });
    try {
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      const before = await c.counted();
      const ac = new AbortController();
      const blocker = c.sleep(0.3);
      const queued = c.count(opts({ signal: ac.signal }));
      ac.abort(new Error("changed my mind"));
      const error = (await rejectionOf(queued)) as any;
      expect([error.name, error.code]).toEqual(["AbortError", "ESEM_ABORTED"]);
      expect(error.cause.message).toBe("changed my mind");
      await blocker;
      expect(await c.counted()).toBe(before);
    } finally {
      await bridge.shutdown();
    }
  });

  it.skipIf(skip)("rejects at once for a signal that already aborted, and ignores an abort after the call settled", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      const before = await c.counted();
      const error = (await rejectionOf(c.count(opts({ signal: AbortSignal.abort() })))) as any;
      expect(error.code).toBe("ESEM_ABORTED");
      const ac = new AbortController();
      expect(await c.count(opts({ signal: ac.signal }))).toBe(before + 1);
      ac.abort();
      expect(await c.counted()).toBe(before + 1);
    });
  });

  it.skipIf(skip)("cancels a sleeping coroutine", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      const t = Date.now();
      const error = (await rejectionOf(c.nap(1, 5, opts({ timeout: 50 })))) as any;
      expect(error.code).toBe("ESEM_TIMEOUT");
      expect(Date.now() - t).toBeLessThan(2000);
      expect(await c.nap(7, 0)).toBe(7);
    });
  });
});

describe("createBridge({ threads })", () => {
  it("throws a TypeError for a thread count that is not 1 to 64", () => {
    for (const threads of [0, 65, 1.5, Number.NaN]) {
      expect(() => createBridge({ threads })).toThrow(/threads must be a whole number from 1 to 64/);
    }
  });
});
