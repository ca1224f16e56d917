// The published package (SPEC §7, issue 11): a tarball with no install
// script at all, so npm never asks to approve one. Where its prebuilt
// binary matches, it runs the native mode whether npm runs scripts or not,
// with or without a compiler, and compiles nothing; without a matching
// binary it still installs and runs, in the subprocess mode, and `esem
// doctor` and info().reason name the one command that builds the addon
// (`npx esem build-addon`), which says what is missing when it cannot.
// Installs are offline: the two dependencies are packed from this
// checkout's node_modules and installed beside the tarball (a fresh
// machine's npm cache holds their tarballs, not the registry's metadata).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
      if (COMPILERS.test(name) || lstatExists(link)) continue;
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

const onLinux = process.platform === "linux";
let work = "";
/** Tarballs: with the built addon as its prebuild (what `npm run prebuilds` makes), and without any binary. */
const tarballs = { prebuilt: "", source: "" };
let dependencies: string[] = [];
let noCompilerPath = "";
const devManifest = readFileSync(path.join(repoRoot, "package.json"), "utf8");
// The addon this checkout loads (build/Release, or prebuilds/ after `npm run prebuilds`).
const addon = (createRequire(import.meta.url)("node-gyp-build") as { path(dir: string): string }).path(repoRoot);

/**
 * Packs a copy of the checkout the way `npm pack` does here: its prepack
 * runs scripts/pack-manifest.mjs strip and its postpack restores, as in
 * package.json; the prebuildify and tsc steps of the real prepack are left
 * out (dist/ and the binary are copied in), so nothing compiles.
 */
function pack(name: string, withPrebuild: boolean): string {
  const stage = path.join(work, `stage-${name}`);
  for (const entry of ["package.json", "README.md", "LICENSE", "binding.gyp", "CMakeLists.txt", "dist", "native", "python", "scripts"]) {
    cpSync(path.join(repoRoot, entry), path.join(stage, entry), { recursive: true });
  }
  const manifest = JSON.parse(devManifest);
  manifest.scripts.prepack = "node scripts/pack-manifest.mjs strip";
  const staged = JSON.stringify(manifest, null, 2) + "\n";
  writeFileSync(path.join(stage, "package.json"), staged);
  if (withPrebuild) {
    const folder = path.join(stage, "prebuilds", `${process.platform}-${process.arch}`);
    mkdirSync(folder, { recursive: true });
    copyFileSync(addon, path.join(folder, "esem-bridge.glibc.node"));
  }
  const out = path.join(work, `tar-${name}`);
  mkdirSync(out);
  const packed = execFileSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: stage, encoding: "utf8" });
  // postpack put the repository's manifest back, and left no backup behind.
  expect(readFileSync(path.join(stage, "package.json"), "utf8")).toBe(staged);
  expect(existsSync(path.join(stage, ".package.dev.json"))).toBe(false);
  return path.join(out, JSON.parse(packed)[0].filename);
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "esem-pack-"));
  tarballs.prebuilt = pack("prebuilt", true);
  tarballs.source = pack("source", false);
  noCompilerPath = pathWithoutCompilers(path.join(work, "bin"));
  dependencies = packDependencies(path.join(work, "deps"));
}, 120_000);

/** The package's dependencies as tarballs, packed from the installed copies. */
function packDependencies(out: string): string[] {
  mkdirSync(out);
  return Object.keys(JSON.parse(devManifest).dependencies ?? {}).map((name) => {
    const packed = execFileSync("npm", ["pack", "--json", "--pack-destination", out, path.join(repoRoot, "node_modules", name)], { cwd: out, encoding: "utf8" });
    return path.join(out, JSON.parse(packed)[0].filename);
  });
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

function appEnv(compiler: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_yes: "true" };
  if (!compiler) env.PATH = noCompilerPath;
  // The installed package's own binary and settings, even under test:asan or a test run's ESEM_*.
  for (const name of ["ESEM_ADDON", "ESEM_MODE", "CXX", "CC"]) delete env[name];
  return env;
}

/** A fresh app with the tarball installed offline; returns its folder and npm's output. */
function install(tarball: string, env: NodeJS.ProcessEnv, flags: string[]): { app: string; output: string } {
  const app = mkdtempSync(path.join(work, "app-"));
  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
  const result = spawnSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--foreground-scripts", ...flags, tarball, ...dependencies], { cwd: app, env, encoding: "utf8" });
  expect(result.status, result.stdout + result.stderr).toBe(0);
  copyFileSync(childScript("package-smoke.mjs"), path.join(app, "smoke.mjs"));
  copyFileSync(childScript("require-smoke.cjs"), path.join(app, "require-smoke.cjs"));
  return { app, output: result.stdout + result.stderr };
}

async function smoke(app: string, env: NodeJS.ProcessEnv) {
  const result = await runNode(path.join(app, "smoke.mjs"), [], 30_000, { env, cwd: app });
  expect(result.code, result.stderr).toBe(0);
  const out = JSON.parse(result.stdout.trim());
  expect(out).toMatchObject({ add: 5, method: 8, error: "PythonError(TypeError)" });
  return out;
}

async function requireSmoke(app: string, env: NodeJS.ProcessEnv, mode: string) {
  const result = await runNode(path.join(app, "require-smoke.cjs"), [mode, app], 30_000, { env, cwd: app });
  expect(result.code, result.stderr).toBe(0);
  expect(JSON.parse(result.stdout.trim())).toMatchObject({ add: 5, mode, esmInstanceof: true, cjsInstanceof: true, sameClasses: true });
}

describe("the packed tarball's package.json and files", () => {
  it("has no scripts, no implicit node-gyp build, a LICENSE, the repository links, and source maps that carry their sources", () => {
    const unpacked = path.join(work, "unpacked");
    mkdirSync(unpacked);
    execFileSync("tar", ["-xzf", tarballs.prebuilt, "-C", unpacked]);
    const root = path.join(unpacked, "package");
    const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    // The repository's own pack runs the same steps as the staged one (plus prebuildify and tsc first).
    const dev = JSON.parse(devManifest);
    expect(dev.scripts.prepack).toMatch(/&& node scripts\/pack-manifest\.mjs strip$/);
    expect(dev.scripts.postpack).toBe("node scripts/pack-manifest.mjs restore");
    expect(dev.scripts.prepublishOnly).toBe("node scripts/pack-manifest.mjs refuse-directory-publish");
    expect(manifest.scripts).toBeUndefined();
    expect(manifest.devDependencies).toBeUndefined();
    expect(manifest.gypfile).toBe(false); // binding.gyp ships (for esem build-addon); npm must not run it on install
    expect(existsSync(path.join(root, "binding.gyp"))).toBe(true);
    expect(manifest).toMatchObject({
      license: "MIT",
      repository: { url: "git+https://github.com/Crane04/esem.git" },
      homepage: "https://github.com/Crane04/esem#readme",
      bugs: { url: "https://github.com/Crane04/esem/issues" },
      dependencies: { "node-gyp-build": expect.any(String), "node-addon-api": expect.any(String) },
    });
    expect(readFileSync(path.join(root, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) esem-bridge contributors/);
    expect(existsSync(path.join(root, "prebuilds", `${process.platform}-${process.arch}`, "esem-bridge.glibc.node"))).toBe(true);
    expect(existsSync(path.join(root, "scripts"))).toBe(false);
    const maps = readdirSync(path.join(root, "dist")).filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(10);
    for (const map of maps) {
      const parsed = JSON.parse(readFileSync(path.join(root, "dist", map), "utf8")) as { sources: string[]; sourcesContent?: string[] };
      expect(parsed.sourcesContent?.length, map).toBe(parsed.sources.length);
      expect(parsed.sourcesContent?.every((s) => s.length > 0), map).toBe(true);
    }
  });
});

describe("publishing", () => {
  // npm publish of a folder re-reads package.json after postpack restored the repository's: the registry would get its install script.
  it("refuses a folder publish and says to publish the packed tarball", () => {
    const stage = path.join(work, "stage-source");
    const result = spawnSync("npm", ["publish", "--dry-run", "--offline"], { cwd: stage, encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/publish the packed tarball, not the folder: npm pack, then npm publish \.\/esem-bridge-[\d.]+\.tgz/);
    expect(readFileSync(path.join(stage, "package.json"), "utf8")).toContain('"scripts"'); // untouched
  });
});

// The staged prebuild is tagged linux-x64 glibc: elsewhere this is skipped.
describe.skipIf(!onLinux)("installing the tarball with a prebuilt binary", () => {
  it.each([
    ["npm's default script policy, no compiler", [] as string[], false],
    ["install scripts ignored, no compiler", ["--ignore-scripts"], false],
    ["npm's default script policy, a compiler on PATH", [] as string[], true],
    ["install scripts ignored, a compiler on PATH", ["--ignore-scripts"], true],
  ])("with %s: asks to approve nothing, compiles nothing, and runs natively from the prebuild (ESM and CommonJS)", async (_name, flags, compiler) => {
    const env = appEnv(compiler);
    const { app, output } = install(tarballs.prebuilt, env, flags);
    expect(output).not.toMatch(/install-scripts|node-gyp|gyp info/);
    expect(existsSync(path.join(app, "node_modules", "esem-bridge", "build"))).toBe(false); // nothing was compiled
    const out = await smoke(app, env);
    expect(out.mode).toBe("native");
    expect(out.addon.prebuilt).toBe(true);
    expect(out.addon.path).toContain(path.join(app, "node_modules", "esem-bridge", "prebuilds"));
    await requireSmoke(app, env, "native");
  }, 120_000);
});

describe.skipIf(!onLinux)("installing the tarball without a matching binary", () => {
  let app = "";
  const env = () => appEnv(false);

  it("installs with scripts allowed and no compiler, and runs in the subprocess mode, saying which command builds the addon", async () => {
    const installed = install(tarballs.source, env(), []);
    app = installed.app;
    expect(installed.output).not.toMatch(/install-scripts|gyp info|gyp ERR/);
    expect(existsSync(path.join(app, "node_modules", "esem-bridge", "build"))).toBe(false);
    const out = await smoke(app, env());
    expect(out.mode).toBe("subprocess");
    expect(out.reason).toMatch(/^subprocess, because the native mode is unavailable: .*the native addon is not built/);
    expect(out.reason).toContain("npx esem build-addon");
    await requireSmoke(app, env(), "subprocess");
  }, 120_000);

  it("has esem doctor name npx esem build-addon as the fix and the subprocess mode as what auto uses (exit 0)", () => {
    const doctor = spawnSync("npx", ["esem", "doctor"], { cwd: app, env: env(), encoding: "utf8" });
    expect(doctor.status, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toMatch(/addon .*the native addon is not built/);
    expect(doctor.stdout).toMatch(/fix: run `npx esem build-addon`/);
    expect(doctor.stdout).toMatch(/mode\s+subprocess \(auto falls back to it/);
  }, 60_000);

  it("has npx esem build-addon say that no compiler was found, exit 1, and leave the app working", async () => {
    const build = spawnSync("npx", ["esem", "build-addon"], { cwd: app, env: env(), encoding: "utf8" });
    expect(build.status).toBe(1);
    expect(build.stderr).toMatch(/no C\+\+ compiler found .*build-essential/);
    expect(build.stderr).toMatch(/subprocess/);
    expect((await smoke(app, env())).mode).toBe("subprocess");
  }, 60_000);

  it("installs with scripts ignored, and has esem build-addon report a failed compile with what it needs (CXX=false)", async () => {
    const installed = install(tarballs.source, env(), ["--ignore-scripts"]);
    expect((await smoke(installed.app, env())).mode).toBe("subprocess");
    const build = spawnSync("npx", ["esem", "build-addon"], { cwd: installed.app, env: { ...appEnv(true), CXX: "false", CC: "false" }, encoding: "utf8" });
    expect(build.status, build.stdout + build.stderr).toBe(1);
    expect(build.stderr).toMatch(/the addon build failed \(node-gyp exited with \d+/);
    expect(build.stderr).toMatch(/C\+\+17 compiler, make and Python 3/);
    expect(existsSync(path.join(installed.app, "node_modules", "esem-bridge", "build", "Release", "esem_bridge.node"))).toBe(false);
    expect((await smoke(installed.app, env())).mode).toBe("subprocess");
  }, 120_000);

  // A real compile takes minutes on two cores: run with ESEM_TEST_SOURCE_BUILD=1.
  it.skipIf(process.env.ESEM_TEST_SOURCE_BUILD !== "1")("builds the addon with npx esem build-addon where a compiler exists, and then runs natively from that build", async () => {
    const installed = install(tarballs.source, appEnv(true), []);
    const build = spawnSync("npx", ["esem", "build-addon"], { cwd: installed.app, env: appEnv(true), encoding: "utf8" });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    expect(build.stdout).toMatch(/built .*esem_bridge\.node/);
    const out = await smoke(installed.app, appEnv(true));
    expect(out.mode).toBe("native");
    expect(out.addon.prebuilt).toBe(false);
    expect(out.addon.path).toContain(path.join(installed.app, "node_modules", "esem-bridge", "build"));
  }, 600_000);
});
