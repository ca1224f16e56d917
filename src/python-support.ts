// Which Pythons the bridge supports, in which mode, and the words for the
// ones it does not (SPEC §6; the audit behind the numbers is
// docs/python-versions.md). Pure functions of the probe's answer, so the
// version logic is unit-tested without the interpreters themselves.
import { BridgeError } from "./errors.js";

/** The oldest Python either mode runs: python/esem_bridge needs 3.8 (and the worker's start checks it too). */
export const OLDEST: readonly [number, number] = [3, 8];
/** The newest Python whose C-API the native mode was checked against. */
export const NEWEST_NATIVE: readonly [number, number] = [3, 15];
/** Lets the native mode try a CPython newer than NEWEST_NATIVE. */
export const ALLOW_NEWER_ENV = "ESEM_ALLOW_NEWER_PYTHON";

/** What the checks read from the probe (src/python-probe.ts PythonInfo). */
export interface PythonFacts {
  version: string;
  versionInfo: [number, number];
  implementation: string;
  shared: boolean;
  freeThreaded: boolean;
  gilEnabled?: boolean;
  debug: boolean;
  libraries: string[];
  executable: string;
}

const range = `${OLDEST.join(".")}-${NEWEST_NATIVE.join(".")}`;
/** The supported range, for messages: "3.8-3.15". */
export const SUPPORTED_RANGE = range;

function older([major, minor]: readonly [number, number], [m, n]: readonly [number, number]): boolean {
  return major < m || (major === m && minor < n);
}

/** Why neither mode can use this Python (too old), or null. */
export function supportProblem(facts: Pick<PythonFacts, "version" | "versionInfo">): string | null {
  if (older(facts.versionInfo, OLDEST)) {
    return `Python ${facts.version} is not supported: esem-bridge needs Python ${OLDEST.join(".")} or newer`;
  }
  return null;
}

/** The rejection for a Python that neither mode can use. */
export function unsupportedError(version: string, command: string, source: string): BridgeError {
  return new BridgeError(
    "ESEM_NO_PYTHON",
    `Python ${version} ("${command}", chosen by ${source}) is not supported: esem-bridge needs Python ` +
      `${OLDEST.join(".")} or newer. Install CPython ${range}, and point at it with createBridge({ python }) ` +
      `or ESEM_PYTHON=/path/to/python3.`,
  );
}

/** Why the native mode cannot embed this interpreter, or null when it can be tried. */
export function embedProblem(facts: PythonFacts, env: NodeJS.ProcessEnv = process.env): string | null {
  const unsupported = supportProblem(facts);
  if (unsupported) return unsupported;
  if (facts.implementation !== "cpython") return `${facts.implementation} is not CPython; only CPython can be embedded`;
  if (older(NEWEST_NATIVE, facts.versionInfo) && env[ALLOW_NEWER_ENV] !== "1") {
    return `Python ${facts.version} is newer than the ${range} the native mode was checked against ` +
      `(set ${ALLOW_NEWER_ENV}=1 to try it natively)`;
  }
  if (facts.freeThreaded) {
    const gil = facts.gilEnabled ? ", even with its GIL turned back on" : "";
    return `Python ${facts.version} is a free-threaded build (Py_GIL_DISABLED)${gil}: its object header ` +
      `(32 bytes, ob_type at offset 24) is not the 16-byte one the native mode reads, and its threads run ` +
      `without the GIL the native mode relies on; use a regular build for the native mode`;
  }
  if (facts.debug) return `Python ${facts.version} is a debug build, whose object layout the native mode does not support`;
  if (!facts.shared || facts.libraries.length === 0) {
    return `${facts.executable} has no shared libpython (it was built without --enable-shared); ` +
      `rebuild it with PYTHON_CONFIGURE_OPTS=--enable-shared (pyenv) or install your distribution's libpython3.X package`;
  }
  return null;
}

// The subprocess worker checks the version before it imports anything
// (src/subprocess-worker.ts BOOT) and exits with this code, after writing
// one line "esem-bridge: unsupported Python X.Y.Z" to stderr.
export const UNSUPPORTED_EXIT_CODE = 78;
const UNSUPPORTED_LINE = /esem-bridge: unsupported Python (\d+\.\d+\.\d+)/;

/** The version an old worker reported before exiting, or null. */
export function unsupportedVersionIn(stderr: string): string | null {
  return UNSUPPORTED_LINE.exec(stderr)?.[1] ?? null;
}

/**
 * The worker's first lines: 2.7 and 3.0-3.7 must parse them, so they use
 * no syntax newer than Python 2.6.
 */
export const VERSION_GATE =
  "import sys\n" +
  `if sys.version_info[:2] < (${OLDEST[0]}, ${OLDEST[1]}):\n` +
  "    sys.stderr.write('esem-bridge: unsupported Python %d.%d.%d\\n' % tuple(sys.version_info[:3]))\n" +
  `    sys.exit(${UNSUPPORTED_EXIT_CODE})\n`;
