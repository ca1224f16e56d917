// The native backend: CPython embedded in this process through the addon.
import { NOT_FAST, type AttrPath, type Backend, type BackendHooks, type BridgeInfo, type FastSync, type RefDescription, type ShutdownOptions } from "./backend.js";
import { CancelWatch, type CallOptions } from "./call-options.js";
import { Callbacks, encodeOutcome, outcomeOf, thrownOutcome, type CallbackOutcome } from "./callbacks.js";
import { Decoder, Encoder, type RefAnswer } from "./codec.js";
import { jsonArguments, jsonResultLimit, parseResult } from "./json-lane.js";
import { BridgeError, makeError } from "./errors.js";
import { rootOf } from "./proxy.js";
import { freezeAtExit, loadAddon, type NativeBridge } from "./native-binding.js";
import { pythonRuntimeDir } from "./paths.js";
import { bytecodeCacheFolder } from "./probe-cache.js";
import { choosePython, embedProblem, probePython } from "./python-probe.js";
import { supportProblem, unsupportedError } from "./python-support.js";

const ARG_ROOTS = ["args", "kwargs"];
/**
 * Wire arguments of this many bytes or more are read by the addon in the
 * encoder's buffer instead of a copy (callWire's `lent`): one memcpy and
 * one copy's worth of memory less (1 000 000 records: 66 MiB of each).
 */
const LEND_FROM = 1 << 20;
const VALUE_ROOT = ["value"];

/**
 * Calls like `add(1, 2)` take the scalar fast path: numbers (but integral
 * ones past 2^53, whose exact int needs the wire), strings, booleans, null
 * and undefined go to C++ as they are. Anything else is wire bytes.
 */
// A callback's outcome during a callSync(): a promise cannot be waited for.
function syncOutcome(outcome: CallbackOutcome | Promise<CallbackOutcome>): CallbackOutcome {
  if (!(outcome instanceof Promise)) return outcome;
  outcome.catch(() => {});
  return {
    ok: false,
    value: ["BridgeError", "the JS function returned a promise, which a callSync() cannot wait for: make it synchronous, or await the call", ""],
  };
}

// A value the addon takes as itself: null, undefined, boolean, string, or a number (but an integral one past 2^53).
function isPlain(v: unknown): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
    case "undefined":
      return true;
    case "number":
      return !(Number.isInteger(v) && !Number.isSafeInteger(v));
    default:
      return v === null;
  }
}

function allScalars(args: unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (typeof a) {
      case "string":
      case "boolean":
      case "undefined":
        continue;
      case "number":
        if (Number.isInteger(a) && !Number.isSafeInteger(a)) return false;
        continue;
      case "object":
        if (a === null) continue;
    }
    return false;
  }
  return true;
}

// Two things the addon does in every process make V8 throw away the
// optimized code of every function that touches a typed array, in the
// whole isolate, the first time they happen: detaching an ArrayBuffer
// (EndLoan in native/js_values.cc, once a large result is decoded), and
// making a Buffer in C++ (Node sets a Uint8Array's prototype to do it:
// every wire result, and napi_create_external_arraybuffer too). Both came
// in the first large call, so the codec's code, optimized during it, was
// thrown away and the second large call ran interpreted again (10 000
// records echoed, second call: 46-60 ms; the third took 15). Done once
// when the first bridge starts, before anything is optimized, they cost
// nothing more (V8 then compiles with those checks from the start).
let spent = false;
function spendTypedArrayAssumptions(): void {
  if (spent) return;
  spent = true;
  try {
    const buffer = new ArrayBuffer(8);
    structuredClone(buffer, { transfer: [buffer] });
    Object.setPrototypeOf(new Uint8Array(1), Buffer.prototype);
  } catch {
    // A runtime without one of these: nothing is lost but the head start.
  }
}

/**
 * The addon keeps the jobs of a large burst of calls for the next one, and
 * frees those a whole second did not use (native/bridge.h, kMaxSpareJobs);
 * this timer lets an idle process do that too. It holds the bridge weakly
 * (a bridge dropped without shutdown() is still collected) and does not
 * keep the process alive.
 */
function trimSpares(native: WeakRef<NativeBridge>, timer: { id?: ReturnType<typeof setInterval> }): void {
  const bridge = native.deref();
  if (bridge) bridge.trimSpares();
  else clearInterval(timer.id);
}

function trimSparesEverySecond(native: NativeBridge): ReturnType<typeof setInterval> {
  const timer: { id?: ReturnType<typeof setInterval> } = {};
  timer.id = setInterval(trimSpares, 1000, new WeakRef(native), timer);
  timer.id.unref();
  return timer.id;
}

export class NativeBackend implements Backend {
  readonly mode = "native" as const;
  readonly started = Promise.resolve();
  private readonly encoder: Encoder;

  private constructor(
    private readonly native: NativeBridge,
    readonly details: BridgeInfo,
    private readonly callbacks: Callbacks,
    private readonly replies: Encoder,
  ) {
    // Re-entrant: a getter that calls Python while an argument is encoded gets a fresh encoder.
    // Binary payloads go beside the bytes: C++ reads them in place and copies once, into Python.
    this.encoder = new Encoder(replies.refOf, true, callbacks);
    this.trimmer = trimSparesEverySecond(native);
  }

  private readonly trimmer: ReturnType<typeof setInterval>;

  /** How many JS functions Python may still call (tests). */
  callbackCount(): number {
    return this.callbacks.size;
  }

  /** Finds and probes the interpreter, loads the addon and starts the Python thread. */
  static async start(options: { python?: string; cwd: string; threads?: number }, hooks: BackendHooks): Promise<NativeBackend> {
    const choice = choosePython(options.python, options.cwd);
    const info = await probePython(choice, options.cwd);
    if (supportProblem(info)) throw unsupportedError(info.version, choice.command, choice.source);
    const problem = embedProblem(info);
    if (problem) throw new BridgeError("ESEM_NO_PYTHON", `Native mode cannot use ${choice.command}: ${problem}.`);
    const load = loadAddon();
    if (!load.addon) throw new BridgeError("ESEM_NO_PYTHON", `Native mode is unavailable: ${load.error}.`);
    spendTypedArrayAssumptions();
    const spin = Number(process.env.ESEM_SPIN_US);
    const callbacks = new Callbacks();
    const refOf = (f: Function): RefAnswer => (f as unknown as Record<symbol, RefAnswer>)[hooks.refSymbol];
    // Callback answers are encoded inline (no side buffers: the reply does not come back to this thread).
    const replies = new Encoder(refOf, false, callbacks);
    const answerCallback = (token: number, outcome: CallbackOutcome | Promise<CallbackOutcome>): void => {
      const answer = (o: CallbackOutcome): void => {
        if (o.ok && isPlain(o.value)) return native.replyPlain(token, o.value);
        const { ok, bytes } = encodeOutcome(replies, o);
        native.reply(token, ok, bytes);
      };
      if (outcome instanceof Promise) void outcome.then(answer);
      else answer(outcome);
    };
    // During a callSync: the plain value itself, or [ok, bytes].
    const syncAnswer = (outcome: CallbackOutcome | Promise<CallbackOutcome>): unknown => {
      const o = syncOutcome(outcome);
      if (o.ok && isPlain(o.value)) return o.value;
      const { ok, bytes } = encodeOutcome(replies, o);
      return [ok, bytes];
    };
    const native: NativeBridge = new load.addon.NativeBridge(
      {
        libraries: info.libraries,
        program: info.executable,
        prefix: info.prefix,
        sysPath: info.sysPath,
        runtimeDir: pythonRuntimeDir,
        bytecodeCache: bytecodeCacheFolder(),
        spinMicros: Number.isFinite(spin) && spin >= 0 ? spin : 100,
        threads: options.threads ?? 4,
      },
      {
        wrap: hooks.wrap,
        makeError: (python, typeOrCode, message, traceback, links) =>
          makeError(python, typeOrCode, message, traceback, links.map(([type, text, tb, id]) => [type, text, tb, hooks.wrap(id, 0, exceptionDescription(type))])),
        decode: (bytes, side) => {
          if (typeof bytes !== "string") return new Decoder(bytes, hooks.wrap, side, callbacks).value();
          const value = parseResult(bytes);
          native.jsonResults(...jsonResultLimit());
          return value;
        },
        // Arguments come as wire bytes ([args, kwargs]) or, when plain, as
        // themselves; a plain result goes back as itself, anything else as bytes.
        callback: (token, fnId, [args, kwargs]) => answerCallback(token, callbacks.run(fnId, args, kwargs)),
        callbackPlain: (token, fnId, ...args) => answerCallback(token, callbacks.run(fnId, args, null)),
        releaseCallback: (fnId, count) => callbacks.release(fnId, count),
        callbackSync: (fnId, [args, kwargs]) => syncAnswer(callbacks.run(fnId, args, kwargs)),
        callbackSyncPlain: (fnId, ...args) => {
          // The hot path: a plain value goes back as itself.
          const fn = callbacks.fn(fnId);
          if (fn === undefined) return syncAnswer(callbacks.run(fnId, args, null)); // released: run() says so
          let value: unknown;
          try {
            value = fn(...args) as unknown;
          } catch (error) {
            return syncAnswer(thrownOutcome(error));
          }
          return isPlain(value) ? value : syncAnswer(outcomeOf(value));
        },
      },
    );
    native.jsonResults(...jsonResultLimit());
    let library: string;
    try {
      const starting = native.start();
      freezeAtExit(load.addon);
      library = await starting;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const fix = reason.includes("one interpreter per process")
        ? ""
        : `\nTried: ${info.libraries.join(", ") || "(no shared libpython found)"}. ` +
          `Fix: install the interpreter's shared library, pick another with ESEM_PYTHON.`;
      throw new BridgeError(
        "ESEM_NO_PYTHON",
        `Could not start Python ${info.version} from ${info.executable} in this process: ${reason}${fix}`,
        { cause: error },
      );
    }
    return new NativeBackend(native, {
      mode: "native",
      reason: `embedded CPython ${info.version} (chosen by ${choice.source})`,
      python: { executable: info.executable, version: info.version, libpython: library, source: choice.source },
      addon: { path: load.path!, prebuilt: load.prebuilt },
    }, callbacks, replies);
  }

  importModule(spec: string, cwd: string): Promise<unknown> {
    return this.native.importModule(spec, cwd);
  }
  call(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>, options?: Readonly<CallOptions>): Promise<unknown> {
    const keep = options?.result === "proxy";
    if (options?.signal !== undefined || options?.timeout !== undefined) return this.cancellable(ref, path, args, kwargs, options);
    if (!kwargs && !keep && allScalars(args)) {
      // A few arguments as themselves (no array for the addon to walk), as fastSync does.
      const native = this.native;
      switch (args.length) {
        case 0:
          return native.call(ref, path);
        case 1:
          return native.call(ref, path, args[0]);
        case 2:
          return native.call(ref, path, args[0], args[1]);
        case 3:
          return native.call(ref, path, args[0], args[1], args[2]);
        default:
          return native.call(ref, path, args); // one array, as fastSync's callers do
      }
    }
    let bytes: Uint8Array;
    try {
      const json = jsonArguments(args, kwargs);
      if (json !== undefined) return this.native.callWire(ref, path, json, undefined, keep);
      bytes = this.encoder.encode([args, kwargs ?? null], ARG_ROOTS);
    } catch (error) {
      return Promise.reject(error);
    }
    if (bytes.length < LEND_FROM) return this.native.callWire(ref, path, bytes, this.encoder.side, keep);
    // Large arguments are read where they were encoded: the encoder's
    // buffer is lent to the call, and comes back when the call is
    // fulfilled (Python is done with it). A rejection may come first (a
    // timeout, an abort, shutdown) while Python still reads the buffer:
    // then it is never used again, and the GC frees it after the addon.
    const encoder = this.encoder;
    const lent = encoder.lend(bytes);
    const settled = this.native.callWire(ref, path, bytes, encoder.side, keep, true);
    if (lent) settled.then(() => encoder.giveBack(lent), () => {});
    return settled;
  }

  // A call with a signal or a timeout (docs/concurrency.md#cancellation).
  private cancellable(ref: number, path: AttrPath, args: unknown[], kwargs: Record<string, unknown> | undefined, options: Readonly<CallOptions>): Promise<unknown> {
    let seq = 0;
    let watch: CancelWatch | undefined;
    try {
      watch = CancelWatch.of(options, (error) => this.native.cancel(seq, error));
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal: _signal, timeout: _timeout, ...rest } = options;
    this.native.lastSeq(); // 0 from here until this call is submitted
    const promise = this.call(ref, path, args, kwargs, rest);
    seq = this.native.lastSeq();
    return promise.finally(() => watch?.done());
  }
  fastSync(ref: number, path: AttrPath): FastSync | undefined {
    if (path === null) return undefined;
    const handle = this.native.prepareSync(ref, path);
    if (handle === 0) return undefined;
    const native = this.native;
    // A few arguments as themselves (no array for the addon to walk).
    return (args) => {
      if (!allScalars(args)) return NOT_FAST;
      switch (args.length) {
        case 0:
          return native.callFast(handle);
        case 1:
          return native.callFast(handle, args[0]);
        case 2:
          return native.callFast(handle, args[0], args[1]);
        case 3:
          return native.callFast(handle, args[0], args[1], args[2]);
        default:
          return NOT_FAST; // callSync's array form: a spread of 100 000 arguments would overflow the stack
      }
    };
  }

  callSync(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>): unknown {
    if (!kwargs && allScalars(args)) return this.native.callSync(ref, path, args);
    const bytes = this.encoder.encode([args, kwargs ?? null], ARG_ROOTS);
    return this.native.callSync(ref, path, bytes, this.encoder.side);
  }
  getAttr(ref: number, path: AttrPath): Promise<unknown> {
    return this.native.getAttr(ref, path);
  }
  async setAttr(ref: number, path: AttrPath, value: unknown): Promise<void> {
    const bytes = this.encoder.encode([value], VALUE_ROOT);
    await this.native.setAttr(ref, path, bytes, this.encoder.side);
  }
  helper(name: string, args: unknown[]): Promise<unknown> {
    let bytes: Uint8Array;
    try {
      bytes = this.encoder.encode([args, null], ARG_ROOTS);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.native.helper(name, bytes, this.encoder.side, rootOf(args[0])?.ref ?? 0);
  }
  release(ref: number | readonly number[]): void {
    this.native.release(ref as number | number[]);
  }
  // Waits for the running calls to end (default); with `timeout`, at most
  // that long, then cancels them (CallCancelled) and resolves; with `force`,
  // cancels them at once. The bridge's Python objects go once they ended.
  shutdown(options?: ShutdownOptions): Promise<void> {
    clearInterval(this.trimmer);
    const done = this.native.shutdown().finally(() => this.callbacks.clear());
    const wait = options?.force ? 0 : options?.timeout;
    if (wait === undefined) return done;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.native.cancelRunning();
        this.callbacks.clear();
        resolve();
      }, wait);
      done.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}

// What a native error's exception proxy knows of its object: its type;
// every attribute (args, user fields) is read by name when asked.
function exceptionDescription(typeName: string): RefDescription {
  return { kind: "object", typeName, members: [], hasRelease: false, callable: false, iterable: false, callables: [] };
}
