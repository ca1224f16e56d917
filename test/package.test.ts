// The published package (SPEC §7): a tarball with a prebuilt binary installs
// and works on a machine with no compiler, whether or not npm runs install
// scripts (npm 11 blocks them by default).
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childScript, repoRoot, runNode } from "./helpers.ts";

const COMPILERS = /^(gcc|g\+\+|cc|c\+\+|cpp|make|gmake|cmake|ctest|clang|clang\+\+|ld|c89|c99|tcc)(-[\d.]+)?$|^x86_64-linux-gnu-(gcc|g\+\+|cpp)/;

/** A PATH with everything on this one but C/C++ compilers and build tools. */
function pathWithoutCompilers(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const folder of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!folder || !existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      const link = path.join(dir, name);
      if (COMPILERS.test(name) || existsSync(link) || lstatExists(link)) continue;
      symlinkSync(path.join(folder, name), link);
    }
  }
  return dir;
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

describe("the packed package on a machine without a compiler", () => {
  let work = "";
  let tarball = "";
  let bin = "";
  // The addon this checkout loads (build/Release, or prebuilds/ after `npm run prebuild`).
  const addon = (createRequire(import.meta.url)("node-gyp-build") as { path(dir: string): string }).path(repoRoot);

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), "esem-pack-"));
    // Stage the package with the built addon as its prebuild (what
    // `npm run prebuild` makes), without touching the checkout's build/.
    const stage = path.join(work, "stage");
    for (const entry of ["package.json", "README.md", "binding.gyp", "CMakeLists.txt", "dist", "native", "python"]) {
      cpSync(path.join(repoRoot, entry), path.join(stage, entry), { recursive: true });
    }
    mkdirSync(path.join(stage, "prebuilds", `${process.platform}-${process.arch}`), { recursive: true });
    copyFileSync(addon, path.join(stage, "prebuilds", `${process.platform}-${process.arch}`, "esem-bridge.glibc.node"));
    const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { cwd: stage });
    tarball = path.join(work, JSON.parse(packed.toString())[0].filename);
    bin = pathWithoutCompilers(path.join(work, "bin"));
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // The staged prebuild is tagged linux-x64 glibc: elsewhere this is skipped.
  it.skipIf(process.platform !== "linux").each([
    ["with npm's default script policy", [] as string[]],
    ["with install scripts ignored", ["--ignore-scripts"]],
  ])("installs %s and runs the smoke test from its prebuilt binary", async (_name, flags) => {
    const app = mkdtempSync(path.join(work, "app-"));
    writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", type: "module", private: true }));
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin, npm_config_yes: "true" };
    delete env.ESEM_ADDON; // the installed package's own binary, even under test:asan
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...flags, tarball], { cwd: app, env, stdio: "pipe" });
    expect(existsSync(path.join(app, "node_modules", "esem-bridge", "build"))).toBe(false); // nothing was compiled
    const script = path.join(app, "smoke.mjs");
    copyFileSync(childScript("package-smoke.mjs"), script);
    const result = await runNode(script, [], 30_000, { env, cwd: app });
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout.trim());
    expect(out).toMatchObject({ add: 5, method: 8, error: "PythonError(TypeError)" });
    expect(out.addon.prebuilt).toBe(true);
    expect(out.addon.path).toContain(path.join(app, "node_modules", "esem-bridge", "prebuilds"));
  }, 120_000);
});
