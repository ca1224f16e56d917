// The bridge's own Python package keeps its bytecode in the private cache
// folder (python/esem_bridge/bytecode_cache.py, docs/architecture.md#start-up)
// when the native host or the subprocess worker starts, whatever
// PYTHONDONTWRITEBYTECODE says; ESEM_BYTECODE_CACHE=0 leaves Python's own
// rules. Fresh child processes, a cache folder of their own, both modes.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BACKENDS, childScript, runNode, skipReason } from "./helpers.ts";

const work = mkdtempSync(path.join(tmpdir(), "esem-bytecode-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function start(mode: string, cache: string, env: NodeJS.ProcessEnv = {}) {
  return runNode(childScript("bytecode-cache.mjs"), [mode], 30_000, {
    env: { ...process.env, XDG_CACHE_HOME: cache, PYTHONDONTWRITEBYTECODE: "1", ...env },
  });
}

describe.each(BACKENDS)("the bytecode cache on the %s backend", (mode) => {
  it.skipIf(skipReason(mode) !== null)("is written on the first start and read on the next", async () => {
    const cache = path.join(work, `${mode}-on`);
    const first = await start(mode, cache);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe("CachedLoader");
    const folder = path.join(cache, "esem-bridge", "bytecode");
    const entries = readdirSync(folder).filter((n) => n.endsWith(".bin"));
    expect(entries.some((n) => n.startsWith("esem_bridge.ops-"))).toBe(true);
    expect(entries.some((n) => n.startsWith(mode === "native" ? "esem_bridge.plain-" : "esem_bridge.worker-"))).toBe(true);
    const stamps = entries.map((n) => statSync(path.join(folder, n)).mtimeMs);
    const second = await start(mode, cache);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe("CachedLoader");
    // Read, not written again.
    expect(entries.map((n) => statSync(path.join(folder, n)).mtimeMs)).toEqual(stamps);
  });

  it.skipIf(skipReason(mode) !== null)("is left out with ESEM_BYTECODE_CACHE=0", async () => {
    const cache = path.join(work, `${mode}-off`);
    const run = await start(mode, cache, { ESEM_BYTECODE_CACHE: "0" });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe("SourceFileLoader");
    const folder = path.join(cache, "esem-bridge", "bytecode");
    expect(() => readdirSync(folder)).toThrow();
  });
});
