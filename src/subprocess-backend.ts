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
import type { CallOptions } from "./call-options.js";
import type { AttrPath, Backend, BackendHooks, BridgeInfo } from "./backend.js";
import { BridgeError } from "./errors.js";
import { Op } from "./framing.js";
import { choosePython, type PythonChoice } from "./python-probe.js";
import { WorkerLifecycle, exitedError, shutdownError } from "./subprocess-lifecycle.js";
import { ModuleReloads } from "./subprocess-modules.js";
import type { Pending } from "./subprocess-pending.js";
import { ReplyReader } from "./subprocess-replies.js";
import { FrameSender } from "./subprocess-sender.js";
import { Spinner } from "./subprocess-spin.js";

export class SubprocessBackend implements Backend {
  readonly mode = "subprocess" as const;
  details: BridgeInfo;
  private seq = 0;
  private readonly workers: WorkerLifecycle;
  private readonly sender: FrameSender;
  private readonly replies: ReplyReader;
  private readonly modules: ModuleReloads;
  private readonly spinner: Spinner;

  private constructor(choice: PythonChoice, cwd: string, firstId: number, private readonly hooks: BackendHooks, reason: string) {
    this.details = {
      mode: "subprocess",
      reason,
      python: { executable: choice.command, version: "", libpython: null, source: choice.source },
      addon: null,
    };
    this.workers = new WorkerLifecycle(choice, cwd, firstId, {
      data: (worker, chunk) => this.replies.onData(worker, chunk),
      lost: () => this.sender.drop(),
    });
    this.sender = new FrameSender((f) => this.argumentRef(f), () => this.workers.current);
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
    });
  }

  /** Starts a worker and waits until it answers. `firstId`: where its object ids start (for tests; default 1). */
  static async start(options: { python?: string; cwd: string; reason: string; firstId?: number }, hooks: BackendHooks): Promise<SubprocessBackend> {
    const choice = choosePython(options.python, options.cwd);
    const backend = new SubprocessBackend(choice, options.cwd, options.firstId ?? 1, hooks, options.reason);
    const worker = backend.workers.acquire();
    const { version, executable } = await worker.ready;
    backend.details.python = { executable, version, libpython: null, source: choice.source };
    if (worker.pending.size === 0) worker.unrefNow();
    return backend;
  }

  importModule(spec: string, cwd: string): Promise<unknown> {
    return this.send(Op.Import, 0, [spec, cwd], ["spec", "cwd"], { source: { spec, cwd }, bare: false });
  }

  call(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>, options?: Readonly<CallOptions>): Promise<unknown> {
    const op = options?.result === "proxy" ? Op.CallProxy : Op.Call;
    return this.withFreshArguments(args, () =>
      this.onRef(ref, (id) => this.send(op, id, [pathList(path), args, kwargs ?? null], ["path", "args", "kwargs"])),
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
    return this.withFreshArguments(args, () => this.send(Op.Helper, 0, [name, args], ["name", "args"]));
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

  shutdown(): Promise<void> {
    return this.workers.shutdown();
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

  private send(op: Op, ref: number, values: unknown[], roots: string[], importOf?: Pending["importOf"]): Promise<unknown> {
    if (this.workers.closed) return Promise.reject(shutdownError());
    const worker = this.workers.acquire();
    const seq = (this.seq = (this.seq % 0xffffffff) + 1);
    let pending!: Pending;
    const promise = new Promise((resolve, reject) => (pending = { seq, resolve, reject, importOf }));
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

function pathList(path: AttrPath): string[] {
  if (path === null) return [];
  return typeof path === "string" ? [path] : [...path];
}
