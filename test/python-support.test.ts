// The version logic (src/python-support.ts), on the probe's answers for
// interpreters this machine may not have (3.14, 3.15, 3.16, free-threaded,
// 2.7), and the two pieces of Python that old interpreters must parse: the
// worker's version gate and the probe script, run under every old
// interpreter found here.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  embedProblem,
  supportProblem,
  unsupportedError,
  unsupportedVersionIn,
  UNSUPPORTED_EXIT_CODE,
  VERSION_GATE,
  type PythonFacts,
} from "../src/python-support.ts";
import { repoRoot } from "./helpers.ts";

const cpython = (version: string, extra: Partial<PythonFacts> = {}): PythonFacts => {
  const [major, minor] = version.split(".").map(Number);
  return {
    version, versionInfo: [major, minor], implementation: "cpython", shared: true, freeThreaded: false, gilEnabled: true,
    debug: false, libraries: [`/x/lib/libpython${major}.${minor}.so`], executable: "/x/bin/python3", ...extra,
  };
};

describe("which Pythons the bridge supports", () => {
  it("refuses 2.7 and 3.0-3.7 in every mode, and accepts 3.8 and newer", () => {
    for (const v of ["2.7.18", "3.0.1", "3.6.15", "3.7.16"]) {
      expect(supportProblem(cpython(v)), v).toBe(`Python ${v} is not supported: esem-bridge needs Python 3.8 or newer`);
      expect(embedProblem(cpython(v)), v).toContain("is not supported");
    }
    for (const v of ["3.8.0", "3.13.0", "3.14.0", "3.15.0", "3.16.0", "4.0.0"]) expect(supportProblem(cpython(v)), v).toBeNull();
  });

  it("embeds every CPython 3.8-3.15 with a shared libpython, 3.14 and 3.15 included", () => {
    for (const v of ["3.8.18", "3.11.7", "3.13.0", "3.14.0", "3.14.2", "3.15.0"]) expect(embedProblem(cpython(v), {}), v).toBeNull();
  });

  it("sends a CPython newer than 3.15 to the subprocess mode unless ESEM_ALLOW_NEWER_PYTHON=1", () => {
    expect(embedProblem(cpython("3.16.0"), {})).toContain("newer than the 3.8-3.15 the native mode was checked against");
    expect(embedProblem(cpython("4.0.0"), {})).toContain("ESEM_ALLOW_NEWER_PYTHON=1");
    expect(embedProblem(cpython("3.16.0"), { ESEM_ALLOW_NEWER_PYTHON: "1" })).toBeNull();
  });

  it("does not embed a free-threaded build, GIL on or off, and says why", () => {
    const off = embedProblem(cpython("3.14.0", { freeThreaded: true, gilEnabled: false }), {});
    expect(off).toContain("free-threaded build (Py_GIL_DISABLED)");
    expect(off).toContain("ob_type at offset 24");
    expect(off).not.toContain("turned back on");
    const on = embedProblem(cpython("3.13.1", { freeThreaded: true, gilEnabled: true }), {});
    expect(on).toContain("even with its GIL turned back on");
  });

  it("does not embed PyPy, a debug build or an interpreter without a shared libpython", () => {
    expect(embedProblem(cpython("3.10.0", { implementation: "pypy" }), {})).toContain("pypy is not CPython");
    expect(embedProblem(cpython("3.12.0", { debug: true }), {})).toContain("debug build");
    expect(embedProblem(cpython("3.12.0", { shared: false, libraries: [] }), {})).toContain("no shared libpython");
  });

  it("words the refusal of an old Python with the interpreter, what it is, and what to do", () => {
    const error = unsupportedError("2.7.18", "python2", "ESEM_PYTHON");
    expect(error.code).toBe("ESEM_NO_PYTHON");
    expect(error.message).toBe(
      'Python 2.7.18 ("python2", chosen by ESEM_PYTHON) is not supported: esem-bridge needs Python 3.8 or newer. ' +
        "Install CPython 3.8-3.15, and point at it with createBridge({ python }) or ESEM_PYTHON=/path/to/python3.",
    );
    expect(unsupportedVersionIn("noise\nesem-bridge: unsupported Python 3.6.15\n")).toBe("3.6.15");
    expect(unsupportedVersionIn("Traceback ...")).toBeNull();
  });
});

function oldInterpreters(): string[] {
  const versions = path.join(process.env.PYENV_ROOT ?? path.join(process.env.HOME ?? "/root", ".pyenv"), "versions");
  if (!existsSync(versions)) return [];
  return readdirSync(versions)
    .filter((v) => /^(2\.\d+|3\.[0-7])\.\d+$/.test(v))
    .map((v) => path.join(versions, v, "bin", "python"))
    .filter((exe) => existsSync(exe));
}

const old = oldInterpreters();
const current = execFileSync("python3", ["-c", "import sys; print(sys.executable)"]).toString().trim();

describe("the Python that old interpreters must parse", () => {
  it("lets a current Python through the worker's version gate", () => {
    const run = spawnSync(current, ["-c", VERSION_GATE + "print('past the gate')"]);
    expect(run.status, String(run.stderr)).toBe(0);
    expect(String(run.stdout).trim()).toBe("past the gate");
  });

  it.skipIf(old.length === 0).each(old)("stops %s at the worker's version gate with its version and no traceback", (exe) => {
    const run = spawnSync(exe, ["-c", VERSION_GATE + "print('past the gate')"]);
    const version = execFileSync(exe, ["-c", "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3]))"]).toString().trim();
    expect(run.status).toBe(UNSUPPORTED_EXIT_CODE);
    expect(String(run.stdout)).toBe("");
    expect(unsupportedVersionIn(String(run.stderr))).toBe(version);
    expect(String(run.stderr)).not.toContain("Traceback");
  });

  it.skipIf(old.length === 0).each(old)("runs the probe script under %s, which reports its real version", (exe) => {
    const text = execFileSync(exe, [path.join(repoRoot, "python", "esem_bridge", "probe.py")]).toString();
    const info = JSON.parse(text.trim().split("\n").pop()!);
    expect(info.implementation).toBe("cpython");
    expect(supportProblem(info)).toContain(`Python ${info.version} is not supported`);
    expect(typeof info.freeThreaded).toBe("boolean");
    expect(info.gilEnabled).toBe(true);
  });
});
