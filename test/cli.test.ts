// `python:` imports (SPEC §2) through each way of enabling them, and the
// `esem` command. All run the built package in a child process.
import path from "node:path";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { childScript, repoRoot, runNode } from "./helpers.ts";

const dist = (file: string) => path.join(repoRoot, "dist", file);
const script = childScript(path.join("imports", "python-imports.mjs"));
const expected = ["5", "1.0.0", "3.58", "[1, 2]", "2"];
const version = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version;

describe("python: imports", () => {
  it("work under node --import esem-bridge/register, with named and default exports", async () => {
    const result = await runNode(script, [], 20_000, { nodeArgs: ["--import", dist("register.mjs")] });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(expected);
  });

  it("fall back to the current folder for a file that is not beside the importing one", async () => {
    const result = await runNode(childScript(path.join("imports", "from-cwd.mjs")), [], 20_000, { nodeArgs: ["--import", dist("register.mjs")], cwd: repoRoot });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe("42");
  });

  it("keep working under the 0.1 form node --experimental-loader esem-bridge/loader", async () => {
    const result = await runNode(script, [], 20_000, { nodeArgs: ["--no-warnings", "--experimental-loader", dist("loader.mjs")] });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(expected);
  });

  it("work in a script started by esem run", async () => {
    const result = await runNode(dist("cli.js"), ["run", script]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(expected);
  });
});

describe("the esem command", () => {
  it("prints the version alone with --version", async () => {
    const result = await runNode(dist("cli.js"), ["--version"]);
    expect(result.stdout).toBe(`${version}\n`);
  });

  it("prints help with --help and says what to do on an unknown command", async () => {
    const help = await runNode(dist("cli.js"), ["--help"]);
    expect(help.stdout).toContain("esem run <file.js>");
    expect(help.stdout).toContain("esem build-addon");
    const bad = await runNode(dist("cli.js"), ["frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  });
});

describe("esem doctor", () => {
  it("reports the interpreter, libpython, addon and a working native mode, exit 0", async () => {
    const result = await runNode(dist("cli.js"), ["doctor"], 30_000);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^interpreter +\S+ \(chosen by /m);
    expect(result.stdout).toMatch(/^libpython +\S*libpython3\.\d+/m);
    expect(result.stdout).toMatch(/^addon +\S+\.node \((prebuilt|built from source)\)/m);
    expect(result.stdout).toMatch(/^native mode +works: CPython 3\.\d+/m);
    expect(result.stdout).toMatch(/^numpy +/m);
  });

  it("says auto falls back to the subprocess mode, exit 0, when only the native mode cannot work", async () => {
    const env = { ...process.env, ESEM_ADDON: "/nonexistent/esem_bridge.node" };
    const result = await runNode(dist("cli.js"), ["doctor"], 30_000, { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^addon +the addon that ESEM_ADDON names does not load .*Unset ESEM_ADDON.*\n +fix: unset ESEM_ADDON/m);
    expect(result.stdout).toMatch(/^subprocess +works: CPython 3\.\d+/m);
    expect(result.stdout).toMatch(/^mode +subprocess \(auto falls back/m);
  });

  it("honours ESEM_MODE as the app would: the settings, the mode the app gets, exit 1 when that cannot work", async () => {
    const sub = await runNode(dist("cli.js"), ["doctor"], 30_000, { env: { ...process.env, ESEM_MODE: "subprocess" } });
    expect(sub.code, sub.stdout + sub.stderr).toBe(0);
    expect(sub.stdout).toMatch(/^settings +ESEM_MODE=subprocess/m);
    expect(sub.stdout).toMatch(/^subprocess +works: CPython 3\.\d+/m);
    expect(sub.stdout).toMatch(/^mode +subprocess \(ESEM_MODE=subprocess\)$/m);
    const native = await runNode(dist("cli.js"), ["doctor"], 30_000, { env: { ...process.env, ESEM_MODE: "native", ESEM_ADDON: "/nonexistent/esem_bridge.node" } });
    expect(native.code).toBe(1);
    expect(native.stdout).not.toMatch(/^subprocess +works/m); // native never falls back
    expect(native.stdout).toMatch(/^mode +none: ESEM_MODE=native and the native mode cannot work here/m);
    expect(native.stdout).toMatch(/fix: fix the problems above, or unset ESEM_MODE/);
    const bogus = await runNode(dist("cli.js"), ["doctor"], 30_000, { env: { ...process.env, ESEM_MODE: "fast" } });
    expect(bogus.code).toBe(1);
    expect(bogus.stdout).toMatch(/^ESEM_MODE +"fast" is not a mode/m);
  });

  it("names the problem and its fix and exits 1 when the interpreter does not exist", async () => {
    const env = { ...process.env, ESEM_PYTHON: "/nonexistent/python3" };
    const result = await runNode(dist("cli.js"), ["doctor"], 30_000, { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('"/nonexistent/python3" (chosen by ESEM_PYTHON) was not found');
    expect(result.stdout).toMatch(/fix: install CPython 3\.8-3\.15 or set ESEM_PYTHON/);
    expect(result.stdout).toMatch(/^mode +none works/m);
  });
});

describe("esem bench", () => {
  it("prints one table of both modes with the native/subprocess ratio", async () => {
    const result = await runNode(dist("cli.js"), ["bench"], 60_000);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^native: CPython 3\.\d+/m);
    expect(result.stdout).toMatch(/^subprocess: CPython 3\.\d+/m);
    expect(result.stdout).toMatch(/^awaited call \(µs\) +[\d.]+ +[\d.]+ +[\d.]+$/m);
    expect(result.stdout).toMatch(/^concurrent calls \(calls\/s\) +\d+ k +\d+ k +[\d.]+$/m);
  });
});
