// The addon's own handling of the libpython it loads (native/py_api.cc
// AbiProblem, native/interpreter.cc), behind the probe's checks: a library
// the probe misdescribed (or a stale cache) must be refused with a reason,
// never used; a library with PEP 741's functions must be started through
// them. Neither a free-threaded libpython nor a 3.14 exists here, so they
// are made: small libraries that depend on the real libpython and add what
// those builds have (_Py_MergeZeroLocalRefcount, which only Py_GIL_DISABLED
// builds define; the PyInitConfig functions). Every other symbol resolves
// through the dependency, as it would in the real build.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { childScript, fixture, repoRoot, runNode, skipReason } from "./helpers.ts";
import { fakePython } from "./fake-python.ts";

const hasCc = process.platform === "linux" && spawnSync("cc", ["--version"]).status === 0;
const probe = (exe: string) =>
  JSON.parse(execFileSync(exe, [path.join(repoRoot, "python", "esem_bridge", "probe.py")]).toString().trim().split("\n").pop()!);

describe.skipIf(!hasCc || skipReason("native") !== null)("the addon's check of the libpython it loads", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "esem-abi-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const real = probe("python3");

  async function refusals(libraries: string[], env: NodeJS.ProcessEnv = {}) {
    const exe = fakePython(dir, `python-${path.basename(libraries[0])}`, real.executable, { libraries });
    const result = await runNode(childScript("version-refused.mjs"), [], 30_000, { env: { ...process.env, ...env, ESEM_PYTHON: exe } });
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout.trim());
  }

  /** A library named like a libpython: `sources` linked over the real libpython. */
  function buildOverRealLibpython(name: string, source: string): string {
    const lib = path.join(dir, name);
    const libpython = real.libraries[0];
    // --no-as-needed: keep the dependency although nothing of it may be called.
    execFileSync("cc", ["-shared", "-fPIC", "-o", lib, source, "-Wl,--no-as-needed", libpython, `-Wl,-rpath,${path.dirname(libpython)}`]);
    return lib;
  }

  // 3.14's PEP 741 functions, faked over this machine's libpython
  // (test/fixtures/native/fake_initconfig.c): the addon's calls, option
  // names and error path are checked; CPython 3.14 itself is not here.
  it("starts Python through PyInitConfig when the library has it, with the options of the 3.8-3.13 start-up", async () => {
    const lib = buildOverRealLibpython(`libpython${real.versionInfo.join(".")}-initconfig.so`, fixture("native", "fake_initconfig.c"));
    const log = path.join(dir, "initconfig.log");
    const exe = fakePython(dir, "python-initconfig", real.executable, { libraries: [lib] });
    const result = await runNode(childScript("version-smoke.mjs"), [fixture(), "native"], 30_000, {
      env: { ...process.env, ESEM_PYTHON: exe, ESEM_FAKE_INITCONFIG_LOG: log },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ mode: "native", libpython: lib, add: 5, error: "PythonError(TypeError)" });
    expect(readFileSync(log, "utf8").trim().split("\n").sort()).toEqual([
      "configure_locale=1", "install_signal_handlers=0", "isolated=0", "parse_argv=0",
      `program_name=${real.executable}`, "use_environment=1", "user_site_directory=1",
    ]);
    const refused = await refusals([lib], { ESEM_FAKE_INITCONFIG_FAIL: "user_site_directory" });
    expect(refused.native).toMatchObject({ code: "ESEM_NO_PYTHON" });
    expect(refused.native.message).toContain("did not start: refused on purpose: user_site_directory");
  });

  it("refuses a free-threaded libpython with the reason, and auto then runs the worker", async () => {
    const source = path.join(dir, "ft.c");
    writeFileSync(source, "void _Py_MergeZeroLocalRefcount(void *op) { (void)op; }\n");
    const lib = buildOverRealLibpython(`libpython${real.versionInfo.join(".")}t.so`, source);
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
