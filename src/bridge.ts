// Bridge: one connection to Python, started on the first python() call.
import type { BridgeInfo, Mode, ShutdownOptions } from "./backend.js";
import { BridgeError, atCaller } from "./errors.js";
import { NativeBackend } from "./native-backend.js";
import { SubprocessBackend } from "./subprocess-backend.js";
import { moduleSpec } from "./module-spec.js";
import { Session } from "./proxy.js";
import type { PyProxy, Remote } from "./types.js";
import { evaluate, execute, readStatement } from "./expressions.js";

export interface BridgeOptions {
  /** "auto" (default, or ESEM_MODE): native when it can load, else subprocess. */
  mode?: "auto" | Mode;
  /** Interpreter path; default ESEM_PYTHON, then an active venv/conda env, ./.venv, python3 on PATH. */
  python?: string;
  /** Folder that relative file specs and the interpreter's cwd resolve against; default process.cwd() at each call. */
  cwd?: string;
  /**
   * How many Python threads may run this bridge's calls at once (default 4,
   * 1 to 64): when the running calls block (sleep, I/O, C code that lets
   * go of the GIL), queued ones run on more threads (docs/concurrency.md).
   */
  threads?: number;
  /**
   * Subprocess mode: restart the worker when a cancelled call has not
   * ended this many ms after its cancel (true: 1000), e.g. one stuck in C
   * code. Its other pending calls reject with ESEM_WORKER_EXITED.
   */
  restartStuckWorker?: boolean | number;
}

/** A module proxy: PyProxy untyped, Remote<T> when the caller gives T. */
export type ModuleProxy<T = never> = [T] extends [never] ? PyProxy : Remote<T>;

export class Bridge {
  private readonly requested: "auto" | Mode;
  private session: Session | undefined;
  private starting: Promise<Session> | undefined;
  private details: BridgeInfo;

  constructor(private readonly options: BridgeOptions = {}) {
    const mode = options.mode ?? (process.env.ESEM_MODE as BridgeOptions["mode"]) ?? "auto";
    if (!["auto", "native", "subprocess"].includes(mode)) {
      throw new BridgeError("ESEM_UNSUPPORTED_MODE", `Unknown mode "${mode}": use "auto", "native" or "subprocess".`);
    }
    const threads = options.threads;
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
      throw new TypeError(`createBridge(): threads must be a whole number from 1 to 64, not ${String(threads)}`);
    }
    this.requested = mode;
    this.details = { mode: null, reason: "not started: the bridge starts on the first python() call", python: null, addon: null };
  }

  /** The mode in use, or the one that will be tried first. */
  get mode(): Mode {
    return this.details.mode ?? (this.requested === "subprocess" ? "subprocess" : "native");
  }

  info(): BridgeInfo {
    return { ...this.details };
  }

  /**
   * Loads a Python file (`./x.py`, resolved against cwd; a `file:` URL or
   * `new URL("./x.py", import.meta.url)`) or module (`json`, `os.path`).
   */
  async python<T = never>(spec: string | URL): Promise<ModuleProxy<T>> {
    try {
      const target = moduleSpec(spec);
      const session = await this.ensure();
      return (await session.backend.importModule(target, this.cwd())) as ModuleProxy<T>;
    } catch (error) {
      throw atCaller(error, this.python);
    }
  }

  /** Starts the bridge if it is not running (what the first python() does), and waits until Python answers. */
  async start(): Promise<void> {
    await (await this.ensure()).backend.started;
  }

  /** @internal The running session (started if need be), for the exported helpers. */
  connected(): Promise<Session> {
    return this.ensure();
  }

  /**
   * Evaluates a Python expression on this bridge: `eval("a + b", { a, b })`,
   * `eval("x * 2", namespace)`, `eval("x * k", namespace, { k })` or the
   * tagged template `eval\`${a} + ${b}\``; bound JS values are real Python
   * names, never source text (docs/objects.md#eval).
   */
  async eval(source: string | TemplateStringsArray, ...rest: unknown[]): Promise<any> {
    const statement = readStatement("eval", [source, ...rest]);
    try {
      return await evaluate((await this.ensure()).backend, statement);
    } catch (error) {
      throw atCaller(error, this.eval);
    }
  }

  /**
   * Runs Python statements on this bridge and resolves with the namespace
   * they ran in (a module proxy: `await ns.x` reads a variable). Pass it
   * back to run more in the same namespace: `exec(code, ns, vars?)`.
   */
  async exec(source: string | TemplateStringsArray, ...rest: unknown[]): Promise<PyProxy> {
    const statement = readStatement("exec", [source, ...rest]);
    try {
      return (await execute((await this.ensure()).backend, statement)) as PyProxy;
    } catch (error) {
      throw atCaller(error, this.exec);
    }
  }

  /**
   * Rejects pending calls with ESEM_SHUTDOWN and stops Python; a later
   * python() starts afresh. Subprocess mode: waits at most `timeout` ms
   * (default 2000) for the worker to exit, or kills it at once with `force`.
   */
  async shutdown(options?: ShutdownOptions): Promise<void> {
    const starting = this.starting;
    this.starting = undefined;
    this.session = undefined;
    if (!starting) return;
    let session: Session;
    try {
      session = await starting;
    } catch {
      return; // never started
    }
    session.closed = true;
    await session.backend.shutdown(options);
  }

  private cwd(): string {
    return this.options.cwd ?? process.cwd();
  }

  private ensure(): Promise<Session> {
    if (this.session) return Promise.resolve(this.session);
    if (!this.starting) {
      const starting = this.launch();
      this.starting = starting;
      starting.then(
        (session) => {
          if (this.starting === starting) this.session = session;
        },
        () => {
          if (this.starting === starting) this.starting = undefined;
        },
      );
    }
    return this.starting;
  }

  private async launch(): Promise<Session> {
    const session = new Session();
    try {
      const backend = await this.startBackend(session);
      session.backend = backend;
      this.details = backend.details;
      // A worker that fails to start rejects the calls sent meanwhile;
      // then the bridge is not started, as when the native mode fails.
      backend.started.catch((error: unknown) => {
        if (this.session !== session) return; // shut down meanwhile
        this.session = undefined;
        this.starting = undefined;
        this.notStarted(error);
        void backend.shutdown();
      });
    } catch (error) {
      this.notStarted(error);
      throw error;
    }
    return session;
  }

  private notStarted(error: unknown): void {
    this.details = { mode: null, reason: error instanceof Error ? error.message : String(error), python: null, addon: null };
  }

  // "native" and "subprocess" start that backend or fail; "auto" tries the
  // native mode and falls back to a worker process, saying why in info().
  private async startBackend(session: Session): Promise<NativeBackend | SubprocessBackend> {
    const options = { python: this.options.python, cwd: this.cwd(), threads: this.options.threads ?? 4 };
    const sub = { ...options, restartStuckWorker: this.options.restartStuckWorker };
    if (this.requested === "subprocess") {
      return SubprocessBackend.start({ ...sub, reason: "subprocess mode was requested" }, session);
    }
    try {
      return await NativeBackend.start(options, session);
    } catch (error) {
      if (this.requested === "native" || !(error instanceof BridgeError) || error.code !== "ESEM_NO_PYTHON") throw error;
      const why = error.message.split("\n")[0].replace(/^Native mode is unavailable: /, "");
      return SubprocessBackend.start({ ...sub, reason: `subprocess, because the native mode is unavailable: ${why}` }, session);
    }
  }
}

/** A bridge of its own (several may coexist; each owns its objects). */
export function createBridge(options?: BridgeOptions): Bridge {
  return new Bridge(options);
}
