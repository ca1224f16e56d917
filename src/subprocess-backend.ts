// The subprocess backend: a Python worker process (python/esem_bridge/
// worker.py) speaking the frames of docs/protocol.md over a socket that is
// fd 3 in the worker. Calls pipeline; a worker that dies rejects its
// pending calls with ESEM_WORKER_EXITED, one that sends a malformed frame
// rejects them with ESEM_PROTOCOL and is stopped, and the next call starts
// a new one. This class turns Backend calls into requests; the parts:
// subprocess-lifecycle.ts (the workers, one after another, and their ids),
// subprocess-sender.ts (request frames), subprocess-replies.ts (replies to
// results), subprocess-modules.ts (module proxies across workers),
// subprocess-spin.ts (polling while calls are pending). JS thread.
import { CancelWatch, type CallOptions } from "./call-options.js";
import type { AttrPath, Backend, BackendHooks, BridgeInfo, ShutdownOptions } from "./backend.js";
import { Callbacks, encodeOutcome, errorParts, type CallbackOutcome } from "./callbacks.js";
import { Encoder } from "./codec.js";
import { BridgeError } from "./errors.js";
import { jsonArgumentValues } from "./json-lane.js";
import { rootOf } from "./proxy.js";
import { Op } from "./framing.js";
import { choosePython, type PythonChoice } from "./python-probe.js";
import { WorkerLifecycle, exitedError, shutdownError } from "./subprocess-lifecycle.js";
import { ModuleReloads } from "./subprocess-modules.js";
import type { Pending } from "./subprocess-pending.js";
import { ReplyReader } from "./subprocess-replies.js";
import { FrameSender } from "./subprocess-sender.js";
import { Spinner } from "./subprocess-spin.js";
import type { WorkerProcess } from "./subprocess-worker.js";

export interface SubprocessOptions {
  python?: string;
  cwd: string;
  reason: string;
  /** Where the worker's object ids start (for tests; default 1). */
  firstId?: number;
  /**
   * Restart the worker when a cancelled call has not ended this many ms
   * after its cancel (true: 1000): a call stuck in C code that
   * CallCancelled cannot reach. The calls pending in that worker reject
   * with ESEM_WORKER_EXITED. Default: off (the call goes on running).
   */
  restartStuckWorker?: boolean | number;
  /** How many Python threads the worker may run calls on at once (createBridge's `threads`; default 4). */
  threads?: number;
}

export class SubprocessBackend implements Backend {
  readonly mode = "subprocess" as const;
  details: BridgeInfo;
  private seq = 0;
  private readonly workers: WorkerLifecycle;
  private readonly sender: FrameSender;
  private readonly replies: ReplyReader;
  private readonly modules: ModuleReloads;
  private readonly spinner: Spinner;
  /** The JS functions the current worker may call; cleared when it ends (Python lost them). */
  readonly callbacks = new Callbacks();
  private readonly outcomes: Encoder;
  private readonly stuckMs: number | undefined;

  private constructor(choice: PythonChoice, cwd: string, firstId: number, private readonly hooks: BackendHooks, reason: string, stuck: boolean | number | undefined, threads: number) {
    this.stuckMs = stuck === true ? 1000 : typeof stuck === "number" && stuck >= 0 ? stuck : undefined;
    this.details = {
      mode: "subprocess",
      reason,
      python: { executable: choice.command, version: "", libpython: null, source: choice.source },
      addon: null,
    };
    this.workers = new WorkerLifecycle(choice, cwd, firstId, threads, {
      data: (worker, chunk) => this.replies.onData(worker, chunk),
      lost: () => {
        this.sender.drop();
        this.callbacks.clear();
      },
    });
    this.sender = new FrameSender((f) => this.argumentRef(f), () => this.workers.current, this.callbacks);
    this.outcomes = new Encoder((f) => this.argumentRef(f), false, this.callbacks);
    this.modules = new ModuleReloads(
      (source) => this.send(Op.Import, 0, [source.spec, source.cwd], ["spec", "cwd"], { source, bare: true }) as Promise<number>,
      (id) => this.release(id),
    );
    this.spinner = new Spinner(() => (this.workers.current?.pending.size ?? 0) > 0);
    this.replies = new ReplyReader({
      wrap: (id, desc) => this.hooks.wrap(id, 0, desc),
      saw: (id) => this.workers.saw(id),
      imported: (id, source) => this.modules.imported(id, source),
      answered: () => this.spinner.touch(),
      protocolError: (worker, error) => this.workers.protocolError(worker, error),
      callback: (worker, seq, id, args, kwargs, failure) => this.runCallback(worker, seq, id, args, kwargs, failure),
      releaseCallback: (id, count) => this.callbacks.release(id, count),
      unclaimed: (ids) => this.release(ids),
    }, this.callbacks);
  }

  /**
   * Starts a worker. The backend is usable at once: frames sent before the
   * worker's Ready wait in its socket, so the first python() is encoded and
   * sent while Python boots (~1.7 ms of a first call). `started` settles
   * with the Ready frame, or rejects as the calls already sent do.
   */
  static start(options: SubprocessOptions, hooks: BackendHooks): SubprocessBackend {
    const choice = choosePython(options.python, options.cwd);
    const backend = new SubprocessBackend(choice, options.cwd, options.firstId ?? 1, hooks, options.reason, options.restartStuckWorker, options.threads ?? 4);
    const worker = backend.workers.acquire();
    backend.started = worker.ready.then(({ version, executable }) => {
      backend.details.python = { executable, version, libpython: null, source: choice.source };
      if (worker.pending.size === 0) worker.unrefNow();
    });
    backend.started.catch(() => {}); // the calls sent meanwhile, and start(), report it
    return backend;
  }

  started: Promise<void> = Promise.resolve(); // the first worker's, set by start()

  importModule(spec: string, cwd: string): Promise<unknown> {
    return this.send(Op.Import, 0, [spec, cwd], ["spec", "cwd"], { source: { spec, cwd }, bare: false });
  }

  call(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>, options?: Readonly<CallOptions>): Promise<unknown> {
    const op = options?.result === "proxy" ? Op.CallProxy : Op.Call;
    if (!this.workers.closed && !args.some(isFunction)) {
      // The usual call (plain arguments, its object in this worker): no closures for the cases below.
      const id = this.modules.current(ref);
      if (this.workers.owns(id)) {
        const json = jsonArgumentValues(args, kwargs); // a young process's large plain arguments
        const values = json ? [pathList(path), json[0], json[1]] : [pathList(path), args, kwargs ?? null];
        return this.send(op, id, values, ["path", "args", "kwargs"], undefined, options);
      }
    }
    return this.withFreshArguments(args, () =>
      this.onRef(ref, (id) => this.send(op, id, [pathList(path), args, kwargs ?? null], ["path", "args", "kwargs"], undefined, options)),
    );
  }

  callSync(): never {
    throw new BridgeError("ESEM_UNSUPPORTED_MODE", "callSync() needs the native mode: in subprocess mode every call is a message to another process; await the call instead");
  }
  getAttr(ref: number, path: AttrPath): Promise<unknown> {
    return this.onRef(ref, (id) => this.send(Op.GetAttr, id, [pathList(path)], ["path"]));
  }

  async setAttr(ref: number, path: AttrPath, value: unknown): Promise<void> {
    await this.onRef(ref, (id) => this.send(Op.SetAttr, id, [pathList(path), value], ["path", "value"]));
  }

  helper(name: string, args: unknown[]): Promise<unknown> {
    // The object the helper acts on (its first argument) orders it with the other calls on it.
    const ref = rootOf(args[0])?.ref ?? 0;
    return this.withFreshArguments(args, () => this.send(Op.Helper, ref, [name, args], ["name", "args"]));
  }

  release(refs: number | readonly number[]): void {
    const worker = this.workers.current;
    const closed = this.workers.closed;
    for (const ref of typeof refs === "number" ? [refs] : refs) {
      const current = this.modules.forget(ref);
      if (closed || !worker || !worker.owns(current)) continue;
      this.sender.append(worker, Op.Release, 0, current, [], [], undefined);
    }
    if (!closed && worker) this.sender.flush(); // many ids: many small frames, one write
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.workers.shutdown(options);
  }

  /** How many JS functions Python may still call (for tests). */
  callbackCount(): number {
    return this.callbacks.size;
  }

  /** Python called a JS function: runs it and sends its outcome (dropped when that worker is gone). */
  private runCallback(worker: WorkerProcess, seq: number, id: number, args: unknown[], kwargs: Record<string, unknown> | null, failure: unknown): void {
    const answer = (outcome: CallbackOutcome): void => {
      if (worker.exited || worker !== this.workers.current) return;
      const { ok, bytes } = encodeOutcome(this.outcomes, outcome);
      this.sender.sendNow(worker, Op.CallbackReply, seq, ok ? 1 : 0, bytes);
    };
    const outcome = failure === undefined ? this.callbacks.run(id, args, kwargs) : { ok: false, value: errorParts(failure) };
    if (outcome instanceof Promise) void outcome.then(answer);
    else answer(outcome);
  }

  /**
   * A watch fired: the call rejects at once, and the worker is told (op
   * Cancel): a queued frame is skipped, a running one gets CallCancelled.
   * With restartStuckWorker, a call still not ended after that long
   * restarts the worker.
   */
  private cancel(worker: WorkerProcess, seq: number, error: BridgeError): void {
    const pending = worker.pending.cancel(seq);
    if (!pending) return;
    pending.reject(error);
    if (worker.pending.size === 0) worker.setReferenced(false);
    if (worker.exited || worker !== this.workers.current) return;
    this.sender.append(worker, Op.Cancel, seq, 0, [], [], undefined);
    this.sender.flush();
    const ms = this.stuckMs;
    if (ms === undefined) return;
    const timer = setTimeout(() => {
      if (worker.exited || worker !== this.workers.current || !worker.pending.stillCancelling(seq)) return;
      this.workers.kill(worker, `a cancelled call had not ended ${ms} ms after its cancel (restartStuckWorker)`);
    }, ms);
    timer.unref();
  }

  /** Runs `send` with `ref` as the current worker knows it, loading a module again after a worker died. */
  private onRef(ref: number, send: (id: number) => Promise<unknown>): Promise<unknown> {
    if (this.workers.closed) return Promise.reject(shutdownError());
    ref = this.modules.current(ref);
    if (this.workers.owns(ref)) return send(ref);
    if (!this.modules.reloadable(ref)) return Promise.reject(exitedError());
    return this.modules.reload(ref).then(send);
  }

  /**
   * Module proxies among the arguments that lived in a dead worker are
   * loaded again first (their objects could not be; those reject).
   */
  private withFreshArguments(args: unknown[], send: () => Promise<unknown>): Promise<unknown> {
    const stale: Promise<number>[] = [];
    for (const a of args) {
      if (typeof a !== "function") continue;
      const raw = (a as unknown as Record<symbol, number | unknown[] | undefined>)[this.hooks.refSymbol];
      const id = typeof raw === "number" ? raw : Array.isArray(raw) ? (raw[0] as number) : undefined;
      if (id === undefined) continue;
      const ref = this.modules.current(id);
      if (!this.workers.owns(ref) && this.modules.reloadable(ref)) stale.push(this.modules.reload(ref));
    }
    return stale.length ? Promise.all(stale).then(send) : send();
  }

  /** A proxy passed as an argument: its id in the current worker and attribute path (a string: why it cannot be passed). */
  private argumentRef(f: Function): number | unknown[] | string | undefined {
    const raw = (f as unknown as Record<symbol, number | unknown[] | undefined>)[this.hooks.refSymbol];
    if (raw === undefined || typeof raw === "string") return raw; // a string: why it cannot be passed
    const [id, ...path] = typeof raw === "number" ? [raw] : (raw as [number, ...string[]]);
    const current = this.modules.current(id);
    if (!this.workers.owns(current)) throw exitedError();
    return [current, ...path];
  }

  private send(op: Op, ref: number, values: unknown[], roots: string[], importOf?: Pending["importOf"], options?: Readonly<CallOptions>): Promise<unknown> {
    if (this.workers.closed) return Promise.reject(shutdownError());
    const worker = this.workers.acquire();
    const seq = (this.seq = (this.seq % 0xffffffff) + 1);
    let pending!: Pending;
    const promise = new Promise((resolve, reject) => (pending = { seq, resolve, reject, importOf }));
    if (options !== undefined) {
      let watch: CancelWatch | undefined;
      try {
        watch = CancelWatch.of(options, (error) => this.cancel(worker, seq, error));
      } catch (error) {
        return Promise.reject(error); // the signal had aborted: nothing is sent
      }
      if (watch) {
        const { resolve, reject } = pending;
        pending.resolve = (v) => {
          watch!.done();
          resolve(v);
        };
        pending.reject = (e) => {
          watch!.done();
          reject(e);
        };
      }
    }
    try {
      this.sender.append(worker, op, seq, ref, values, roots, pending);
    } catch (error) {
      return Promise.reject(error);
    }
    worker.setReferenced(true);
    this.sender.flush();
    this.spinner.start();
    return promise;
  }
}

function isFunction(a: unknown): boolean {
  return typeof a === "function";
}

function pathList(path: AttrPath): string[] {
  if (path === null) return [];
  return typeof path === "string" ? [path] : [...path];
}
