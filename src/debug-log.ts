// ESEM_DEBUG=1 (docs/api.md#environment-variables): one stderr line per
// call into Python, when it settles: the mode, what was called, how long it
// took, and how it ended. Read once at start-up; nothing is done otherwise.
import type { AttrPath } from "./backend.js";

export const DEBUG_CALLS = /^(1|true|yes|on)$/i.test(process.env.ESEM_DEBUG ?? "");

/** `module.function`, `module.Class.method`, or the callable's own name. */
export function callName(typeName: string, path: AttrPath): string {
  if (path === null) return typeName;
  return `${typeName}.${typeof path === "string" ? path : path.join(".")}`;
}

function line(mode: string, what: string, since: number, outcome: string): void {
  process.stderr.write(`esem-bridge: ${mode} ${what} ${(performance.now() - since).toFixed(3)} ms ${outcome}\n`);
}

/** Logs the call when `pending` settles; returns it. */
export function logCall<T>(mode: string, what: string, pending: Promise<T>): Promise<T> {
  const since = performance.now();
  pending.then(
    () => line(mode, what, since, "ok"),
    (error) => line(mode, what, since, (error as Error)?.name ?? "error"),
  );
  return pending;
}

/** The same for a synchronous call (callSync). */
export function logSync<T>(mode: string, what: string, run: () => T): T {
  const since = performance.now();
  try {
    const out = run();
    line(mode, `${what} (sync)`, since, "ok");
    return out;
  } catch (error) {
    line(mode, `${what} (sync)`, since, (error as Error)?.name ?? "error");
    throw error;
  }
}
