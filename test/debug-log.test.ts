// ESEM_DEBUG=1 (docs/api.md#environment-variables): one stderr line per
// call, with the mode, what was called, its duration and how it ended;
// nothing at all without it. Both modes, in child processes.
import { describe, expect, it } from "vitest";
import { BACKENDS, childScript, fixture, runNode, skipReason } from "./helpers.ts";

describe.each(BACKENDS)("ESEM_DEBUG on the %s backend", (mode) => {
  it.skipIf(skipReason(mode))("logs one line per call when set, and nothing when not", async () => {
    const args = [mode, fixture()];
    const on = await runNode(childScript("debug-calls.mjs"), args, 30_000, { env: { ...process.env, ESEM_DEBUG: "1" } });
    expect(on.code, on.stderr).toBe(0);
    const lines = on.stderr.trim().split("\n").filter((l) => l.startsWith("esem-bridge: "));
    const calls = [
      `esem-bridge: ${mode} calculator.add \\d+\\.\\d{3} ms ok`,
      `esem-bridge: ${mode} calculator.Calculator \\d+\\.\\d{3} ms ok`,
      `esem-bridge: ${mode} calculator.Calculator.add \\d+\\.\\d{3} ms ok`,
      `esem-bridge: ${mode} calculator.no_such_function \\d+\\.\\d{3} ms PythonError\\(AttributeError\\)`,
      ...(mode === "native" ? [`esem-bridge: native calculator.add \\(sync\\) \\d+\\.\\d{3} ms ok`] : []),
    ];
    expect(lines.length, on.stderr).toBe(calls.length);
    calls.forEach((pattern, i) => expect(lines[i]).toMatch(new RegExp(`^${pattern}$`)));
    const env = { ...process.env };
    delete env.ESEM_DEBUG;
    const off = await runNode(childScript("debug-calls.mjs"), args, 30_000, { env });
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).not.toContain("esem-bridge:");
    expect(off.stdout.trim()).toBe("done");
  });
});
