// CommonJS users (issue 11): require("esem-bridge") works, and it is the
// one implementation the ESM entry re-exports, so an error from either
// entry is `instanceof` either entry's class and there is one default
// bridge. A TypeScript project compiled by this repository's tsc with
// "module": "commonjs" (and with "nodenext", CommonJS and ESM) type-checks
// against the published declarations and runs.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BACKENDS, childScript, fixture, repoRoot, runNode, skipReason, timeLimit } from "./helpers.ts";

const work = mkdtempSync(path.join(tmpdir(), "esem-cjs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each(BACKENDS)("require(\"esem-bridge\") from a .cjs file (%s)", (mode) => {
  it.skipIf(skipReason(mode))("runs a call, and shares its classes, default bridge and exports with the ESM entry", async () => {
    const result = await runNode(childScript("require-smoke.cjs"), [mode, work], 30_000);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toEqual({
      add: 5,
      mode,
      error: "PythonError(TypeError)",
      cjsInstanceof: true,
      esmInstanceof: true,
      sameClasses: true,
      sameDefaultBridge: true,
      missingInEsm: [],
      missingInCjs: [],
      exports: expect.any(Number),
      defaultAdd: 101,
    });
  });
});

// One TypeScript source, valid in each project form: a class, a method,
// keyword arguments, an error narrowed with instanceof, typed info().
const MAIN_TS = `import { createBridge, kw, PythonError, BridgeError, type BridgeInfo } from "esem-bridge";

async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2) as ["native" | "subprocess", string];
  const bridge = createBridge({ mode });
  const calc = await bridge.python(file);
  const c = await calc.Calculator(kw({ precision: 3 }));
  const out: Record<string, unknown> = { add: await calc.add(2, 3), method: await c.add(1.25, 1) };
  try {
    await calc.add(1, "x");
  } catch (error) {
    out.python = error instanceof PythonError ? error.pythonType : "not a PythonError";
    out.bridgeError = error instanceof BridgeError;
  }
  const info: BridgeInfo = bridge.info();
  out.mode = info.mode;
  await bridge.shutdown();
  console.log(JSON.stringify(out));
}

void main();
`;

const PROJECTS: [name: string, type: "commonjs" | "module", compilerOptions: Record<string, unknown>][] = [
  ["module commonjs", "commonjs", { module: "commonjs" }],
  ["module nodenext, a CommonJS package", "commonjs", { module: "nodenext", moduleResolution: "nodenext" }],
  ["module nodenext, an ESM package", "module", { module: "nodenext", moduleResolution: "nodenext" }],
];

const projectDir = (name: string): string => path.join(work, name.replace(/\W+/g, "-"));

describe("TypeScript projects using the package", () => {
  // One tsc -b run builds the three (one process: the lib files are read once).
  it("compile with the repository's tsc against the package's declarations, each in its module form", () => {
    for (const [name, type, compilerOptions] of PROJECTS) {
      const project = projectDir(name);
      mkdirSync(path.join(project, "node_modules"), { recursive: true });
      symlinkSync(repoRoot, path.join(project, "node_modules", "esem-bridge"), "dir");
      writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "ts-app", private: true, type }));
      writeFileSync(path.join(project, "main.ts"), MAIN_TS);
      copyFileSync(fixture("calculator.py"), path.join(project, "calculator.py"));
      const tsconfig = {
        compilerOptions: {
          target: "ES2022",
          strict: true,
          outDir: "out",
          types: ["node"],
          typeRoots: [path.join(repoRoot, "node_modules", "@types")],
          ...compilerOptions,
        },
        files: ["main.ts"],
      };
      writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
    }
    const projects = PROJECTS.map(([name]) => projectDir(name));
    const tsc = spawnSync(process.execPath, [path.join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-b", ...projects], { encoding: "utf8" });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    for (const [name, type] of PROJECTS) {
      const emitted = readFileSync(path.join(projectDir(name), "out", "main.js"), "utf8");
      // The form each project asked for: require() in CommonJS, import in ESM.
      expect(emitted, name).toMatch(type === "commonjs" ? /require\("esem-bridge"\)/ : /from "esem-bridge"/);
    }
  }, timeLimit(90_000));

  describe.each(PROJECTS)("with %s", (name) => {
    it.each(BACKENDS)("runs on the %s mode", async (mode) => {
      if (skipReason(mode)) return;
      const project = projectDir(name);
      const result = await runNode(path.join(project, "out", "main.js"), [mode, path.join(project, "calculator.py")], 30_000, { cwd: project });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout.trim())).toEqual({ add: 5, method: 2.25, python: "TypeError", bridgeError: false, mode });
    });
  });
});
