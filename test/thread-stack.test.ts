// The native mode's Python thread gets an explicit 8 MiB stack
// (native/native_thread.cc), not the platform default: 512 KiB on macOS,
// 1 MiB on Windows, RLIMIT_STACK on Linux. The invariant is checked under a
// 1 MiB RLIMIT_STACK, which makes glibc's default thread stack 1 MiB too: a
// thread started with the default reports 1 MiB there and dies (SIGSEGV) in
// the 3000-level recursion through C below (checked against the
// std::thread build before the change), where the 8 MiB thread passes.
import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { childScript, fixture, repoRoot, skipReason } from "./helpers.ts";

function underStackLimit(kib: number, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const quoted = [process.execPath, childScript("deep-stack.mjs"), ...args].map((a) => `'${a}'`).join(" ");
  return new Promise((resolve) => {
    execFile("bash", ["-c", `ulimit -s ${kib} && exec ${quoted}`], { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr: `${stderr}${error ? ` (${error.message})` : ""}` });
    });
  });
}

describe.skipIf(process.platform !== "linux" || skipReason("native") !== null)("the native mode's Python thread stack", () => {
  it("is 8 MiB even where threads default to 1 MiB, and recursion through C near and past the default limit passes", async () => {
    const result = await underStackLimit(1024, [fixture(), "3000"]);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout.trim());
    expect(out.stack).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    expect(out.nearLimit).toBe(out.limit - 50);
    expect(out.deep).toBe(3000);
  });
});
