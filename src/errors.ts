// Error classes and codes. Every failure the bridge reports is one of these.

/** Stable codes of {@link BridgeError}. */
export type BridgeErrorCode =
  | "ESEM_RELEASED"
  | "ESEM_SHUTDOWN"
  | "ESEM_UNSUPPORTED_VALUE"
  | "ESEM_FOREIGN_PROXY"
  | "ESEM_NO_PYTHON"
  | "ESEM_WORKER_EXITED"
  | "ESEM_UNSUPPORTED_MODE"
  | "ESEM_BAD_REQUEST"
  | "ESEM_PROTOCOL"
  | "ESEM_ABORTED"
  | "ESEM_TIMEOUT"
  | "ESEM_INTERNAL";

/** A failure of the bridge itself (not of the Python code it ran). */
export class BridgeError extends Error {
  readonly code: BridgeErrorCode;
  constructor(code: BridgeErrorCode, message: string, options?: { cause?: unknown }) {
    // An internal failure is a bug of the bridge: say what to do with it.
    super(code === "ESEM_INTERNAL" && !message.includes("report") ? `${message} (a bug in esem-bridge: please report it, with the call that caused it)` : message, options);
    this.name = "BridgeError";
    this.code = code;
  }
}

/** A Python exception raised by the code a call ran. */
export class PythonError extends Error {
  /** `ValueError` for builtins, `module.Qualname` otherwise. */
  readonly pythonType: string;
  /** The full formatted traceback, chained causes included. */
  readonly pythonTraceback: string;
  /** Kept from 0.1. */
  readonly isPythonError = true;
  /**
   * The Python exception object, as a proxy: `await err.pythonException.args`,
   * `await isinstance(err.pythonException, mod.MyError)`. Undefined for an
   * error made in JS. Not enumerable (error printing stays short).
   */
  declare readonly pythonException: any;
  constructor(pythonType: string, message: string, traceback: string, options?: { cause?: unknown; exception?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = `PythonError(${pythonType})`;
    this.pythonType = pythonType;
    this.pythonTraceback = traceback;
    Object.defineProperty(this, "pythonException", { value: options?.exception, enumerable: false, configurable: true });
  }
}

/** One exception of a Python chain: type, message, its traceback, its object (a proxy). */
export type ErrorLink = [pythonType: string, message: string, traceback: string, exception: unknown];

/**
 * Builds the error for a failure record from either backend. `links`
 * (Python errors): the exception and the ones it was raised from or
 * during, outermost first; each becomes the `cause` of the one before.
 */
export function makeError(python: boolean, typeOrCode: string, message: string, traceback: string, links?: readonly ErrorLink[]): Error {
  if (!python) return new BridgeError(typeOrCode as BridgeErrorCode, message);
  if (!links || links.length === 0) return new PythonError(typeOrCode, message, traceback);
  let cause: PythonError | undefined;
  for (let i = links.length - 1; i >= 1; i--) {
    const [type, text, tb, exception] = links[i];
    cause = new PythonError(type, text, tb, { cause, exception: exception ?? undefined });
  }
  return new PythonError(typeOrCode, message, traceback, { cause, exception: links[0][3] ?? undefined });
}

/**
 * Points an error that settled on another thread's behalf at the caller:
 * called in the async frame that awaited the call, so V8's async stack
 * trace names the user's code.
 */
export function atCaller(error: unknown, callee: Function): unknown {
  if (error instanceof PythonError || error instanceof BridgeError) {
    Error.captureStackTrace(error, callee);
  }
  return error;
}
