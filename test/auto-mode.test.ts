// mode "auto" (SPEC §6): native when the addon and the interpreter's shared
// libpython load; otherwise the subprocess mode, with info() saying why.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
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

  const old = "/root/.pyenv/versions/3.7.16/bin/python3";
  it.skipIf(!existsSync(old))("falls back to the subprocess mode for an interpreter it cannot embed, and says why", async () => {
    const out = await autoIn({ ESEM_PYTHON: old });
    expect(out.mode).toBe("subprocess");
    expect(out.reason).toContain("outside the supported 3.8-3.13");
    expect(out.version).toBe("3.7.16");
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
