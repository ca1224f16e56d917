// `esem types` (SPEC §2): declarations generated from a module's type hints
// type-check real uses of its proxy, and reject wrong ones.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, repoRoot, runNode } from "./helpers.ts";

const out = path.join(repoRoot, "test", ".generated");

describe("esem types", () => {
  it("writes declarations that type the proxy: functions, classes, methods, properties and constants", async () => {
    const result = await runNode(path.join(repoRoot, "dist", "cli.js"), ["types", fixture("typed.py")], 30_000);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("export interface TypedModule {");
    expect(result.stdout).toContain("  add(a: number, b: number): number;");
    expect(result.stdout).toContain("  maybe(x?: string | null): number | string | null;");
    expect(result.stdout).toContain("  static make(n: number): Remote<Counter>;");
    expect(result.stdout).not.toContain("Optional"); // names imported from typing are not the module's

    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "typed.d.ts"), result.stdout);
    writeFileSync(
      path.join(out, "usage.ts"),
      [
        'import { python, kw } from "esem-bridge";',
        'import type { TypedModule } from "./typed.js";',
        "export async function use() {",
        '  const m = await python<TypedModule>("./typed.py");',
        "  const n: number = await m.add(1, 2);",
        '  const s: string = await m.greet("a", true);',
        "  const stats: Record<string, number> = await m.stats([1.5, 2]);",
        "  const p: [number, string] = await m.pair();",
        "  const v: string = await m.VERSION;",
        "  const c = await m.Counter(3);",
        "  const k: number = await c.add();",
        "  const d: number = await c.doubled;",
        "  const c2 = await m.Counter(kw({ start: 2 }));",
        "  await c2.release();",
        "  // @ts-expect-error: add takes numbers",
        '  await m.add("x", 2);',
        "  // @ts-expect-error: greet returns a string",
        '  const wrong: number = await m.greet("a");',
        "  return [n, s, stats, p, v, k, d, wrong];",
        "}",
        "",
      ].join("\n"),
    );
    writeFileSync(
      path.join(out, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", types: ["node"], skipLibCheck: true },
        files: ["usage.ts", "typed.d.ts"],
      }),
    );
    // Throws (with tsc's report) when the declarations do not type the uses as written.
    execFileSync(process.execPath, [path.join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-p", out], { cwd: out, stdio: "pipe" });
  });

  it("says how to use it when no module is given", async () => {
    const result = await runNode(path.join(repoRoot, "dist", "cli.js"), ["types"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: esem types <file.py|module>");
  });
});
