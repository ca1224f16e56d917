// `python:` imports under node --import esem-bridge/register run a module's
// top level once, in both modes (issue 7, defect 12: subprocess mode ran
// it twice, once in a worker of the hooks thread's own bridge).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BACKENDS, childScript, repoRoot, runNode, skipReason } from "./helpers.ts";

const register = path.join(repoRoot, "dist", "register.js");

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
});
