// `esem types` (SPEC §2): declarations generated from a module's type hints
// type-check real uses of its proxy under `tsc --strict`, reject wrong ones,
// and describe what the bridge really returns (the use runs in both modes).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BACKENDS, fixture, repoRoot, runNode, skipReason } from "./helpers.ts";

const out = path.join(repoRoot, "test", ".generated");
const cli = path.join(repoRoot, "dist", "cli.js");
const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");

/** Runs tsc on a project folder; throws with tsc's report when it does not compile. */
function compile(dir: string): void {
  try {
    execFileSync(process.execPath, [tsc, "-p", dir], { cwd: dir, stdio: "pipe" });
  } catch (error) {
    throw new Error(`tsc -p ${dir} failed:\n${(error as { stdout?: Buffer }).stdout?.toString()}`);
  }
}

function project(dir: string, files: string[], emit = false): void {
  const compilerOptions = {
    strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", types: ["node"],
    skipLibCheck: false, ...(emit ? { outDir: ".", rootDir: ".", declaration: false } : { noEmit: true }),
  };
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files }));
}

async function types(args: string[]) {
  return runNode(cli, ["types", ...args], 60_000);
}

describe("esem types", () => {
  it("writes declarations that type the proxy: functions, classes, methods, properties and constants", async () => {
    const result = await types([fixture("typed.py")]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("export interface TypedModule {");
    expect(result.stdout).toContain("  add(a: number, b: number): number;");
    expect(result.stdout).toContain("  maybe(x?: string | null): number | string | null;");
    expect(result.stdout).toContain("  static make(n: number): Remote<Counter>;");
    expect(result.stdout).not.toContain("Optional"); // names imported from typing are not the module's

    const dir = path.join(out, "typed");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "typed.d.ts"), result.stdout);
    writeFileSync(
      path.join(dir, "usage.mts"),
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
        "  const made = await m.Counter.make(2);",
        "  c.start = 5;",
        "  const c2 = await m.Counter(kw({ start: 2 }));",
        "  await c2.release();",
        "  // @ts-expect-error: add takes numbers",
        '  await m.add("x", 2);',
        "  // @ts-expect-error: greet returns a string",
        '  const wrong: number = await m.greet("a");',
        "  // @ts-expect-error: doubled is a property without a setter",
        "  c.doubled = 3;",
        "  return [n, s, stats, p, v, k, d, made, wrong];",
        "}",
        "",
      ].join("\n"),
    );
    project(dir, ["usage.mts", "typed.d.ts"]);
    compile(dir);
  }, 120_000);

  it("types every hint form truthfully, and the typed use runs as typed in both modes", async () => {
    const result = await types([fixture("typegen_forms.py")]);
    expect(result.code, result.stderr).toBe(0);
    const d = result.stdout;
    // Generators and iterators are proxies to iterate, never arrays.
    expect(d).toContain("  count(n: number): RemoteIterable<number>;");
    expect(d).toContain("  counted(n: number): RemoteGenerator<number, string>;");
    expect(d).toContain("  numbers(n: number): RemoteIterable<number>;");
    expect(d).toContain("  bare(n: any): RemoteGenerator<any, any>;");
    expect(d).toContain("  ticks(n: number): RemoteIterable<number>;");
    expect(d).toContain("  listed(): number[] | RemoteIterable<number>;");
    expect(d).not.toMatch(/count\(n: number\): number\[\]/);
    // Keyword-only parameters: a trailing kw() object type.
    expect(d).toContain('  scale(x: number, kwargs?: Kwargs<{ factor?: number; mode?: "up" | "down" }>): number;');
    expect(d).toContain("  must(x: number, kwargs: Kwargs<{ key: string }>): string;");
    expect(d).toContain("  constructor(label?: string, kwargs?: Kwargs<{ size?: number }>);");
    // Docstrings are JSDoc (a `*/` inside stays inside the comment).
    expect(d).toContain("   * Adds two numbers.\n   *\n   * Returns their sum.\n   */\n  add(a: number, b?: number): number;");
    expect(d).toContain(" * Iterating gives the names; `*\\/` in a docstring stays a comment.");
    // Only the module's own public names: no imports, no _private, no typing names.
    for (const name of ["dataclass", "field", "asyncio", "os", "annotations", "enum", "_PRIVATE", "TypedDict", "Optional"]) {
      expect(d).not.toMatch(new RegExp(`^  ${name}\\b`, "m"));
    }
    // What the module prints at import goes to stderr, never into the declarations.
    expect(d).not.toContain("typegen_forms imported");
    expect(result.stderr).toContain("typegen_forms imported");
    // The same declarations from the other mode (where a print is forwarded to Node's stdout).
    for (const mode of BACKENDS) {
      if (skipReason(mode)) continue;
      const other = await runNode(cli, ["types", fixture("typegen_forms.py")], 60_000, { env: { ...process.env, ESEM_MODE: mode } });
      expect(other.code, other.stderr).toBe(0);
      expect(other.stdout, mode).toBe(d);
    }

    const dir = path.join(out, "forms");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "forms.d.ts"), d);
    const ambient = await types([fixture("typegen_forms.py"), "--specifier", "python:../../fixtures/typegen_forms.py", "--out", path.join(dir, "forms-ambient.d.ts")]);
    expect(ambient.code, ambient.stderr).toBe(0);
    expect(readFileSync(path.join(dir, "forms-ambient.d.ts"), "utf8")).toContain('declare module "python:../../fixtures/typegen_forms.py" {');
    copyFileSync(fixture("typegen-usage.ts"), path.join(dir, "usage.mts"));
    project(dir, ["usage.mts", "forms.d.ts", "forms-ambient.d.ts"], true);
    compile(dir); // must compile, and each @ts-expect-error line must fail

    for (const mode of BACKENDS) {
      if (skipReason(mode)) continue;
      const run = await runNode(path.join(dir, "usage.mjs"), [], 60_000, {
        nodeArgs: ["--import", path.join(repoRoot, "dist", "register.mjs")],
        env: { ...process.env, ESEM_MODE: mode },
      });
      expect(run.code, `${mode}: ${run.stderr}`).toBe(0);
      const got = JSON.parse(run.stdout.trim().split("\n").pop()!);
      expect(got, mode).toEqual({
        add: 3, scale: 6, scaleDown: 4, must: "k=4", late: "z=1", late2: "y=5",
        varargs: { first: "a", rest: [1, 2], options: { verbose: true } }, union: "s", pair: [1, "a"],
        table: { a: [1, 2] }, byId: true, tags: ["x"], pick: "red", movie: { title: "T", year: 1999 }, later: 2,
        apply: "n7", maker: 6, untyped: [1, 3, null], version: "1.2",
        countIsArray: false, count: [0, 1, 2], send: [0], bare: [0, 2, 4], ticks: [0, 1], listed: [1, 2, 3],
        added: 2, countProp: 2, size: 9, label: "renamed", kinds: ["wood", "steel"], of: 2, defaultSize: 3,
        names: ["a", "b"], norm: 5, x: 6, originX: 0, red: "red",
        ambientAdd: 7, ambientShelf: 1, ambientDefault: 12, ambientCount: [0, 1], ambientVersion: "1.2",
      });
    }
  }, 180_000);

  it("types numpy parameters as TypedArrays with or without shape, and results as NDArray, in both modes", async (ctx) => {
    const result = await types([fixture("typegen_arrays.py")]);
    if (result.code !== 0 && result.stderr.includes("No module named 'numpy'")) ctx.skip("numpy is not installed for the bridge's interpreter");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("  grid(rows: number, cols: number): NDArray<Float64Array>;");
    expect(result.stdout).toContain("  total(a: NDArrayLike<NumericArray>): number;");
    expect(result.stdout).toContain("  dims(a: NDArrayLike<Float64Array>): number[];");
    const dir = path.join(out, "arrays");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "arrays.d.ts"), result.stdout);
    copyFileSync(fixture("typegen-arrays-usage.ts"), path.join(dir, "usage.mts"));
    project(dir, ["usage.mts", "arrays.d.ts"], true);
    compile(dir);
    for (const mode of BACKENDS) {
      if (skipReason(mode)) continue;
      const run = await runNode(path.join(dir, "usage.mjs"), [], 60_000, { env: { ...process.env, ESEM_MODE: mode } });
      expect(run.code, `${mode}: ${run.stderr}`).toBe(0);
      expect(JSON.parse(run.stdout.trim()), mode).toEqual({
        isFloat64: true, shape: [2, 3], dtype: "float64", totalOfResult: 15, totalFlat: 4,
        dimsShaped: [3, 2], dimsFlat: [4], mean: 2.5,
      });
    }
  }, 180_000);

  it("describes real stdlib modules (json, math, statistics, pathlib) in declarations that compile under --strict", async () => {
    const dir = path.join(out, "stdlib");
    mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    const usage = ['import { python, kw } from "esem-bridge";'];
    for (const name of ["json", "math", "statistics", "pathlib"]) {
      const result = await types([name]);
      expect(result.code, result.stderr).toBe(0);
      writeFileSync(path.join(dir, `${name}.d.ts`), result.stdout);
      files.push(`${name}.d.ts`);
      usage.push(`import type { ${name[0].toUpperCase() + name.slice(1)}Module } from "./${name}.js";`);
    }
    const json = readFileSync(path.join(dir, "json.d.ts"), "utf8");
    expect(json).toMatch(/^  dumps\(obj: any, kwargs\?: Kwargs<\{ skipkeys\?: boolean;/m); // keyword-only, from json's signature
    expect(json).toContain("export declare class JSONDecoder {");
    expect(json).not.toMatch(/^  (codecs|decoder|encoder|scanner)\b/m); // submodules and imports are not exports
    const pathlib = readFileSync(path.join(dir, "pathlib.d.ts"), "utf8");
    expect(pathlib).toContain("export declare class Path {");
    expect(pathlib).not.toMatch(/^  (os|sys|fnmatch|re|ntpath|posixpath)\b/m);
    expect(readFileSync(path.join(dir, "math.d.ts"), "utf8")).toContain("  pi: number;");
    usage.push(
      "export async function use() {",
      '  const json = await python<JsonModule>("json");',
      "  const text: string = await json.dumps([1], kw({ indent: 2 }));",
      "  // @ts-expect-error: skipkeys is a boolean (from its default)",
      '  await json.dumps([1], kw({ skipkeys: "yes" }));',
      '  const math = await python<MathModule>("math");',
      "  const pi: number = await math.pi;",
      '  const st = await python<StatisticsModule>("statistics");',
      "  const nd = await st.NormalDist(0, 1);",
      "  const fromSamples = await st.NormalDist.from_samples([1, 2, 3]);",
      '  const pathlib = await python<PathlibModule>("pathlib");',
      '  const p = await pathlib.Path("/tmp");',
      "  const home = await pathlib.Path.home();",
      "  for await (const child of await p.iterdir()) void child;",
      "  return [text, pi, nd, fromSamples, home];",
      "}",
      "",
    );
    writeFileSync(path.join(dir, "usage.mts"), usage.join("\n"));
    project(dir, ["usage.mts", ...files]);
    compile(dir);
  }, 180_000);

  it("--check exits 1 on a stale or missing file without rewriting it, and 0 on a fresh one", async () => {
    const dir = path.join(out, "check");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const target = path.join(dir, "typed.d.ts");
    const wrote = await types([fixture("typed.py"), "--out", target]);
    expect(wrote.code, wrote.stderr).toBe(0);
    expect(wrote.stdout).toBe("");
    expect(readFileSync(target, "utf8")).toContain("export interface TypedModule {");

    const fresh = await types([fixture("typed.py"), "--out", target, "--check"]);
    expect(fresh.code, fresh.stderr).toBe(0);

    const stale = readFileSync(target, "utf8").replace("add(a: number, b: number): number;", "add(a: number): number;");
    writeFileSync(target, stale);
    const before = statSync(target).mtimeMs;
    const checked = await types([fixture("typed.py"), "--out", target, "--check"]);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain("is stale");
    expect(checked.stderr).toContain(`regenerate it with: esem types ${fixture("typed.py")} --out ${target}`);
    expect(readFileSync(target, "utf8")).toBe(stale); // not rewritten
    expect(statSync(target).mtimeMs).toBe(before);

    const missing = await types([fixture("typed.py"), "--out", path.join(dir, "none.d.ts"), "--check"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("does not exist");
  }, 120_000);

  it("says how to use it when the arguments are wrong", async () => {
    const none = await types([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("usage: esem types <file.py|module>");
    const check = await types([fixture("typed.py"), "--check"]);
    expect(check.code).toBe(2);
    expect(check.stderr).toContain("--check compares with a file: give it with --out <file.d.ts>");
    const unknown = await types([fixture("typed.py"), "--watch"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option "--watch"');
    const spec = await types([fixture("typed.py"), "--specifier", "./typed.py"]);
    expect(spec.code).toBe(2);
    expect(spec.stderr).toContain('--specifier takes the import\'s specifier as written, starting with "python:"');
  });

  it("reports a module that cannot be imported, with what to check", async () => {
    const result = await types([fixture("no_such_module_here.py")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("esem types: could not describe");
    expect(result.stderr).toContain("esem doctor");
    expect(result.stdout).toBe("");
  });
});
