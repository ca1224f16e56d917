// The on-disk cache of interpreter probes, and the rule that makes an entry
// safe to trust (docs/security.md): the libraries an entry names are
// dlopen'ed and its interpreter is spawned, so an entry another local user
// could have written must never be used.
//
// - The folder is per user: $XDG_CACHE_HOME/esem-bridge or ~/.cache/esem-bridge
//   (Linux), ~/Library/Caches/esem-bridge (macOS), %LOCALAPPDATA%\esem-bridge
//   (Windows); without a home, <tmpdir>/esem-bridge-<uid>. Created 0700.
// - POSIX: the folder must be a real directory (not a symlink) owned by the
//   current user and not writable by group or others; each entry a regular
//   file (opened without following symlinks) with the same owner and
//   permissions. Entries are written 0600. Anything else is ignored: the
//   interpreter is probed again.
// - The entry must be for this interpreter file (path, mtime, size), and what
//   it names must still be what the probe found: the executable with the
//   recorded mtime and size, libraries that exist as regular files named
//   like libpython, none writable by group or others.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";

const isWindows = process.platform === "win32";
const FORMAT = "2";

/** The interpreter file an entry is for: the command resolved on PATH. */
export interface InterpreterFile {
  path: string;
  stat: Stats;
}

interface Entry {
  format: string;
  interpreter: string;
  interpreterMtime: number;
  interpreterSize: number;
  executableMtime: number;
  executableSize: number;
  info: { executable: string; libraries: string[] } & Record<string, unknown>;
}

function currentUid(): number {
  return typeof process.getuid === "function" ? process.getuid() : -1;
}

/** Where this user's cache lives, best first: the platform's cache folder, then a private temp folder. */
export function cacheFolders(): string[] {
  return [...candidateFolders()];
}

// The temp folder is worked out only when it is reached (os.tmpdir() costs ~0.4 ms of a start).
function* candidateFolders(): Generator<string> {
  const env = process.env;
  if (isWindows) {
    if (env.LOCALAPPDATA && isAbsolute(env.LOCALAPPDATA)) yield join(env.LOCALAPPDATA, "esem-bridge");
  } else if (process.platform === "darwin") {
    if (env.HOME) yield join(env.HOME, "Library", "Caches", "esem-bridge");
  } else if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) {
    yield join(env.XDG_CACHE_HOME, "esem-bridge");
  } else if (env.HOME) {
    yield join(env.HOME, ".cache", "esem-bridge");
  }
  yield join((require("node:os") as typeof import("node:os")).tmpdir(), `esem-bridge-${isWindows ? (env.USERNAME ?? "user") : currentUid()}`);
}

/** 64-bit FNV-1a (two 32-bit lanes) as hex: a file name, not a security hash. */
export function fnv64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ (a >>> 7), 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/** Owned by this user and writable by nobody else (always true on Windows, where folders are per-user ACLs). */
function ownedAndPrivate(stat: Stats, uid = currentUid()): boolean {
  if (isWindows) return true;
  return stat.uid === uid && (stat.mode & 0o022) === 0;
}

function trustedFolder(path: string): boolean {
  try {
    const stat = lstatSync(path);
    return stat.isDirectory() && ownedAndPrivate(stat);
  } catch {
    return false;
  }
}

/** The first cache folder that exists or can be made and passes the rule, or null (then nothing is cached). */
export function usableCacheFolder(): string | null {
  for (const folder of candidateFolders()) {
    try {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
    } catch {
      continue;
    }
    // A folder that exists but fails the rule is not replaced by the next
    // one: someone else made it, and the user should know (esem doctor).
    return trustedFolder(folder) ? folder : null;
  }
  return null;
}

/** Reads an entry only if it is a private regular file of this user's (no symlink is followed). */
export function readPrivate(path: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || !ownedAndPrivate(stat)) return null;
    return readFileSync(fd);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** A regular file (symlinks followed) that nobody but its owner can change. */
function soundFile(path: unknown): Stats | null {
  if (typeof path !== "string" || !isAbsolute(path)) return null;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return null;
    if (!isWindows && (stat.mode & 0o022) !== 0) return null;
    return stat;
  } catch {
    return null;
  }
}

const LIBPYTHON = /python/i; // libpython3.11.so.1.0, python311.dll, Python.framework/Python

function validEntry(entry: Entry, interpreter: InterpreterFile): boolean {
  if (entry.format !== FORMAT || entry.interpreter !== interpreter.path) return false;
  if (entry.interpreterMtime !== interpreter.stat.mtimeMs || entry.interpreterSize !== interpreter.stat.size) return false;
  const info = entry.info;
  if (!info || typeof info !== "object" || !Array.isArray(info.libraries)) return false;
  const executable = soundFile(info.executable);
  if (!executable || executable.mtimeMs !== entry.executableMtime || executable.size !== entry.executableSize) return false;
  return info.libraries.every((lib) => soundFile(lib) !== null && LIBPYTHON.test(basename(lib)));
}

/** The cached probe at `path`, if it passes the rule (see the top of this file). */
export function readEntry<T>(path: string, interpreter: InterpreterFile): T | null {
  const dir = dirname(path);
  if (!trustedFolder(dir)) return null;
  const bytes = readPrivate(path);
  if (bytes === null) return null;
  try {
    const entry = JSON.parse(bytes.toString("utf8")) as Entry;
    return validEntry(entry, interpreter) ? (entry.info as T) : null;
  } catch {
    return null;
  }
}

/** Writes an entry 0600 (a fresh file, renamed into place) when the folder passes the rule. */
export function writeEntry(path: string, interpreter: InterpreterFile, info: { executable: string; libraries: string[] }): void {
  let executable: Stats;
  try {
    executable = statSync(info.executable);
  } catch {
    return;
  }
  const entry: Entry = {
    format: FORMAT,
    interpreter: interpreter.path,
    interpreterMtime: interpreter.stat.mtimeMs,
    interpreterSize: interpreter.stat.size,
    executableMtime: executable.mtimeMs,
    executableSize: executable.size,
    info: info as Entry["info"],
  };
  writePrivate(path, JSON.stringify(entry));
}

/** Writes a file 0600 (a fresh file, renamed into place) when its folder passes the rule; a failure only costs time. */
export function writePrivate(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  if (!trustedFolder(dir)) return;
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    try {
      writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch {
    // A cache that cannot be written only costs time.
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
  }
}

/** `<cache folder>/<name>`, made 0700 if need be, when it passes the rule; else null. */
export function privateSubfolder(name: string): string | null {
  const folder = usableCacheFolder();
  if (!folder) return null;
  const sub = join(folder, name);
  try {
    mkdirSync(sub, { mode: 0o700 });
  } catch {
    // there already, or not makeable: the check says which
  }
  return trustedFolder(sub) ? sub : null;
}

/**
 * The private folder for the compiled code of the esem_bridge package
 * (python/esem_bridge/bytecode_cache.py), or "" when there is none or
 * ESEM_BYTECODE_CACHE=0: then Python's own rules apply (no bytecode is kept
 * under PYTHONDONTWRITEBYTECODE or in a read-only install).
 */
export function bytecodeCacheFolder(): string {
  if (process.env.ESEM_BYTECODE_CACHE === "0") return "";
  const folder = usableCacheFolder();
  return folder ? join(folder, "bytecode") : "";
}
