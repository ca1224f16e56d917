// withContext(cm, fn): Python's `with cm as value:` around an async JS
// callback (docs/objects.md#with). __enter__ runs first, the callback gets
// its value, __exit__ runs after it whatever happened; an exception the
// callback threw reaches __exit__ as a Python exception, and one that
// __exit__ suppresses (a truthy return) resolves the helper with undefined.
import { BridgeError, PythonError } from "./errors.js";
import { rootOf } from "./proxy.js";

/**
 * Runs `fn` inside `with cm as value:` (or `async with` for an async
 * context manager) and resolves with fn's result. `cm` is a proxy of a
 * context manager or a promise of one (`withContext(open(path), ...)`).
 * When fn throws, __exit__ gets the exception (the original Python one for
 * a PythonError, else esem_bridge.callback.JSError with the JS name,
 * message and stack); if it suppresses it, the helper resolves with
 * undefined, else it rejects with fn's error. An error of __exit__ itself
 * rejects with that PythonError, as it would replace the exception in Python.
 */
export async function withContext<V = any, R = unknown>(cm: unknown, fn: (value: V) => R | PromiseLike<R>): Promise<Awaited<R> | undefined> {
  if (typeof fn !== "function") throw new TypeError("withContext(cm, fn): fn must be a function that takes the __enter__ value");
  const manager = await cm;
  const root = rootOf(manager);
  if (!root) throw new TypeError("withContext(cm, fn): cm must be a proxy of a Python context manager (or a promise of one)");
  if (root.session.closed) throw new BridgeError("ESEM_SHUTDOWN", "The bridge that made this context manager was shut down; load the module again with python().");
  const backend = root.session.backend;
  const value = (await backend.helper("context_enter", [manager])) as V;
  let result: Awaited<R>;
  try {
    result = await fn(value);
  } catch (error) {
    const suppressed = await backend.helper("context_exit", [manager, ...exceptionFor(error)]);
    if (suppressed) return undefined;
    throw error;
  }
  await backend.helper("context_exit", [manager, null, null]);
  return result;
}

/** [exception, jsParts]: the Python exception a PythonError carries, or the parts of a JSError. */
function exceptionFor(error: unknown): [unknown, [string, string, string] | null] {
  if (error instanceof PythonError && error.pythonException !== undefined) return [error.pythonException, null];
  if (error instanceof Error) return [null, [error.name, error.message, error.stack ?? ""]];
  return [null, ["Error", String(error), ""]];
}
