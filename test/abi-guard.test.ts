// The addon's own check of the libpython it loads (native/py_api.cc
// AbiProblem), behind the probe's: a library the probe misdescribed (or a
// stale cache) must be refused with a reason, never used. No free-threaded
// libpython exists here, so one is made: a small library that depends on
// the real libpython and adds the symbol only Py_GIL_DISABLED builds
// define (_Py_MergeZeroLocalRefcount). Every other symbol resolves through
// its dependency, as it would in a real free-threaded build.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { childScript, repoRoot, runNode, skipReason } from "./helpers.ts";
import { fakePython } from "./fake-python.ts";

const hasCc = process.platform === "linux" && spawnSync("cc", ["--version"]).status === 0;
const probe = (exe: string) =>
  JSON.parse(execFileSync(exe, [path.join(repoRoot, "python", "esem_bridge", "probe.py")]).toString().trim().split("\n").pop()!);

describe.skipIf(!hasCc || skipReason("native") !== null)("the addon's check of the libpython it loads", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "esem-abi-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const real = probe("python3");

  async function refusals(libraries: string[]) {
    const exe = fakePython(dir, `python-${path.basename(libraries[0])}`, real.executable, { libraries });
    const result = await runNode(childScript("version-refused.mjs"), [], 30_000, { env: { ...process.env, ESEM_PYTHON: exe } });
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout.trim());
  }

  it("refuses a free-threaded libpython with the reason, and auto then runs the worker", async () => {
    const source = path.join(dir, "ft.c");
    writeFileSync(source, "void _Py_MergeZeroLocalRefcount(void *op) { (void)op; }\n");
    const lib = path.join(dir, `libpython${real.versionInfo.join(".")}t.so`);
    const libpython = real.libraries[0];
    // --no-as-needed: keep the dependency although nothing of it is called here.
    execFileSync("cc", ["-shared", "-fPIC", "-o", lib, source, "-Wl,--no-as-needed", libpython, `-Wl,-rpath,${path.dirname(libpython)}`]);
    const out = await refusals([lib]);
    expect(out.native).toMatchObject({ name: "BridgeError", code: "ESEM_NO_PYTHON" });
    expect(out.native.message).toContain(`${lib}: it is a free-threaded build (Py_GIL_DISABLED)`);
    expect(out.auto).toEqual({ started: "subprocess" });
  });

  const old = path.join(process.env.HOME ?? "/root", ".pyenv", "versions", "3.7.16", "lib", "libpython3.7m.so");
  it.skipIf(!existsSync(old))("refuses a libpython older than 3.8 even when the probe claims otherwise", async () => {
    const out = await refusals([old]);
    expect(out.native).toMatchObject({ code: "ESEM_NO_PYTHON" });
    expect(out.native.message).toContain(`${old}: it is Python 3.7, which is not supported`);
  });
});
