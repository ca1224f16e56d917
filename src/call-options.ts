// opts(): options for one call, passed among its last arguments (with or
// without kw(), in either order): `await f(x, opts({ result: "proxy" }))`,
// `await f(x, opts({ signal, timeout: 500 }))`. The one per-call form of
// the API (docs/api.md#opts, docs/concurrency.md#cancellation).
import { BridgeError } from "./errors.js";

const OPTIONS = Symbol("esem.options");

export interface CallOptions {
  /**
   * "value" (the default): the result is converted by the rules of
   * docs/types.md (plain data is copied). "proxy": the result is a proxy of
   * the live Python object whatever its type (a dict or list stays in
   * Python; `None` is still `null`).
   */
  result?: "value" | "proxy";
  /**
   * Cancels the call when it aborts: a call still queued never runs; a
   * running one gets esem_bridge.CallCancelled raised in its thread. The
   * promise rejects at once with a BridgeError ESEM_ABORTED (name
   * "AbortError", `cause` the signal's reason).
   */
  signal?: AbortSignal;
  /** Milliseconds after which the call is cancelled as by `signal`; it rejects with ESEM_TIMEOUT (name "TimeoutError"). */
  timeout?: number;
}

/** What opts() returns; O is the options given (a typed proxy's call with `result: "proxy"` resolves to a PyProxy). */
export interface CallOptionsMarker<O extends CallOptions = CallOptions> {
  readonly [OPTIONS]: Readonly<O>;
}

const KEYS = new Set(["result", "signal", "timeout"]);

/** Options for one call; throws a TypeError at once on an unknown option or value. */
export function opts<O extends CallOptions>(options: O): CallOptionsMarker<O> {
  const proto = options !== null && typeof options === "object" ? Object.getPrototypeOf(options) : undefined;
  if (proto !== Object.prototype && proto !== null) throw new TypeError("opts() takes a plain object of call options");
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) throw new TypeError(`opts(): unknown option "${key}" (known: ${[...KEYS].join(", ")})`);
  }
  if (options.result !== undefined && options.result !== "value" && options.result !== "proxy") {
    throw new TypeError(`opts(): result must be "value" or "proxy", not ${JSON.stringify(options.result)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError("opts(): signal must be an AbortSignal");
  }
  const t = options.timeout;
  if (t !== undefined && (typeof t !== "number" || !(t >= 0) || t > 2 ** 31 - 1)) {
    throw new TypeError(`opts(): timeout must be a number of milliseconds from 0 to 2^31-1, not ${String(t)}`);
  }
  return Object.freeze({ [OPTIONS]: Object.freeze({ ...options }) });
}

/** The options of an opts() among the last two arguments, and the arguments without it. */
export function splitOptions(args: unknown[]): [unknown[], Readonly<CallOptions> | undefined] {
  for (let i = args.length - 1; i >= 0 && i >= args.length - 2; i--) {
    const a = args[i] as CallOptionsMarker | undefined;
    if (a !== null && typeof a === "object" && OPTIONS in a) {
      return [args.slice(0, i).concat(args.slice(i + 1)), a[OPTIONS]];
    }
  }
  return [args, undefined];
}

/** The error a cancelled call rejects with. */
export function cancelError(timedOut: boolean, reason?: unknown): BridgeError {
  const error = timedOut
    ? new BridgeError("ESEM_TIMEOUT", "the call was cancelled: its timeout passed (Python got CallCancelled); pass a longer opts({ timeout }) if it needs more time")
    : new BridgeError("ESEM_ABORTED", "the call was cancelled: its signal aborted (Python got CallCancelled); the abort reason is this error's cause", { cause: reason });
  error.name = timedOut ? "TimeoutError" : "AbortError";
  return error;
}

/**
 * Watches one call's signal and timeout. `cancel` runs once, with the
 * error the call rejects with, when either fires first; `done()` stops
 * watching (call it when the call settles). Undefined when the options
 * have neither.
 */
export class CancelWatch {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private fired = false;
  private readonly onAbort = (): void => this.fire(cancelError(false, this.signal?.reason));

  private constructor(private readonly signal: AbortSignal | undefined, timeout: number | undefined, private readonly cancel: (error: BridgeError) => void) {
    signal?.addEventListener("abort", this.onAbort, { once: true });
    if (timeout !== undefined) {
      this.timer = setTimeout(() => this.fire(cancelError(true)), timeout);
      // The call itself keeps Node alive (SPEC 9); the timer need not.
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** A watch, or undefined when there is nothing to watch; throws the cancel error when the signal has already aborted. */
  static of(options: Readonly<CallOptions> | undefined, cancel: (error: BridgeError) => void): CancelWatch | undefined {
    if (options === undefined || (options.signal === undefined && options.timeout === undefined)) return undefined;
    if (options.signal?.aborted) throw cancelError(false, options.signal.reason);
    return new CancelWatch(options.signal, options.timeout, cancel);
  }

  private fire(error: BridgeError): void {
    if (this.fired) return;
    this.fired = true;
    this.done();
    this.cancel(error);
  }

  done(): void {
    this.fired = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
  }
}
