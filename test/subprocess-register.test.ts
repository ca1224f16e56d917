// `python:` imports under node --import esem-bridge/register run a module's
// top level once, in both modes (issue 7, defect 12: subprocess mode ran
// it twice, once in a worker of the hooks thread's own bridge), and always
// finish (the importing thread answers the hooks without loading a module:
// a load it started while the hooks waited for it could hang both threads).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BACKENDS, childScript, repoRoot, runNode, skipReason } from "./helpers.ts";

const register = path.join(repoRoot, "dist", "register.mjs");
const RUNS = 20;
const RUN_TIMEOUT_MS = 10_000;

describe.each(BACKENDS)("python: imports under esem-bridge/register (%s)", (mode) => {
  it.skipIf(skipReason(mode))("run the imported file's top level once", async () => {
    const folder = mkdtempSync(path.join(tmpdir(), "esem-runs-"));
    const runs = path.join(folder, "runs.txt");
    try {
      const result = await runNode(childScript(path.join("imports", "count-runs.mjs")), [], 20_000, {
        nodeArgs: ["--import", register],
        env: { ...process.env, ESEM_MODE: mode, ESEM_TEST_RUNS_FILE: runs },
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toBe("42");
      expect(readFileSync(runs, "utf8")).toBe("ran\n");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it.skipIf(skipReason(mode))("finish every time when one file has two python: imports (20 runs, two at a time)", async () => {
    const script = childScript(path.join("imports", "python-imports.mjs"));
    const failures: string[] = [];
    for (let run = 0; run < RUNS; run += 2) {
      const pair = [run, run + 1].map(async (n) => {
        // Every other run without the probe cache: its miss path once loaded a module on the way.
        const env = { ...process.env, ESEM_MODE: mode, ...(n % 2 ? { ESEM_PROBE_CACHE: "0" } : {}) };
        const result = await runNode(script, [], RUN_TIMEOUT_MS, { nodeArgs: ["--import", register], env });
        if (result.timedOut) failures.push(`run ${n}: no exit within ${RUN_TIMEOUT_MS} ms`);
        else if (result.code !== 0) failures.push(`run ${n}: exit ${result.code}: ${result.stderr.trim()}`);
        else if (result.stdout.trim() !== "5\n1.0.0\n3.58\n[1, 2]\n2") failures.push(`run ${n}: printed ${result.stdout}`);
      });
      await Promise.all(pair);
    }
    expect(failures).toEqual([]);
  }, (RUNS / 2) * RUN_TIMEOUT_MS + 10_000);
});
