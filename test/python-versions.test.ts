// One build of the addon serves every CPython 3.8-3.15 (SPEC §6), and an
// interpreter it cannot serve gets a clear answer. This file picks up ANY
// interpreter it finds (every folder of pyenv's versions, python2.x and
// python3.x on PATH including free-threaded "t" names, /usr/bin/python3),
// asks each what it is, and checks what the bridge must do with it:
// - supported and embeddable: the native smoke test passes;
// - older than 3.8: "Python X is not supported" (ESEM_NO_PYTHON) in both modes;
// - anything else (free-threaded, newer than 3.15, no shared libpython):
//   auto falls back to the subprocess mode, saying why, and works there.
// One child process per interpreter (one interpreter per process).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { embedProblem, supportProblem } from "../src/python-support.ts";
import { childScript, fixture, repoRoot, runNode } from "./helpers.ts";
import { fakePython } from "./fake-python.ts";

interface Found {
  command: string;
  version: string;
  executable: string;
  embed: string | null;
  support: string | null;
}

function candidates(): string[] {
  const out: string[] = [];
  const root = process.env.PYENV_ROOT ?? path.join(process.env.HOME ?? "/root", ".pyenv");
  const versions = path.join(root, "versions");
  if (existsSync(versions)) {
    for (const v of readdirSync(versions).sort()) {
      for (const exe of ["python3", "python"]) {
        const file = path.join(versions, v, "bin", exe);
        if (existsSync(file)) {
          out.push(file);
          break;
        }
      }
    }
  }
  const names = ["python2", "python2.7", "python3"];
  for (let minor = 0; minor <= 20; minor++) names.push(`python3.${minor}`, `python3.${minor}t`);
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir || /[\\/]shims$/.test(dir)) continue; // pyenv's shims run the versions above
    for (const name of names) {
      const file = path.join(dir, name);
      if (existsSync(file)) out.push(file);
    }
  }
  if (existsSync("/usr/bin/python3")) out.push("/usr/bin/python3");
  return out;
}

/** Every distinct interpreter found, by what it says of itself (sys.executable). */
function interpreters(): Found[] {
  const byExecutable = new Map<string, Found>();
  for (const command of candidates()) {
    let info;
    try {
      const text = execFileSync(command, [path.join(repoRoot, "python", "esem_bridge", "probe.py")], {
        timeout: 20_000,
        stdio: ["ignore", "pipe", "ignore"],
      }).toString();
      info = JSON.parse(text.trim().split("\n").pop()!);
    } catch {
      continue; // not an interpreter after all (a broken link, a wrapper that fails)
    }
    const key = realpathSync(info.executable); // /bin/python3 and /usr/bin/python3.11 are one interpreter
    if (byExecutable.has(key)) continue;
    byExecutable.set(key, { command, version: info.version, executable: info.executable, embed: embedProblem(info), support: supportProblem(info) });
  }
  return [...byExecutable.values()];
}

const found = interpreters();
const embeddable = found.filter((f) => f.embed === null);
const tooOld = found.filter((f) => f.support !== null);
const fallback = found.filter((f) => f.embed !== null && f.support === null);
console.log(`interpreters found: ${found.map((f) => `${f.version} (${f.command})`).join(", ") || "none"}`);

const smoke = { add: 5, method: 3.58, big: String(2n ** 70n + 1n), text: "😀\0", error: "PythonError(TypeError)" };

describe("the same addon build under each CPython on this machine", () => {
  if (embeddable.length === 0) {
    it.skip("is not tested: no embeddable CPython 3.8-3.15 found", () => {});
    return;
  }
  it.each(embeddable.map((f) => [f.version, f.command]))("passes the smoke test natively with Python %s (%s)", async (_v, exe) => {
    const result = await runNode(childScript("version-smoke.mjs"), [fixture()], 30_000, {
      env: { ...process.env, ESEM_PYTHON: exe },
    });
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout.trim());
    console.log(`python ${out.version} (${exe}, ${out.libpython}): ok`);
    expect(out).toMatchObject({ mode: "native", ...smoke });
  });
});

describe("an interpreter older than 3.8", () => {
  if (tooOld.length === 0) {
    it.skip("is not tested: no Python 2.x or 3.0-3.7 found here", () => {});
    return;
  }
  it.each(tooOld.map((f) => [f.version, f.command]))(
    "(Python %s, %s) is refused as not supported in every mode, without a traceback",
    async (version, exe) => {
      const result = await runNode(childScript("version-refused.mjs"), [], 30_000, { env: { ...process.env, ESEM_PYTHON: exe } });
      expect(result.code, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout.trim());
      for (const mode of ["native", "subprocess", "auto"]) {
        expect(out[mode], mode).toMatchObject({ name: "BridgeError", code: "ESEM_NO_PYTHON" });
        expect(out[mode].message, mode).toContain(`Python ${version} ("${exe}", chosen by ESEM_PYTHON) is not supported`);
        expect(out[mode].message, mode).toContain("3.8 or newer");
        expect(out[mode].message, mode).not.toContain("Traceback");
      }
      expect(result.stderr).not.toContain("Traceback");
      const doctor = await runNode(path.join(repoRoot, "dist", "cli.js"), ["doctor"], 30_000, { env: { ...process.env, ESEM_PYTHON: exe } });
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(new RegExp(`^embeddable +Python ${version.replace(/\./g, "\\.")} is not supported`, "m"));
      expect(doctor.stdout).toMatch(/^subprocess +does not work: .*is not supported/m);
      expect(doctor.stdout).toMatch(/^mode +none works/m);
    },
  );
});

describe("an interpreter the native mode cannot embed but the worker can run", () => {
  it.each(fallback.map((f) => [f.version, f.command, f.embed]))(
    "(Python %s, %s) runs in the subprocess mode under auto, which says why",
    async (_v, exe, why) => {
      const result = await runNode(childScript("version-smoke.mjs"), [fixture(), "auto"], 30_000, {
        env: { ...process.env, ESEM_PYTHON: exe },
      });
      expect(result.code, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout.trim());
      expect(out).toMatchObject({ mode: "subprocess", ...smoke });
      expect(out.reason).toContain(String(why).slice(0, 40));
    },
  );

  // No free-threaded build can be installed here: a fake one (the real
  // interpreter whose probe says Py_GIL_DISABLED) shows the fallback and its reason.
  const dir = mkdtempSync(path.join(tmpdir(), "esem-fake-python-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const real = embeddable[0]?.executable;
  it.skipIf(!real || process.platform === "win32")(
    "a free-threaded build (a fake one) runs in the subprocess mode under auto, and info().reason says why",
    async () => {
      const exe = fakePython(dir, "python3.13t", real!, { freeThreaded: true, gilEnabled: false, abiflags: "t" });
      const result = await runNode(childScript("version-smoke.mjs"), [fixture(), "auto"], 30_000, {
        env: { ...process.env, ESEM_PYTHON: exe },
      });
      expect(result.code, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout.trim());
      expect(out).toMatchObject({ mode: "subprocess", ...smoke });
      expect(out.reason).toContain("free-threaded build (Py_GIL_DISABLED)");
      expect(out.reason).toContain("object header");
      const native = await runNode(childScript("version-refused.mjs"), [], 30_000, { env: { ...process.env, ESEM_PYTHON: exe } });
      const refused = JSON.parse(native.stdout.trim());
      expect(refused.native).toMatchObject({ code: "ESEM_NO_PYTHON" });
      expect(refused.native.message).toContain("free-threaded");
      expect(refused.subprocess).toEqual({ started: "subprocess" });
      const doctor = await runNode(path.join(repoRoot, "dist", "cli.js"), ["doctor"], 30_000, { env: { ...process.env, ESEM_PYTHON: exe } });
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(doctor.stdout).toMatch(/^python +cpython \S+ \(free-threaded build, GIL off\)/m);
      expect(doctor.stdout).toMatch(/^embeddable +Python \S+ is a free-threaded build \(Py_GIL_DISABLED\)/m);
      expect(doctor.stdout).toMatch(/^mode +subprocess \(auto falls back/m);
    },
  );

  it.skipIf(!real || process.platform === "win32")(
    "a CPython newer than 3.15 (a fake 3.16) runs in the subprocess mode under auto, which names the override",
    async () => {
      const exe = fakePython(dir, "python3.16", real!, { version: "3.16.0", versionInfo: [3, 16] });
      const result = await runNode(childScript("version-smoke.mjs"), [fixture(), "auto"], 30_000, {
        env: { ...process.env, ESEM_PYTHON: exe },
      });
      expect(result.code, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout.trim());
      expect(out.mode).toBe("subprocess");
      expect(out.reason).toContain("Python 3.16.0 is newer than the 3.8-3.15");
      expect(out.reason).toContain("ESEM_ALLOW_NEWER_PYTHON=1");
    },
  );
});
