// Bun and Deno (SPEC §7) run the same package, the native mode through
// their Node-API support and the subprocess mode through node:child_process:
// the smoke test passes in each mode, and an idle bridge lets the runtime
// exit. The runtimes come from the npm registry (devDependencies).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { childScript, fixture, repoRoot } from "./helpers.ts";

const runtimes: [string, string[]][] = [
  ["bun", []],
  ["deno", ["run", "--allow-all"]],
];

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.each(runtimes)("under %s", (name, flags) => {
  const bin = path.join(repoRoot, "node_modules", ".bin", name);
  it.skipIf(!existsSync(bin)).each(["native", "subprocess"])("runs the smoke test on the %s mode and exits by itself", async (mode) => {
    const result = await run(bin, [...flags, childScript("runtime-smoke.mjs"), mode, fixture()]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toEqual({
      add: 5,
      method: 3.58,
      version: "1.0.0",
      error: "PythonError(TypeError)",
      mode,
    });
  });

  it.skipIf(!existsSync(bin)).each(["native", "subprocess"])("runs require(\"esem-bridge\") from a .cjs file on the %s mode, one implementation with the ESM entry", async (mode) => {
    const folder = mkdtempSync(path.join(tmpdir(), "esem-runtime-cjs-"));
    try {
      const result = await run(bin, [...flags, childScript("require-smoke.cjs"), mode, folder]);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout.trim())).toMatchObject({
        add: 5,
        mode,
        esmInstanceof: true,
        cjsInstanceof: true,
        sameClasses: true,
        sameDefaultBridge: true,
        missingInEsm: [],
        missingInCjs: [],
        defaultAdd: 101,
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
