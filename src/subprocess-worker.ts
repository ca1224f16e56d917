// One worker process of the subprocess mode and what belongs to it: the
// child, its socket (fd 3 in the worker), its pending calls, type
// descriptions and stderr tail, and whether it keeps Node alive.
import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import type { RefDescription } from "./backend.js";
import { FrameReader, REPLY_HEADER } from "./framing.js";
import { pythonRuntimeDir } from "./paths.js";
import { VERSION_GATE } from "./python-support.js";
import { bytecodeCacheFolder } from "./probe-cache.js";
import { PendingCalls } from "./subprocess-pending.js";
import { wireLibraryPath } from "./wire-library.js";

const STDERR_LINES = 20;

// On Linux the worker asks to be killed when Node dies (PR_SET_PDEATHSIG,
// worker.main: native_codec.die_with_parent), so even a busy worker never
// outlives Node; elsewhere the socket's EOF ends it. VERSION_GATE first: an
// interpreter older than 3.8 exits with one line the lifecycle turns into
// "Python X is not supported" before it reads a line of the runtime (which
// it could not parse).
// The bytecode cache's own module, and the package's __init__, are read
// from the cache folder through sys.pycache_prefix while it is imported
// (bytecode_cache._keep_boot_code).
const BOOT =
  VERSION_GATE +
  "sys.path.append(sys.argv[1])\n" +
  "p = sys.pycache_prefix\n" +
  "sys.pycache_prefix = sys.argv[5] or p\n" +
  "import esem_bridge.bytecode_cache as c\n" +
  "sys.pycache_prefix = p\n" +
  "c.install(sys.argv[5])\n" +
  "import esem_bridge.worker as w\n" +
  "w.main(3, int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))\n";

export class WorkerProcess {
  readonly pending = new PendingCalls();
  readonly descs = new Map<number, RefDescription>();
  readonly reader = new FrameReader({ minPayload: REPLY_HEADER });
  private readonly stderrTail: string[] = [];
  readonly ready: Promise<{ version: string; executable: string }>;
  readonly child: ChildProcess;
  readonly socket: Socket;
  exited = false;
  /** Sent a malformed frame: stopped, its later bytes ignored. */
  broken = false;
  started = false; // sent its Ready frame
  /** Why the bridge killed it (restartStuckWorker), for the pending calls' error. */
  killedBecause: string | undefined;
  private referenced = true;
  private settleReady!: { resolve(v: { version: string; executable: string }): void; reject(e: unknown): void };

  /**
   * Starts `python` as a worker whose object ids start at firstId: every
   * id this worker gives is >= firstId, every id of an earlier worker of
   * the bridge is below it.
   */
  constructor(python: string, cwd: string, private readonly firstId: number, threads = 4) {
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ready.catch(() => {});
    // node:child_process on first use (start-up time of an app that never needs the worker).
    this.child = (require("node:child_process") as typeof import("node:child_process")).spawn(python, ["-u", "-c", BOOT, pythonRuntimeDir, String(firstId), wireLibraryPath(), String(threads), bytecodeCacheFolder()], {
      cwd,
      stdio: ["ignore", "inherit", "pipe", "pipe"],
      windowsHide: true,
    });
    this.socket = this.child.stdio[3] as Socket;
    killOnExit(this.child);
    this.keepStderrTail();
  }

  /** Whether the object id came from this worker. */
  owns(id: number): boolean {
    return id >= this.firstId;
  }

  readyWith(version: string, executable: string): void {
    this.started = true;
    this.settleReady.resolve({ version, executable });
  }

  failReady(error: unknown): void {
    this.settleReady.reject(error);
  }

  stderrLines(): string {
    return this.stderrTail.length ? `\nLast stderr lines:\n${this.stderrTail.join("\n")}` : "";
  }

  private keepStderrTail(): void {
    let partial = "";
    this.child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? ""; // a line cut between chunks waits for its end
      this.stderrTail.push(...lines.filter((l) => l.trim() !== ""));
      if (this.stderrTail.length > STDERR_LINES) this.stderrTail.splice(0, this.stderrTail.length - STDERR_LINES);
    });
    this.child.stderr?.on("end", () => {
      if (partial.trim() !== "") this.stderrTail.push(partial);
    });
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
