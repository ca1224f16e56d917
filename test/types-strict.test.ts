// The public types under `tsc --strict`: test/types.test-d.ts compiles as it
// is (npm test runs it too), and with its `// @ts-expect-error` comments
// taken out, tsc reports an error on exactly the lines they marked, no
// other. So each must-fail use fails by itself (not because of a neighbour),
// and nothing else in the file is an error. The `python:*` wildcard
// declaration (types/python.d.ts) types any `python:` import loosely.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, timeLimit } from "./helpers.ts";

const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
const out = path.join(repoRoot, "test", ".generated", "strict");

/** tsc's errors as "file:line TScode" (file relative to dir), empty when it compiles. */
function errorsOf(dir: string): string[] {
  try {
    execFileSync(process.execPath, [tsc, "-p", dir], { cwd: dir, stdio: "pipe" });
    return [];
  } catch (error) {
    const report = (error as { stdout?: Buffer }).stdout?.toString() ?? String(error);
    const lines = report.split("\n").filter((l) => /error TS\d+/.test(l));
    if (lines.length === 0) throw error;
    return lines.map((l) => {
      const m = /^(.*?)\((\d+),\d+\): error (TS\d+)/.exec(l);
      return m ? `${m[1]}:${m[2]} ${m[3]}` : l;
    });
  }
}

function tsconfig(dir: string, files: string[], types = ["node"]): void {
  const compilerOptions = {
    strict: true, noEmit: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext",
    lib: ["ES2022", "ESNext.Disposable"], types, skipLibCheck: true, allowImportingTsExtensions: true,
  };
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files }));
}

describe("the public types under tsc --strict", () => {
  it("fail on exactly the lines marked must-fail, and compile everywhere else", () => {
    const source = readFileSync(path.join(repoRoot, "test", "types.test-d.ts"), "utf8").replaceAll('"../src/index.ts"', '"../../../../src/index.ts"');
    const lines = source.split("\n");
    const marked: number[] = [];
    const stripped = lines.map((line, i) => {
      if (!line.trim().startsWith("// @ts-expect-error")) return line;
      marked.push(i + 2); // the line after the comment, 1-based
      return line.replace("// @ts-expect-error", "// (must fail)");
    });
    expect(marked.length).toBeGreaterThanOrEqual(25);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(path.join(out, "as-is"), { recursive: true });
    mkdirSync(path.join(out, "stripped"), { recursive: true });
    writeFileSync(path.join(out, "as-is", "types.test-d.ts"), source);
    writeFileSync(path.join(out, "stripped", "types.test-d.ts"), stripped.join("\n"));
    tsconfig(path.join(out, "as-is"), ["types.test-d.ts"]);
    tsconfig(path.join(out, "stripped"), ["types.test-d.ts"]);

    expect(errorsOf(path.join(out, "as-is"))).toEqual([]);
    const errors = errorsOf(path.join(out, "stripped"));
    expect(errors.filter((e) => !e.startsWith("types.test-d.ts:"))).toEqual([]); // none in src/
    const failing = new Set(errors.map((e) => Number(/:(\d+) /.exec(e)![1])));
    const missing = marked.filter((n) => !failing.has(n)).map((n) => `${n}: ${lines[n - 1].trim()}`);
    const unexpected = [...failing].filter((n) => !marked.includes(n)).map((n) => `${n}: ${lines[n - 1].trim()}`);
    expect({ missing, unexpected }).toEqual({ missing: [], unexpected: [] });
  }, timeLimit(120_000));

  it("types any python: import loosely through the python:* wildcard", () => {
    // As a user's project sees it: the package in node_modules, the declaration through its exports.
    // (Outside the repository: a link back into it would show vitest its own tests again.)
    const dir = mkdtempSync(path.join(tmpdir(), "esem-wildcard-"));
    try {
      mkdirSync(path.join(dir, "node_modules"));
      symlinkSync(repoRoot, path.join(dir, "node_modules", "esem-bridge"), "dir");
      writeFileSync(
        path.join(dir, "use.ts"),
        [
          '/// <reference types="esem-bridge/python" />',
          'import calc, { add, Calculator } from "python:./calculator.py";',
          'import * as np from "python:numpy";',
          "export async function use() {",
          "  const n = await add(1, 2);",
          "  const c = await Calculator(2);",
          "  const v = await calc.VERSION;",
          "  const z = await np.zeros(3);",
          "  return [n, c, v, z];",
          "}",
          "",
        ].join("\n"),
      );
      tsconfig(dir, ["use.ts"], []);
      expect(errorsOf(dir)).toEqual([]);
      writeFileSync(path.join(dir, "none.ts"), 'import { add } from "python:./calculator.py";\nexport const x = add;\n');
      tsconfig(dir, ["none.ts"], []);
      expect(errorsOf(dir)).toEqual(["none.ts:1 TS2307"]); // without the declaration, a python: import is unknown
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
