// The subprocess backend: a Python worker process (python/esem_bridge/
// worker.py, one WorkerProcess) speaking the frames of docs/protocol.md over
// a socket that is fd 3 in the worker. Calls pipeline; a worker that dies
// rejects its pending calls with ESEM_WORKER_EXITED, one that sends a
// malformed frame rejects them with ESEM_PROTOCOL and is stopped, and the
// next call starts a new one.
//
// Object ids are the worker's own, unique for the bridge's life: a new
// worker's registry starts after the highest id the bridge has seen, so an
// id below the current worker's first id belongs to a worker that is gone.
import type { AttrPath, Backend, BackendHooks, BridgeInfo, RefDescription } from "./backend.js";
import { Decoder, Encoder, Tag } from "./codec.js";
import { BridgeError, makeError } from "./errors.js";
import { ProtocolError, Status, replyHeader } from "./framing.js";
import { cachedProbe, choosePython, type PythonChoice } from "./python-probe.js";
import type { ModuleSource, Pending } from "./subprocess-pending.js";
import { WorkerProcess } from "./subprocess-worker.js";

const enum Op {
  Call = 1,
  GetAttr = 2,
  SetAttr = 3,
  Import = 4,
  Release = 5,
  Helper = 6,
}

const HEADER = 13; // u8 op, u32 seq, f64 ref

/** A frame encoded while another was being encoded (from a getter), sent right after it. */
interface NestedFrame {
  worker: WorkerProcess;
  bytes: Buffer;
  pending: Pending | undefined;
}

export class SubprocessBackend implements Backend {
  readonly mode = "subprocess" as const;
  details: BridgeInfo;
  private worker: WorkerProcess | undefined;
  /** Above every object id seen so far: where the next worker's ids start. */
  private nextId = 1;
  private seq = 0;
  private closed = false;
  private flushQueued = false;
  private decodingImport: Pending["importOf"];
  /**
   * Module proxies survive a worker's death: how to load each again, by the
   * id the proxy (or its reload) has; an entry goes when its proxy is released.
   */
  private readonly modules = new Map<number, ModuleSource>();
  /** A module proxy's id -> its module's id in a later worker (chains after several deaths). */
  private readonly remapped = new Map<number, number>();
  private readonly reloading = new Map<number, Promise<number>>();
  private readonly encoder: Encoder;
  private readonly refOf = (f: Function) => this.argumentRef(f);
  private readonly headerBytes = new Uint8Array(HEADER);
  private readonly header = new DataView(this.headerBytes.buffer);
  /** An encoder is filling a frame; a frame asked for meanwhile (from a getter) is a NestedFrame. */
  private encoding = false;
  private nested: NestedFrame[] = [];
  private spinUntil = 0;
  private spinning = false;
  private readonly spinMicros = spinBudget();

  private constructor(
    private readonly choice: PythonChoice,
    private readonly cwd: string,
    private readonly hooks: BackendHooks,
    reason: string,
  ) {
    this.details = {
      mode: "subprocess",
      reason,
      python: { executable: choice.command, version: "", libpython: null, source: choice.source },
      addon: null,
    };
    // Frames are encoded straight into one buffer and written once a tick.
    this.encoder = new Encoder(this.refOf);
  }

  /** Starts a worker and waits until it answers. `firstId`: where its object ids start (for tests; default 1). */
  static async start(options: { python?: string; cwd: string; reason: string; firstId?: number }, hooks: BackendHooks): Promise<SubprocessBackend> {
    const choice = choosePython(options.python, options.cwd);
    const backend = new SubprocessBackend(choice, options.cwd, hooks, options.reason);
    backend.nextId = options.firstId ?? 1;
    const worker = backend.spawnWorker();
    const { version, executable } = await worker.ready;
    backend.details.python = { executable, version, libpython: null, source: choice.source };
    if (worker.pending.size === 0) worker.unrefNow();
    return backend;
  }

  importModule(spec: string, cwd: string): Promise<unknown> {
    return this.send(Op.Import, 0, [spec, cwd], ["spec", "cwd"], { source: { spec, cwd }, bare: false });
  }

  call(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown> {
    return this.withFreshArguments(args, () =>
      this.onRef(ref, (id) => this.send(Op.Call, id, [pathList(path), args, kwargs ?? null], ["path", "args", "kwargs"])),
    );
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
    const worker = this.worker;
    for (const ref of typeof refs === "number" ? [refs] : refs) {
      const current = this.forget(ref);
      if (this.closed || !worker || !worker.owns(current)) continue;
      this.appendFrame(worker, Op.Release, 0, current, [], [], undefined);
    }
    if (!this.closed && worker) this.flush(); // many ids: many small frames, one write
  }

  /** Drops what the bridge kept for a released proxy's id (module source, reload chain); its current id. */
  private forget(ref: number): number {
    this.modules.delete(ref);
    for (let next = this.remapped.get(ref); next !== undefined; next = this.remapped.get(ref)) {
      this.remapped.delete(ref);
      ref = next;
      this.modules.delete(ref);
    }
    return ref;
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    this.rejectAll(worker, new BridgeError("ESEM_SHUTDOWN", "The bridge was shut down before this call finished."));
    if (worker.exited) return;
    const exited = new Promise<void>((resolve) => worker.child.once("exit", () => resolve()));
    worker.child.ref(); // `await shutdown()` must be able to see the exit, even in an otherwise idle Node
    worker.socket.end();
    const timer = setTimeout(() => worker.child.kill("SIGKILL"), 2000);
    timer.unref();
    await exited;
    clearTimeout(timer);
  }

  // --- worker lifetime -----------------------------------------------------

  private spawnWorker(): WorkerProcess {
    // The interpreter itself when a probe has already named it: a pyenv
    // shim alone costs ~80 ms a start.
    const command = cachedProbe(this.choice, this.cwd)?.executable ?? this.choice.command;
    const worker = new WorkerProcess(command, this.cwd, this.nextId);
    this.worker = worker;
    worker.socket.on("data", (chunk: Buffer) => this.onData(worker, chunk));
    worker.socket.on("error", () => {}); // the exit handler reports
    worker.child.on("error", (error) => {
      this.onExit(worker, null, null, error as NodeJS.ErrnoException);
    });
    worker.child.on("exit", (code, signal) => this.onExit(worker, code, signal, undefined));
    return worker;
  }

  /** The worker is gone for this bridge: frames still gathered for it are dropped. */
  private lose(worker: WorkerProcess): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    if (!this.encoding) this.encoder.take();
  }

  private onExit(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null, spawnError: NodeJS.ErrnoException | undefined): void {
    if (worker.exited) return;
    worker.exited = true;
    this.lose(worker);
    if (worker.broken) return; // its calls were rejected with the protocol error
    const tail = worker.stderrLines();
    if (spawnError || !worker.started) {
      const how = spawnError?.code === "ENOENT" ? "was not found" : spawnError ? `could not start (${spawnError.message})` : `exited at start (code ${code}, signal ${signal})`;
      const error = new BridgeError(
        "ESEM_NO_PYTHON",
        `Python interpreter "${this.choice.command}" (chosen by ${this.choice.source}) ${how}. ` +
          `Install Python 3.8-3.13, or point at one with createBridge({ python }) or ESEM_PYTHON=/path/to/python3.${tail}`,
      );
      worker.failReady(error);
      this.rejectAll(worker, error);
      return;
    }
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    this.rejectAll(
      worker,
      new BridgeError(
        "ESEM_WORKER_EXITED",
        `The Python worker ${how} while this call was pending; the next call starts a new worker.${tail}`,
      ),
    );
  }

  /**
   * A frame that cannot be a reply: the stream can no longer be trusted, so
   * every pending call rejects with the problem and the worker is stopped.
   */
  private onProtocolError(worker: WorkerProcess, error: unknown): void {
    if (worker.broken || worker.exited) return;
    worker.broken = true;
    this.lose(worker);
    const problem = error instanceof ProtocolError ? error.message : `Reading a reply failed: ${error instanceof Error ? error.message : String(error)}.`;
    const rejection = new BridgeError(
      "ESEM_PROTOCOL",
      `${problem} The worker was stopped; the next call starts a new one.${worker.stderrLines()}`,
      { cause: error },
    );
    worker.failReady(rejection);
    this.rejectAll(worker, rejection);
    worker.child.kill("SIGKILL");
  }

  private rejectAll(worker: WorkerProcess, error: BridgeError): void {
    const pending = worker.pending.drain();
    worker.unrefNow();
    for (const p of pending) p.reject(error);
  }

  // --- requests ------------------------------------------------------------

  /** Runs `send` with `ref` as the current worker knows it, loading a module again after a worker died. */
  private onRef(ref: number, send: (id: number) => Promise<unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(shutdownError());
    ref = this.current(ref);
    if (this.worker?.owns(ref)) return send(ref);
    if (!this.modules.has(ref)) return Promise.reject(exitedError());
    return this.reload(ref).then(send);
  }

  /** Loads a module again in the current worker; one reload per module and worker. */
  private reload(ref: number): Promise<number> {
    let reload = this.reloading.get(ref);
    if (!reload) {
      const source = this.modules.get(ref)!;
      // The reply gives the bare id: no proxy of its own, which would release the module when collected.
      reload = (this.send(Op.Import, 0, [source.spec, source.cwd], ["spec", "cwd"], { source, bare: true }) as Promise<number>).then(
        (fresh) => {
          if (this.modules.has(ref)) this.remapped.set(ref, fresh);
          else this.release(fresh); // released while it loaded
          return fresh;
        },
      );
      this.reloading.set(ref, reload);
      const forget = () => this.reloading.delete(ref);
      reload.then(forget, forget);
    }
    return reload;
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
      const ref = this.current(id);
      if (!this.worker?.owns(ref) && this.modules.has(ref)) stale.push(this.reload(ref));
    }
    return stale.length ? Promise.all(stale).then(send) : send();
  }

  /** A ref id after the module reloads that replaced it, if any. */
  private current(ref: number): number {
    for (let next = this.remapped.get(ref); next !== undefined; next = this.remapped.get(ref)) ref = next;
    return ref;
  }

  /** A proxy passed as an argument: its id in the current worker and attribute path (a string: why it cannot be passed). */
  private argumentRef(f: Function): number | unknown[] | string | undefined {
    const raw = (f as unknown as Record<symbol, number | unknown[] | undefined>)[this.hooks.refSymbol];
    if (raw === undefined || typeof raw === "string") return raw; // a string: why it cannot be passed
    const [id, ...path] = typeof raw === "number" ? [raw] : (raw as [number, ...string[]]);
    const current = this.current(id);
    if (!this.worker?.owns(current)) throw exitedError();
    return [current, ...path];
  }

  private send(op: Op, ref: number, values: unknown[], roots: string[], importOf?: Pending["importOf"]): Promise<unknown> {
    if (this.closed) return Promise.reject(shutdownError());
    const worker = this.worker ?? this.spawnWorker();
    const seq = (this.seq = (this.seq % 0xffffffff) + 1);
    let pending!: Pending;
    const promise = new Promise((resolve, reject) => (pending = { seq, resolve, reject, importOf }));
    try {
      this.appendFrame(worker, op, seq, ref, values, roots, pending);
    } catch (error) {
      return Promise.reject(error);
    }
    worker.setReferenced(true);
    this.flush();
    this.spin();
    return promise;
  }

  // While calls are pending, keep the event loop polling (a queued
  // setImmediate makes libuv poll with a zero timeout) for spinMicros after
  // the last activity: a reply that comes back within microseconds is read
  // without waking the thread from sleep, which costs tens of µs here.
  private spin(): void {
    if (this.spinMicros <= 0) return;
    this.spinUntil = performance.now() + this.spinMicros / 1000;
    if (this.spinning) return;
    this.spinning = true;
    const tick = () => {
      const worker = this.worker;
      if (!worker || worker.pending.size === 0 || performance.now() > this.spinUntil) {
        this.spinning = false;
        return;
      }
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  /**
   * Encodes a frame and queues its call, in wire order. Re-entered (a
   * getter of a value being encoded calls Python), the nested frame gets an
   * encoder of its own and is sent whole right after the frame being
   * encoded, its call queued after that frame's: frames never interleave.
   */
  private appendFrame(worker: WorkerProcess, op: Op, seq: number, ref: number, values: unknown[], roots: string[], pending: Pending | undefined): void {
    if (this.encoding) {
      const header = new DataView(new ArrayBuffer(HEADER));
      writeHeader(header, op, seq, ref);
      const encoder = new Encoder(this.refOf);
      encoder.appendFrame(new Uint8Array(header.buffer), values, roots);
      this.nested.push({ worker, bytes: encoder.take(), pending });
      return;
    }
    writeHeader(this.header, op, seq, ref);
    this.encoding = true;
    try {
      this.encoder.appendFrame(this.headerBytes, values, roots);
      if (pending) worker.pending.push(pending);
    } finally {
      this.encoding = false;
      if (this.nested.length) this.sendNested();
    }
  }

  /** Writes the frames gathered so far, then the nested ones, and queues their calls. */
  private sendNested(): void {
    const nested = this.nested;
    this.nested = [];
    const gathered = this.encoder.take();
    const worker = this.worker;
    if (worker && !worker.exited && gathered.length) worker.socket.write(gathered);
    for (const frame of nested) {
      if (frame.worker !== this.worker || frame.worker.exited) {
        frame.pending?.reject(exitedError());
        continue;
      }
      frame.worker.socket.write(frame.bytes);
      if (frame.pending) frame.worker.pending.push(frame.pending);
    }
  }

  // Frames made in one tick go out in one write; a long burst is written in
  // 64 KiB steps so that the worker starts on it while JS still sends.
  private flush(): void {
    if (this.encoding) return; // the frame being encoded is not whole yet; its end flushes
    if (this.encoder.size >= 65536) {
      const worker = this.worker;
      if (worker && !worker.exited) worker.socket.write(this.encoder.take());
    }
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      const out = this.encoder.take();
      const worker = this.worker;
      if (worker && !worker.exited && out.length) worker.socket.write(out);
    });
  }

  // --- replies -------------------------------------------------------------

  /** Socket data: whole replies, or a protocol error, never an exception out of the handler. */
  private onData(worker: WorkerProcess, chunk: Buffer): void {
    if (worker.broken) return;
    try {
      for (const payload of worker.reader.push(chunk)) {
        this.onFrame(worker, payload);
        if (worker.broken) return;
      }
    } catch (error) {
      this.onProtocolError(worker, error);
    }
  }

  /** One reply; throws a ProtocolError when it cannot be one. */
  private onFrame(worker: WorkerProcess, payload: Buffer): void {
    const { status, seq } = replyHeader(payload);
    if (status === Status.Ready) {
      if (worker.started) throw new ProtocolError("a second Ready frame");
      const ready = this.decoder(worker, payload);
      worker.readyWith(ready.value() as string, ready.value() as string);
      return;
    }
    const pending = worker.pending.take(seq);
    if (!pending) {
      const expected = worker.pending.expected;
      throw new ProtocolError(`a reply to call #${seq}, ${expected === undefined ? "with no call pending" : `expected #${expected}`}`);
    }
    this.spinUntil = performance.now() + this.spinMicros / 1000;
    if (worker.pending.size === 0) worker.setReferenced(false);
    if (status === Status.Ok) {
      // Most replies are one small number: read it without a Decoder.
      const tag = payload[5];
      if (tag === Tag.Float && payload.length === 14) return pending.resolve(payload.readDoubleLE(6));
      if (tag === Tag.Int && payload.length === 14) {
        const n = payload.readInt32LE(10) * 4294967296 + payload.readUInt32LE(6);
        if (Number.isSafeInteger(n)) return pending.resolve(n);
      }
      if (tag === Tag.None && payload.length === 6) return pending.resolve(null);
    }
    try {
      const decoder = this.decoder(worker, payload);
      if (status === Status.Ok) {
        this.decodingImport = pending.importOf;
        const value = decoder.value();
        this.decodingImport = undefined;
        pending.resolve(value);
      } else {
        const [kind, message, traceback] = [decoder.value(), decoder.value(), status === Status.PythonError ? decoder.value() : ""];
        pending.reject(makeError(status === Status.PythonError, kind as string, message as string, traceback as string));
      }
    } catch (error) {
      this.decodingImport = undefined;
      pending.reject(error);
    }
  }

  private decoder(worker: WorkerProcess, payload: Buffer): Decoder {
    return new Decoder(payload.subarray(5), (id, typeIndex, desc) => this.wrapRef(worker, id, typeIndex, desc));
  }

  private wrapRef(worker: WorkerProcess, id: number, typeIndex: number, desc: RefDescription | undefined): unknown {
    if (desc && typeIndex) worker.descs.set(typeIndex, desc);
    const found = desc ?? worker.descs.get(typeIndex);
    if (id >= this.nextId) this.nextId = id + 1;
    const importOf = this.decodingImport;
    if (importOf && found?.kind === "module") {
      this.decodingImport = undefined;
      this.modules.set(id, importOf.source);
      if (importOf.bare) return id;
    }
    return this.hooks.wrap(id, 0, found);
  }
}

function writeHeader(header: DataView, op: Op, seq: number, ref: number): void {
  header.setUint8(0, op);
  header.setUint32(1, seq, true);
  header.setFloat64(5, ref, true);
}

function spinBudget(): number {
  const us = Number(process.env.ESEM_SPIN_US);
  return Number.isFinite(us) && us >= 0 ? us : 100;
}

function pathList(path: AttrPath): string[] {
  if (path === null) return [];
  return typeof path === "string" ? [path] : [...path];
}

function shutdownError(): BridgeError {
  return new BridgeError("ESEM_SHUTDOWN", "The bridge was shut down; call python() again to start a new one.");
}

function exitedError(): BridgeError {
  return new BridgeError(
    "ESEM_WORKER_EXITED",
    "This Python object lived in a worker process that has exited; create it again (module proxies reload by themselves).",
  );
}
