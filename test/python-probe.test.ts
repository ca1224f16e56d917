// Choosing the interpreter (SPEC §6): the precedence order, a real venv's
// site-packages, the probe cache, and interpreters native mode refuses.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { choosePython, embedProblem, probePython } from "../src/python-probe.ts";
import { createBridge } from "../src/index.ts";
import { childScript, expectBridgeError, rejectionOf, runNode } from "./helpers.ts";

const saved = { ...process.env };
function withEnv(vars: Record<string, string | undefined>, fn: () => void): void {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    fn();
  } finally {
    for (const k of Object.keys(vars)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

describe("choosePython", () => {
  const clear = { ESEM_PYTHON: undefined, VIRTUAL_ENV: undefined, CONDA_PREFIX: undefined };

  it("prefers the explicit option, then ESEM_PYTHON, VIRTUAL_ENV, CONDA_PREFIX, ./.venv and PATH", () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "esem-choose-"));
    try {
      mkdirSync(path.join(cwd, ".venv", "bin"), { recursive: true });
      writeFileSync(path.join(cwd, ".venv", "bin", "python"), "");
      const all = { ESEM_PYTHON: "/e/python", VIRTUAL_ENV: "/venv", CONDA_PREFIX: "/conda" };
      withEnv(all, () => expect(choosePython("/opt/py", cwd)).toEqual({ command: "/opt/py", source: "option" }));
      withEnv(all, () => expect(choosePython(undefined, cwd)).toEqual({ command: "/e/python", source: "ESEM_PYTHON" }));
      withEnv({ ...all, ESEM_PYTHON: undefined }, () =>
        expect(choosePython(undefined, cwd)).toEqual({ command: "/venv/bin/python", source: "VIRTUAL_ENV" }));
      withEnv({ ...clear, CONDA_PREFIX: "/conda" }, () =>
        expect(choosePython(undefined, cwd)).toEqual({ command: "/conda/bin/python", source: "CONDA_PREFIX" }));
      withEnv(clear, () =>
        expect(choosePython(undefined, cwd)).toEqual({ command: path.join(cwd, ".venv", "bin", "python"), source: ".venv" }));
      withEnv(clear, () => expect(choosePython(undefined, tmpdir())).toEqual({ command: "python3", source: "PATH" }));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe("a virtual environment", () => {
  let dir = "";
  let venvPython = "";

  beforeAll(() => {
    // A real venv made by the interpreter on PATH, with a package only it has.
    dir = mkdtempSync(path.join(tmpdir(), "esem-venv-"));
    execFileSync("python3", ["-m", "venv", "--without-pip", path.join(dir, "env")]);
    venvPython = path.join(dir, "env", "bin", "python");
    const site = execFileSync(venvPython, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).toString().trim();
    mkdirSync(path.join(site, "only_in_venv"), { recursive: true });
    writeFileSync(path.join(site, "only_in_venv", "__init__.py"), "WHERE = 'venv'\ndef hello(name):\n    return 'hello ' + name\n");
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the native bridge that venv's site-packages and sys.prefix", async () => {
    // A child process: this file's process may already run another Python.
    const result = await runNode(childScript("venv-import.mjs"), [venvPython]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["hello venv", path.join(dir, "env"), venvPython]);
  });

  it("refuses a second environment in a process that already runs its base interpreter", async () => {
    const base = createBridge({ mode: "native" });
    const venv = createBridge({ mode: "native", python: venvPython });
    try {
      await base.python("math");
      const error = expectBridgeError(await rejectionOf(venv.python("only_in_venv")), "ESEM_NO_PYTHON");
      expect(error.message).toContain("one interpreter per process");
      expect(error.message).toContain(venvPython);
    } finally {
      await base.shutdown();
      await venv.shutdown();
    }
  });
});

describe("the probe", () => {
  it("answers from its cache on the second run, with the same facts", async () => {
    const cwd = process.cwd();
    const first = await probePython({ command: "python3", source: "PATH" }, cwd);
    expect(first.sysPath.length).toBeGreaterThan(0);
    expect(existsSync(first.executable)).toBe(true);
    expect(first.libraries.length).toBeGreaterThan(0);
    expect(embedProblem(first)).toBeNull();
    const again = await probePython({ command: "python3", source: "PATH" }, cwd);
    expect(again.executable).toBe(first.executable);
    expect(again.version).toBe(first.version);
  });

  it("explains why an interpreter outside 3.8-3.13 or without a shared libpython cannot be embedded", () => {
    const base = {
      version: "3.7.16", versionInfo: [3, 7] as [number, number], implementation: "cpython", executable: "/x/python",
      prefix: "/x", basePrefix: "/x", inVenv: false, sysPath: [], shared: true, freeThreaded: false, debug: false,
      libraries: ["/x/libpython3.7m.so"],
    };
    expect(embedProblem(base)).toContain("outside the supported 3.8-3.13");
    expect(embedProblem({ ...base, version: "3.11.0", versionInfo: [3, 11], shared: false, libraries: [] })).toContain(
      "no shared libpython",
    );
    expect(embedProblem({ ...base, version: "3.13.0", versionInfo: [3, 13], freeThreaded: true })).toContain("free-threaded");
  });

  const old = "/root/.pyenv/versions/3.7.16/bin/python";
  // Only where pyenv has a 3.7.
  it.skipIf(!existsSync(old))("rejects python() in native mode with ESEM_NO_PYTHON naming an interpreter that is too old", async () => {
    const bridge = createBridge({ mode: "native", python: old });
    const error = expectBridgeError(await rejectionOf(bridge.python("math")), "ESEM_NO_PYTHON");
    expect(error.message).toContain(old);
    expect(error.message).toContain("3.8-3.13");
    await bridge.shutdown();
  });
});
