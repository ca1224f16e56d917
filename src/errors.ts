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
    super(message, options);
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
  constructor(pythonType: string, message: string, traceback: string) {
    super(message);
    this.name = `PythonError(${pythonType})`;
    this.pythonType = pythonType;
    this.pythonTraceback = traceback;
  }
}

/** Builds the error for a failure record from either backend. */
export function makeError(python: boolean, typeOrCode: string, message: string, traceback: string): Error {
  return python
    ? new PythonError(typeOrCode, message, traceback)
    : new BridgeError(typeOrCode as BridgeErrorCode, message);
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
