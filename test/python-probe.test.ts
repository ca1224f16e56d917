// Choosing the interpreter (SPEC §6): the precedence order, a real venv's
// site-packages, the probe cache, and interpreters native mode refuses.
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cachedProbe, choosePython, embedProblem, probeCachePath, probePython, type PythonChoice } from "../src/python-probe.ts";
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

  it("explains why an interpreter older than 3.8, free-threaded or without a shared libpython cannot be embedded", () => {
    const base = {
      version: "3.7.16", versionInfo: [3, 7] as [number, number], implementation: "cpython", executable: "/x/python",
      prefix: "/x", basePrefix: "/x", inVenv: false, sysPath: [], shared: true, freeThreaded: false, debug: false,
      libraries: ["/x/libpython3.7m.so"],
    };
    expect(embedProblem(base)).toContain("Python 3.7.16 is not supported");
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
    expect(error.message).toContain("Python 3.7.16");
    expect(error.message).toContain("is not supported");
    await bridge.shutdown();
  });
});

describe("the probe cache", () => {
  // Each test gets its own cache folder (XDG_CACHE_HOME, and TMPDIR for the
  // fallback) and its own cwd, so the per-process memo never answers for it.
  const python3: PythonChoice = { command: "python3", source: "PATH" };
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  let root = "";
  let env: Record<string, string | undefined> = {};

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "esem-cache-test-"));
    env = { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, TMPDIR: process.env.TMPDIR, ESEM_PROBE_CACHE: process.env.ESEM_PROBE_CACHE };
    process.env.XDG_CACHE_HOME = path.join(root, "xdg");
    process.env.TMPDIR = path.join(root, "tmp");
    mkdirSync(process.env.TMPDIR);
    delete process.env.ESEM_PROBE_CACHE;
  });

  afterEach(() => {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(root, { recursive: true, force: true });
  });

  const freshCwd = () => mkdtempSync(path.join(root, "cwd-"));

  /** Probes for real (which writes a genuine entry), then overwrites that entry with a planted one. */
  type Change = (info: Record<string, unknown>, entry: Record<string, unknown>) => void;
  async function plant(change: Change, mode = 0o600): Promise<{ file: string; cwd: string }> {
    const cwd = freshCwd();
    await probePython(python3, cwd);
    const file = probeCachePath(python3, cwd);
    expect(file).not.toBeNull();
    const entry = JSON.parse(readFileSync(file!, "utf8")) as Record<string, unknown>;
    const info = (entry.info ?? entry) as Record<string, unknown>; // 0.2.0 stored the info itself
    expect(info.version).not.toBe("9.9.9");
    info.version = "9.9.9";
    change(info, entry);
    writeFileSync(file!, JSON.stringify(entry));
    chmodSync(file!, mode);
    return { file: file!, cwd };
  }

  it("uses its own entry, so the planting below is otherwise read back", async () => {
    const { cwd } = await plant(() => {});
    expect(cachedProbe(python3, cwd)?.version).toBe("9.9.9");
  });

  it("writes its entries 0600 in a 0700 folder under XDG_CACHE_HOME", async () => {
    const cwd = freshCwd();
    await probePython(python3, cwd);
    const file = probeCachePath(python3, cwd)!;
    expect(path.dirname(file)).toBe(path.join(process.env.XDG_CACHE_HOME!, "esem-bridge"));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it("falls back to a 0700 folder named with the uid under the temp folder when there is no home", async () => {
    const saved = { HOME: process.env.HOME, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
    delete process.env.XDG_CACHE_HOME;
    process.env.HOME = "";
    try {
      const cwd = freshCwd();
      await probePython(python3, cwd);
      const file = probeCachePath(python3, cwd)!;
      expect(path.dirname(file)).toBe(path.join(process.env.TMPDIR!, `esem-bridge-${process.getuid?.() ?? "user"}`));
      expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      process.env.HOME = saved.HOME;
      process.env.XDG_CACHE_HOME = saved.XDG_CACHE_HOME;
    }
  });

  it("ignores an entry that others can write (mode 666) and probes again, replacing it with a 0600 one", async () => {
    const { file, cwd } = await plant(() => {}, 0o666);
    expect(cachedProbe(python3, cwd)).toBeNull();
    const other = freshCwd(); // same entry, not yet probed in this process
    expect(probeCachePath(python3, other)).toBe(file);
    const info = await probePython(python3, other);
    expect(info.version).not.toBe("9.9.9");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).info.version).toBe(info.version);
  });

  it("ignores every entry of a cache folder that others can write (mode 777)", async () => {
    const { file, cwd } = await plant(() => {});
    chmodSync(path.dirname(file), 0o777);
    expect(cachedProbe(python3, cwd)).toBeNull();
    expect((await probePython(python3, freshCwd())).version).not.toBe("9.9.9");
  });

  it.skipIf(!isRoot)("ignores an entry owned by another user (needs root to chown; skipped otherwise)", async () => {
    const { file, cwd } = await plant(() => {});
    chownSync(file, 4242, 4242);
    expect(cachedProbe(python3, cwd)).toBeNull();
  });

  it.skipIf(!isRoot)("ignores a cache folder owned by another user (needs root to chown; skipped otherwise)", async () => {
    const { file, cwd } = await plant(() => {});
    chownSync(path.dirname(file), 4242, 4242);
    expect(cachedProbe(python3, cwd)).toBeNull();
  });

  it("ignores an entry that names a library or interpreter the probe would not report", async () => {
    const evil = path.join(root, "evil.so");
    writeFileSync(evil, "");
    const writable = path.join(root, "libpython3.so");
    writeFileSync(writable, "");
    chmodSync(writable, 0o666);
    const cases: Change[] = [
      (e) => (e.libraries = [evil]), // not a libpython
      (e) => (e.libraries = [path.join(root, "missing", "libpython3.11.so")]), // missing
      (e) => (e.libraries = [writable]), // writable by others
      (e) => (e.libraries = [root]), // not a regular file
      (e) => (e.executable = evil), // another interpreter than the one probed
    ];
    for (const change of cases) {
      const { cwd } = await plant(change);
      expect(cachedProbe(python3, cwd), String(change)).toBeNull();
    }
  });

  it("ignores an entry recorded for another size or mtime of the interpreter file", async () => {
    for (const field of ["interpreterSize", "interpreterMtime"]) {
      const { cwd } = await plant((_info, e) => (e[field] = 1));
      expect(cachedProbe(python3, cwd), field).toBeNull();
    }
  });
});
