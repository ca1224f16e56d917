// mode "auto" (SPEC §6): native when the addon and the interpreter's shared
// libpython load; otherwise the subprocess mode, with info() saying why.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fakePython } from "./fake-python.ts";
import { childScript, runNode, skipReason } from "./helpers.ts";

async function autoIn(env: NodeJS.ProcessEnv) {
  const result = await runNode(childScript("auto-mode.mjs"), [], 30_000, { env: { ...process.env, ...env } });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim()) as { mode: string; reason: string; sqrt: number; version: string };
}

describe.skipIf(skipReason("subprocess") !== null)("mode auto", () => {
  it("uses the native mode when it can load", async () => {
    const out = await autoIn({});
    expect(out.mode).toBe("native");
    expect(out.sqrt).toBe(4);
  });

  it("falls back to the subprocess mode when the addon cannot load, and says why", async () => {
    const out = await autoIn({ ESEM_ADDON: "/nonexistent/esem_bridge.node" });
    expect(out.mode).toBe("subprocess");
    expect(out.reason).toContain("native mode is unavailable");
    expect(out.reason).toContain("addon");
    expect(out.sqrt).toBe(4);
  });

  it.skipIf(process.platform === "win32")("falls back to the subprocess mode for an interpreter it cannot embed, and says why", async () => {
    // A free-threaded build, faked: the real python3 whose probe says Py_GIL_DISABLED.
    const dir = mkdtempSync(path.join(tmpdir(), "esem-auto-"));
    try {
      const real = execFileSync("python3", ["-c", "import sys; print(sys.executable)"]).toString().trim();
      const out = await autoIn({ ESEM_PYTHON: fakePython(dir, "python3.14t", real, { freeThreaded: true, gilEnabled: false }) });
      expect(out.mode).toBe("subprocess");
      expect(out.reason).toContain("native mode is unavailable");
      expect(out.reason).toContain("free-threaded build");
      expect(out.sqrt).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const old = "/root/.pyenv/versions/3.7.16/bin/python3";
  it.skipIf(!existsSync(old))("refuses an interpreter older than 3.8 with ESEM_NO_PYTHON, as neither mode supports it", async () => {
    const result = await runNode(childScript("auto-mode.mjs"), [], 30_000, { env: { ...process.env, ESEM_PYTHON: old } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("ESEM_NO_PYTHON");
    expect(result.stderr).toContain("Python 3.7.16");
    expect(result.stderr).toContain("is not supported");
    expect(result.stderr).not.toContain("Traceback");
  });

  it("still refuses with ESEM_NO_PYTHON when the interpreter does not exist at all", async () => {
    const result = await runNode(childScript("auto-mode.mjs"), [], 30_000, {
      env: { ...process.env, ESEM_PYTHON: "/nonexistent/python3" },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("ESEM_NO_PYTHON");
    expect(result.stderr).toContain("/nonexistent/python3");
  });
});
