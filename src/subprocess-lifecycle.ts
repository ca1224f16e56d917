// The worker processes of one subprocess bridge, one after another: starts
// a worker when a call needs one, says where its object ids start, and turns
// a worker's end (exit, a failed start, a malformed reply, shutdown) into
// the rejection of its pending calls.
//
// Object ids are the worker's own, unique for the bridge's life: a new
// worker's registry starts after the highest id the bridge has seen, so an
// id below the current worker's first id belongs to a worker that is gone.
import type { ShutdownOptions } from "./backend.js";
import { BridgeError } from "./errors.js";
import { ProtocolError } from "./framing.js";
import { cachedProbe, type PythonChoice } from "./python-probe.js";
import { OLDEST, SUPPORTED_RANGE, UNSUPPORTED_EXIT_CODE, unsupportedError, unsupportedVersionIn } from "./python-support.js";
import { WorkerProcess } from "./subprocess-worker.js";

export interface LifecycleEvents {
  /** Bytes from a worker's socket. */
  data(worker: WorkerProcess, chunk: Buffer): void;
  /** The worker is gone for this bridge; called before its calls are rejected. */
  lost(worker: WorkerProcess): void;
}

export class WorkerLifecycle {
  private worker: WorkerProcess | undefined;
  /** Above every object id seen so far: where the next worker's ids start. */
  private nextId: number;
  /** Shut down: no worker starts any more. */
  closed = false;

  constructor(
    private readonly choice: PythonChoice,
    private readonly cwd: string,
    firstId: number,
    private readonly threads: number,
    private readonly events: LifecycleEvents,
  ) {
    this.nextId = firstId;
  }

  /** The running worker, if any. */
  get current(): WorkerProcess | undefined {
    return this.worker;
  }

  /** The running worker, or a new one. */
  acquire(): WorkerProcess {
    return this.worker ?? this.spawn();
  }

  /** Whether the running worker gave out this object id. */
  owns(id: number): boolean {
    return this.worker?.owns(id) ?? false;
  }

  /** An object id a reply carried: the next worker's ids start above it. */
  saw(id: number): void {
    if (id >= this.nextId) this.nextId = id + 1;
  }

  private spawn(): WorkerProcess {
    // The interpreter itself when a probe has already named it: a pyenv
    // shim alone costs ~80 ms a start.
    const command = cachedProbe(this.choice, this.cwd)?.executable ?? this.choice.command;
    const worker = new WorkerProcess(command, this.cwd, this.nextId, this.threads);
    this.worker = worker;
    worker.socket.on("data", (chunk: Buffer) => this.events.data(worker, chunk));
    worker.socket.on("error", () => {}); // the exit handler reports
    worker.child.on("error", (error) => {
      this.onExit(worker, null, null, error as NodeJS.ErrnoException);
    });
    worker.child.on("exit", (code, signal) => this.onExit(worker, code, signal, undefined));
    return worker;
  }

  private lose(worker: WorkerProcess): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.events.lost(worker);
  }

  private onExit(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null, spawnError: NodeJS.ErrnoException | undefined): void {
    if (worker.exited) return;
    worker.exited = true;
    this.lose(worker);
    if (worker.broken) return; // its calls were rejected with the protocol error
    if (!spawnError && !worker.started && code === UNSUPPORTED_EXIT_CODE) {
      // Its one stderr line may still be in the pipe at "exit": read it at "close".
      const fail = () => {
        const version = unsupportedVersionIn(worker.stderrLines()) ?? `older than ${OLDEST.join(".")}`;
        const error = unsupportedError(version, this.choice.command, this.choice.source);
        worker.failReady(error);
        this.rejectAll(worker, error);
      };
      if (worker.child.stdio.every((s) => !s || s.destroyed)) fail();
      else worker.child.once("close", fail);
      return;
    }
    const tail = worker.stderrLines();
    if (spawnError || !worker.started) {
      const how = spawnError?.code === "ENOENT" ? "was not found" : spawnError ? `could not start (${spawnError.message})` : `exited at start (code ${code}, signal ${signal})`;
      const error = new BridgeError(
        "ESEM_NO_PYTHON",
        `Python interpreter "${this.choice.command}" (chosen by ${this.choice.source}) ${how}. ` +
          `Install Python ${SUPPORTED_RANGE}, or point at one with createBridge({ python }) or ESEM_PYTHON=/path/to/python3.${tail}`,
      );
      worker.failReady(error);
      this.rejectAll(worker, error);
      return;
    }
    const how = worker.killedBecause ? `was restarted because ${worker.killedBecause}` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
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
  protocolError(worker: WorkerProcess, error: unknown): void {
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

  /** Kills a worker (its pending calls reject with ESEM_WORKER_EXITED, saying why); the next call starts a new one. */
  kill(worker: WorkerProcess, why: string): void {
    if (worker.exited) return;
    worker.killedBecause = why;
    worker.child.kill("SIGKILL");
  }

  /**
   * Rejects the pending calls, closes the socket (the worker exits at EOF)
   * and waits for the exit; SIGKILL after `timeout` ms (default 2000), or
   * at once with `force`.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const error = new BridgeError("ESEM_SHUTDOWN", "The bridge was shut down before this call finished; load the module again with python() to go on.");
    worker.failReady(error); // a start() still waiting for the worker
    this.rejectAll(worker, error);
    if (worker.exited) return;
    const exited = new Promise<void>((resolve) => worker.child.once("exit", () => resolve()));
    worker.child.ref(); // `await shutdown()` must be able to see the exit, even in an otherwise idle Node
    worker.socket.end();
    const t = options.timeout;
    const timeout = typeof t === "number" && t >= 0 ? Math.min(t, 2 ** 31 - 1) : 2000;
    if (options.force || timeout === 0) {
      worker.child.kill("SIGKILL");
      await exited;
      return;
    }
    const timer = setTimeout(() => worker.child.kill("SIGKILL"), timeout);
    timer.unref();
    await exited;
    clearTimeout(timer);
  }
}

export function shutdownError(): BridgeError {
  return new BridgeError("ESEM_SHUTDOWN", "The bridge was shut down; call python() again to start a new one.");
}

export function exitedError(): BridgeError {
  return new BridgeError(
    "ESEM_WORKER_EXITED",
    "This Python object lived in a worker process that has exited; create it again (module proxies reload by themselves).",
  );
}
