// Electron, Bun and Deno (SPEC §7) load the addon only if it uses Node-API
// alone: no V8 or node:: C++ symbols, no libuv link, and no libpython link
// (libpython is found at run time, so one build serves every Python).
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { probePython } from "../src/python-probe.ts";
import { childScript, repoRoot, runNode } from "./helpers.ts";

const addon = (createRequire(import.meta.url)("node-gyp-build") as { path(dir: string): string }).path(repoRoot);

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" });
  } catch {
    return null;
  }
}

describe("the built addon's imports", () => {
  const undefinedSymbols = process.platform === "linux" ? run("nm", ["-D", "--undefined-only", addon]) : null;

  it.skipIf(undefinedSymbols === null)("uses Node-API only: no V8, node:: or libuv symbols", () => {
    const symbols = undefinedSymbols!.split("\n").map((l) => l.trim().split(/\s+/).pop() ?? "").filter(Boolean);
    expect(symbols.some((s) => s.startsWith("napi_"))).toBe(true);
    const demangled = run("c++filt", symbols) ?? symbols.join("\n");
    const engine = demangled.split("\n").filter((s) => /^v8::|^node::|^uv_|_ZN2v8|_ZN4node/.test(s));
    expect(engine).toEqual([]);
  });

  it.skipIf(undefinedSymbols === null)("does not link libpython: every Py* function is looked up at run time", () => {
    const python = undefinedSymbols!.split("\n").filter((l) => /\sPy|\s_Py/.test(l));
    expect(python).toEqual([]);
    const libs = run("ldd", [addon]) ?? "";
    expect(libs).not.toMatch(/libpython/);
    expect(libs).not.toMatch(/libnode|libuv/);
  });
});

describe("the addon is context-aware", () => {
  it("loads a second time from a second vm context and both loads run Python", async () => {
    const probe = await probePython({ command: "python3", source: "PATH" }, repoRoot);
    const result = await runNode(childScript("vm-context.cjs"), [addon, JSON.stringify(probe), path.join(repoRoot, "python")]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["true", "first load: 9", "second load, second context: 9"]);
  });
});
