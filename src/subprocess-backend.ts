// The subprocess backend: a Python worker process (python/esem_bridge/
// worker.py) speaking the frames of docs/protocol.md over a socket that is
// fd 3 in the worker. Calls pipeline; a worker that dies rejects its pending
// calls with ESEM_WORKER_EXITED and the next call starts a new one.
import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import type { AttrPath, Backend, BackendHooks, BridgeInfo, RefDescription } from "./backend.js";
import { Decoder, Encoder, Tag } from "./codec.js";
import { BridgeError, makeError } from "./errors.js";
import { FrameReader } from "./framing.js";
import { pythonRuntimeDir } from "./paths.js";
import { cachedProbe, choosePython, type PythonChoice } from "./python-probe.js";

const enum Op {
  Call = 1,
  GetAttr = 2,
  SetAttr = 3,
  Import = 4,
  Release = 5,
  Helper = 6,
}

const enum Status {
  Ok = 0,
  PythonError = 1,
  BridgeError = 2,
  Ready = 3,
}

/** Ref ids seen by proxies are generation * 2^32 + the worker's own id. */
const GEN = 2 ** 32;
const STDERR_LINES = 20;

// On Linux the worker asks to be killed when Node dies (PR_SET_PDEATHSIG),
// so even a busy worker never outlives Node; elsewhere the socket's EOF ends it.
const BOOT =
  "import sys\n" +
  "if sys.platform.startswith('linux'):\n" +
  "    try:\n" +
  "        import ctypes; ctypes.CDLL(None).prctl(1, 9)\n" +
  "    except Exception:\n" +
  "        pass\n" +
  "sys.path.append(sys.argv[1])\n" +
  "import esem_bridge.worker as w\n" +
  "w.main(3)\n";

interface Pending {
  seq: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  importOf?: ModuleSource;
}

interface ModuleSource {
  spec: string;
  cwd: string;
}

/**
 * Calls awaiting replies. The worker answers in the order it was asked, so
 * a queue (no hashing) finds each reply's call; the seq is checked.
 */
class PendingQueue {
  private items: Pending[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(p: Pending): void {
    this.items.push(p);
  }

  /** The call `seq` answers, or undefined (and the queue unchanged). */
  take(seq: number): Pending | undefined {
    const p = this.items[this.head];
    if (!p || p.seq !== seq) return undefined;
    this.items[this.head++] = undefined as unknown as Pending;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return p;
  }

  drain(): Pending[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

/** One worker process and what belongs to it. */
class WorkerProcess {
  readonly pending = new PendingQueue();
  readonly descs = new Map<number, RefDescription>();
  readonly reader = new FrameReader();
  readonly stderrTail: string[] = [];
  readonly ready: Promise<{ version: string; executable: string }>;
  exited = false;
  started = false; // sent its Ready frame
  referenced = true;
  private settleReady!: { resolve(v: { version: string; executable: string }): void; reject(e: unknown): void };

  constructor(
    readonly child: ChildProcess,
    readonly socket: Socket,
    readonly generation: number,
  ) {
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ready.catch(() => {});
  }

  readyWith(version: string, executable: string): void {
    this.started = true;
    this.settleReady.resolve({ version, executable });
  }

  failReady(error: unknown): void {
    this.settleReady.reject(error);
  }

  private unrefTimer: NodeJS.Immediate | undefined;

  /**
   * Pending calls keep Node alive; an idle worker does not. Going idle is
   * deferred by one loop turn, so back-to-back calls do not toggle the
   * handles (measurably slower) on every call.
   */
  setReferenced(on: boolean): void {
    if (this.exited) return;
    if (on) {
      if (this.unrefTimer) {
        clearImmediate(this.unrefTimer);
        this.unrefTimer = undefined;
      }
      this.apply(true);
      return;
    }
    if (!this.referenced || this.unrefTimer) return;
    this.unrefTimer = setImmediate(() => {
      this.unrefTimer = undefined;
      if (this.pending.size === 0) this.apply(false);
    });
  }

  unrefNow(): void {
    if (this.unrefTimer) {
      clearImmediate(this.unrefTimer);
      this.unrefTimer = undefined;
    }
    this.apply(false);
  }

  private apply(on: boolean): void {
    if (on === this.referenced || this.exited) return;
    this.referenced = on;
    const method = on ? "ref" : "unref";
    this.child[method]();
    this.socket[method]();
    (this.child.stderr as Socket | null)?.[method]?.();
  }
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A worker busy in a long call would only see the socket close when the
  // call ends; Node's exit ends it at once.
  process.once("exit", () => {
    for (const c of liveChildren) c.kill("SIGKILL");
  });
}

export class SubprocessBackend implements Backend {
  readonly mode = "subprocess" as const;
  details: BridgeInfo;
  private worker: WorkerProcess | undefined;
  private generation = 0;
  private seq = 0;
  private closed = false;
  private flushQueued = false;
  private decodingImport: ModuleSource | undefined;
  /** Module proxies survive a worker's death: how to load each again. */
  private readonly modules = new Map<number, ModuleSource>();
  private readonly remapped = new Map<number, number>();
  private readonly reloading = new Map<number, Promise<number>>();
  private readonly encoder: Encoder;
  private readonly headerBytes = new Uint8Array(13);
  private readonly header = new DataView(this.headerBytes.buffer);
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
    this.encoder = new Encoder((f) => this.argumentRef(f));
  }

  /** Starts a worker and waits until it answers. */
  static async start(options: { python?: string; cwd: string; reason: string }, hooks: BackendHooks): Promise<SubprocessBackend> {
    const choice = choosePython(options.python, options.cwd);
    const backend = new SubprocessBackend(choice, options.cwd, hooks, options.reason);
    const worker = backend.spawnWorker();
    const { version, executable } = await worker.ready;
    backend.details.python = { executable, version, libpython: null, source: choice.source };
    if (worker.pending.size === 0) worker.unrefNow();
    return backend;
  }

  importModule(spec: string, cwd: string): Promise<unknown> {
    return this.send(Op.Import, 0, [spec, cwd], ["spec", "cwd"], { spec, cwd });
  }

  call(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown> {
    return this.withFreshArguments(args, () =>
      this.onRef(ref, (local) => this.send(Op.Call, local, [pathList(path), args, kwargs ?? null], ["path", "args", "kwargs"])),
    );
  }

  getAttr(ref: number, path: AttrPath): Promise<unknown> {
    return this.onRef(ref, (local) => this.send(Op.GetAttr, local, [pathList(path)], ["path"]));
  }

  async setAttr(ref: number, path: AttrPath, value: unknown): Promise<void> {
    await this.onRef(ref, (local) => this.send(Op.SetAttr, local, [pathList(path), value], ["path", "value"]));
  }

  helper(name: string, args: unknown[]): Promise<unknown> {
    return this.withFreshArguments(args, () => this.send(Op.Helper, 0, [name, args], ["name", "args"]));
  }

  release(refs: number | readonly number[]): void {
    const worker = this.worker;
    if (this.closed || !worker) return;
    for (let ref of typeof refs === "number" ? [refs] : refs) {
      ref = this.current(ref);
      if (Math.floor(ref / GEN) === worker.generation) this.appendFrame(Op.Release, 0, ref - worker.generation * GEN, [], []);
    }
    this.flush(); // many ids: many small frames, one write
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
    const generation = ++this.generation;
    // The interpreter itself when a probe has already named it: a pyenv
    // shim alone costs ~80 ms a start.
    const command = cachedProbe(this.choice, this.cwd)?.executable ?? this.choice.command;
    const child = spawn(command, ["-u", "-c", BOOT, pythonRuntimeDir], {
      cwd: this.cwd,
      stdio: ["ignore", "inherit", "pipe", "pipe"],
      windowsHide: true,
    });
    const socket = child.stdio[3] as Socket;
    const worker = new WorkerProcess(child, socket, generation);
    this.worker = worker;
    killOnExit(child);

    let partial = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? ""; // a line cut between chunks waits for its end
      worker.stderrTail.push(...lines.filter((l) => l.trim() !== ""));
      if (worker.stderrTail.length > STDERR_LINES) worker.stderrTail.splice(0, worker.stderrTail.length - STDERR_LINES);
    });
    child.stderr?.on("end", () => {
      if (partial.trim() !== "") worker.stderrTail.push(partial);
    });
    socket.on("data", (chunk: Buffer) => {
      for (const payload of worker.reader.push(chunk)) this.onFrame(worker, payload);
    });
    socket.on("error", () => {}); // the exit handler reports
    child.on("error", (error) => {
      this.onExit(worker, null, null, error as NodeJS.ErrnoException);
    });
    child.on("exit", (code, signal) => this.onExit(worker, code, signal, undefined));
    return worker;
  }

  private onExit(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null, spawnError: NodeJS.ErrnoException | undefined): void {
    if (worker.exited) return;
    worker.exited = true;
    if (this.worker === worker) this.worker = undefined;
    const tail = worker.stderrTail.length ? `\nLast stderr lines:\n${worker.stderrTail.join("\n")}` : "";
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

  private rejectAll(worker: WorkerProcess, error: BridgeError): void {
    const pending = worker.pending.drain();
    worker.unrefNow();
    for (const p of pending) p.reject(error);
  }

  // --- requests ------------------------------------------------------------

  /** Runs `send` with the worker's own id for `ref`, loading a module again after a worker died. */
  private onRef(ref: number, send: (local: number) => Promise<unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(shutdownError());
    const original = ref;
    ref = this.current(ref);
    const generation = Math.floor(ref / GEN);
    if (this.worker && generation === this.worker.generation) return send(ref - generation * GEN);
    if (!this.modules.has(ref)) return Promise.reject(exitedError());
    return this.reload(ref).then((fresh) => {
      this.remapped.set(original, fresh);
      return send(fresh - Math.floor(fresh / GEN) * GEN);
    });
  }

  /** Loads a module again in the current worker; one reload per module and worker. */
  private reload(ref: number): Promise<number> {
    let reload = this.reloading.get(ref);
    if (!reload) {
      const source = this.modules.get(ref)!;
      reload = this.importModule(source.spec, source.cwd).then((proxy) => {
        const fresh = (proxy as Record<symbol, number>)[this.hooks.refSymbol];
        this.remapped.set(ref, fresh);
        return fresh;
      });
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
      if ((!this.worker || Math.floor(ref / GEN) !== this.worker.generation) && this.modules.has(ref)) stale.push(this.reload(ref));
    }
    return stale.length ? Promise.all(stale).then(send) : send();
  }

  /** A ref id after the module reloads that replaced it, if any. */
  private current(ref: number): number {
    for (let next = this.remapped.get(ref); next !== undefined; next = this.remapped.get(ref)) ref = next;
    return ref;
  }

  /** A proxy passed as an argument: the worker's own id and attribute path. */
  private argumentRef(f: Function): number | unknown[] | string | undefined {
    const raw = (f as unknown as Record<symbol, number | unknown[] | undefined>)[this.hooks.refSymbol];
    if (raw === undefined || typeof raw === "string") return raw; // a string: why it cannot be passed
    const [id, ...path] = typeof raw === "number" ? [raw] : (raw as [number, ...string[]]);
    const current = this.current(id);
    const worker = this.worker;
    if (!worker || Math.floor(current / GEN) !== worker.generation) throw exitedError();
    return [current - worker.generation * GEN, ...path];
  }

  private send(op: Op, ref: number, values: unknown[], roots: string[], importOf?: ModuleSource): Promise<unknown> {
    if (this.closed) return Promise.reject(shutdownError());
    let worker = this.worker;
    if (!worker) worker = this.spawnWorker();
    const seq = (this.seq = (this.seq % 0xffffffff) + 1);
    try {
      this.appendFrame(op, seq, ref, values, roots);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      worker!.pending.push({ seq, resolve, reject, importOf });
      worker!.setReferenced(true);
      this.flush();
      this.spin();
    });
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

  private appendFrame(op: Op, seq: number, ref: number, values: unknown[], roots: string[]): void {
    const h = this.header;
    h.setUint8(0, op);
    h.setUint32(1, seq, true);
    h.setFloat64(5, ref, true);
    this.encoder.appendFrame(this.headerBytes, values, roots);
  }

  // Frames made in one tick go out in one write; a long burst is written in
  // 64 KiB steps so that the worker starts on it while JS still sends.
  private flush(): void {
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

  private onFrame(worker: WorkerProcess, payload: Buffer): void {
    const status = payload[0];
    const seq = payload.readUInt32LE(1);
    if (status === Status.Ready) {
      const ready = this.decoder(worker, payload);
      worker.readyWith(ready.value() as string, ready.value() as string);
      return;
    }
    const pending = worker.pending.take(seq);
    if (!pending) return;
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
    const decoder = this.decoder(worker, payload);
    try {
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
    const global = worker.generation * GEN + id;
    if (this.decodingImport && found?.kind === "module") {
      this.modules.set(global, this.decodingImport);
      this.decodingImport = undefined;
    }
    return this.hooks.wrap(global, 0, found);
  }
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
