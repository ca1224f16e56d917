// Chooses the Python interpreter (SPEC 6) and asks it about itself.
// Static, never `await import()`: a module load on python()'s path can
// deadlock with the module hooks of esem-bridge/register (see register.ts).
import { existsSync, readFileSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { BridgeError } from "./errors.js";
import { pythonRuntimeDir } from "./paths.js";
import { fnv64, readEntry, usableCacheFolder, writeEntry, type InterpreterFile } from "./probe-cache.js";
import { SUPPORTED_RANGE } from "./python-support.js";

export { embedProblem, supportProblem } from "./python-support.js";

export interface PythonInfo {
  version: string;
  versionInfo: [number, number];
  implementation: string;
  executable: string;
  prefix: string;
  basePrefix: string;
  inVenv: boolean;
  sysPath: string[];
  shared: boolean;
  /** A Py_GIL_DISABLED build (ABI flag "t", libpython3.13t.so). */
  freeThreaded: boolean;
  /** sys._is_gil_enabled() when the probe ran (absent in entries cached by 0.2.0). */
  gilEnabled?: boolean;
  /** sys.abiflags: "", "t", "d", "td" (absent in entries cached by 0.2.0). */
  abiflags?: string;
  debug: boolean;
  libraries: string[];
}

export interface PythonChoice {
  /** What to run: a path or a command name looked up on PATH. */
  command: string;
  /** Why this one: "option", "ESEM_PYTHON", "VIRTUAL_ENV", "CONDA_PREFIX", ".venv", "PATH". */
  source: string;
}

const isWindows = process.platform === "win32";

function envInterpreter(prefix: string): string {
  return isWindows ? join(prefix, "python.exe") : join(prefix, "bin", "python");
}

function venvInterpreter(prefix: string): string {
  return isWindows ? join(prefix, "Scripts", "python.exe") : join(prefix, "bin", "python");
}

/** explicit option > ESEM_PYTHON > VIRTUAL_ENV > CONDA_PREFIX > ./.venv > python3 on PATH. */
export function choosePython(explicit: string | undefined, cwd: string): PythonChoice {
  if (explicit) return { command: explicit, source: "option" };
  const env = process.env;
  if (env.ESEM_PYTHON) return { command: env.ESEM_PYTHON, source: "ESEM_PYTHON" };
  if (env.VIRTUAL_ENV) return { command: venvInterpreter(env.VIRTUAL_ENV), source: "VIRTUAL_ENV" };
  if (env.CONDA_PREFIX) return { command: envInterpreter(env.CONDA_PREFIX), source: "CONDA_PREFIX" };
  const local = venvInterpreter(join(cwd, ".venv"));
  if (existsSync(local)) return { command: local, source: ".venv" };
  return { command: isWindows ? "python" : "python3", source: "PATH" };
}

const probes = new Map<string, Promise<PythonInfo>>();

/** Runs the interpreter once (per process and cwd) to learn its version, paths and libpython. */
export function probePython(choice: PythonChoice, cwd: string): Promise<PythonInfo> {
  const key = `${choice.command}\0${cwd}`;
  let found = probes.get(key);
  if (!found) {
    found = probeWithCache(choice, cwd);
    probes.set(key, found);
    found.catch(() => probes.delete(key));
  }
  return found;
}

// --- on-disk cache ---------------------------------------------------------
// Running the interpreter costs 40-120 ms (a pyenv shim alone ~80 ms), most
// of a first call. The answer depends only on the interpreter file and the
// environment that selects or configures it, so it is cached under a key of
// exactly those; a changed interpreter (mtime/size) misses. sys.path from a
// stale entry is harmless: the embedded interpreter computes its own path
// and only missing entries are added. ESEM_PROBE_CACHE=0 turns it off.
// Where it lives and when an entry is trusted: src/probe-cache.ts.

const CACHE_FORMAT = "3"; // 3: gilEnabled, abiflags

function findOnPath(command: string): string | null {
  if (isAbsolute(command) || command.includes("/") || command.includes("\\")) return resolve(command);
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** pyenv picks the version from PYENV_VERSION, the nearest .python-version, then $PYENV_ROOT/version. */
function pyenvSelection(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const local = readText(join(dir, ".python-version"));
    if (local) return local;
    if (dirname(dir) === dir) break;
  }
  return readText(join(process.env.PYENV_ROOT ?? join(process.env.HOME ?? "", ".pyenv"), "version"));
}

/** The interpreter file a choice runs, and where its probe is cached; null when it is not cached. */
function cacheFile(choice: PythonChoice, cwd: string): { path: string; interpreter: InterpreterFile } | null {
  if (process.env.ESEM_PROBE_CACHE === "0") return null;
  const file = findOnPath(choice.command);
  if (!file) return null;
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return null;
  }
  const env = process.env;
  const parts = [CACHE_FORMAT, file, stat.mtimeMs, stat.size, env.PYTHONPATH, env.PYTHONHOME, env.PYTHONNOUSERSITE,
    env.PYTHONUSERBASE, env.VIRTUAL_ENV, env.CONDA_PREFIX, env.PYENV_VERSION];
  if (/[\\/]shims[\\/]/.test(file)) parts.push(pyenvSelection(cwd));
  const folder = usableCacheFolder();
  if (!folder) return null;
  return { path: join(folder, `probe-${fnv64(parts.join("\0"))}.json`), interpreter: { path: file, stat } };
}

/** Where the probe of this choice is cached, or null when it is not cached. */
export function probeCachePath(choice: PythonChoice, cwd: string): string | null {
  return cacheFile(choice, cwd)?.path ?? null;
}

/** The cached probe of this choice, if any (no process is started). */
export function cachedProbe(choice: PythonChoice, cwd: string): PythonInfo | null {
  const found = cacheFile(choice, cwd);
  return found ? readEntry<PythonInfo>(found.path, found.interpreter) : null;
}

async function probeWithCache(choice: PythonChoice, cwd: string): Promise<PythonInfo> {
  const found = cacheFile(choice, cwd);
  const cached = found ? readEntry<PythonInfo>(found.path, found.interpreter) : null;
  if (cached) return cached;
  const info = await runProbe(choice, cwd);
  if (found) writeEntry(found.path, found.interpreter, info);
  return info;
}

async function runProbe(choice: PythonChoice, cwd: string): Promise<PythonInfo> {
  const script = join(pythonRuntimeDir, "esem_bridge", "probe.py");
  return new Promise((resolve, reject) => {
    // node:child_process on first use: a cached probe never loads it.
    (require("node:child_process") as typeof import("node:child_process")).execFile(choice.command, [script], { cwd, timeout: 30_000, windowsHide: true }, (error, stdout, stderr) => {
      if (error) {
        const how = (error as NodeJS.ErrnoException).code === "ENOENT" ? "was not found" : `failed (${error.message.split("\n")[0].trim()})`; // its stderr follows once, below
        reject(
          new BridgeError(
            "ESEM_NO_PYTHON",
            `Python interpreter "${choice.command}" (chosen by ${choice.source}) ${how}. ` +
              `Install Python ${SUPPORTED_RANGE}, or point at one with createBridge({ python }) or ESEM_PYTHON=/path/to/python3.` +
              (stderr ? `\n${String(stderr).trim()}` : ""),
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(String(stdout).trim().split("\n").pop() ?? "") as PythonInfo);
      } catch (cause) {
        reject(
          new BridgeError("ESEM_NO_PYTHON", `"${choice.command}" did not answer like a Python 3 interpreter: ${String(stdout).slice(0, 200)}`, { cause }),
        );
      }
    });
  });
}
