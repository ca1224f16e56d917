// Loads the addon (a prebuild or the local build) and types its surface.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { BUILD_COMMAND } from "./build-command.js";
import { packageRoot } from "./paths.js";
import type { AttrPath, RefDescription } from "./backend.js";

export interface NativeConfig {
  libraries: string[];
  program: string;
  prefix: string;
  sysPath: string[];
  runtimeDir: string;
  /** A private folder for the esem_bridge package's bytecode, or "" (src/probe-cache.ts). */
  bytecodeCache?: string;
  spinMicros?: number;
  /** Python threads that may run calls at once (the process's host takes the latest bridge's). */
  threads?: number;
}

export interface NativeJsHooks {
  wrap(id: number, typeIndex: number, desc: RefDescription | undefined): unknown;
  /** links: [type, message, traceback, registry id of the exception] per exception of a Python chain. */
  makeError(python: boolean, typeOrCode: string, message: string, traceback: string, links: [string, string, string, number][]): Error;
  /** Decodes a result sent in the wire format (src/codec.ts), with the Python buffers lent beside it. */
  /** A result: wire bytes and the buffers beside them, or JSON text (src/json-lane.ts). */
  decode(bytes: Uint8Array | string, side?: ArrayBuffer[]): unknown;
  /** Python called JS function `fnId`: run it and answer with NativeBridge.reply(token, ...). */
  callback(token: number, fnId: number, call: [unknown[], Record<string, unknown> | null]): void;
  /** Python dropped JS function `fnId` after receiving it `count` times. */
  releaseCallback(fnId: number, count: number): void;
  /** Python called JS function `fnId` during a callSync on this thread: run it now; [ok, wire bytes]. */
  /** During a callSync: the JS function's plain value itself, or [ok, bytes]. */
  callbackSync(fnId: number, call: [unknown[], Record<string, unknown> | null]): unknown;
  /** callback() with plain arguments passed as themselves. */
  callbackPlain(token: number, fnId: number, ...args: unknown[]): void;
  /** The same with plain arguments passed as themselves. */
  callbackSyncPlain(fnId: number, ...args: unknown[]): unknown;
}

/** A value for Python as wire bytes and the JS buffers beside them. */
export type WireArgs = [bytes: Uint8Array, side: ArrayBufferView[]];

export interface NativeBridge {
  /** Resolves with the path of the libpython in use. */
  start(): Promise<string>;
  /**
   * A call whose arguments are all numbers, strings, booleans, null or
   * undefined (the fast path): as themselves (the library's form for a few),
   * or in one array.
   */
  call(ref: number, path: AttrPath, ...args: unknown[]): Promise<unknown>;
  /** A call with its arguments as [args, kwargs|null] in the wire format. */
  /** bytes: the wire format, or JSON text of [args, kwargs or null] (src/json-lane.ts). */
  /** lent: bytes are read in place on the Python thread (not copied); the caller leaves their memory alone until the call settles. */
  callWire(ref: number, path: AttrPath, bytes: Uint8Array | string, side: ArrayBufferView[] | undefined, keepResult?: boolean, lent?: boolean): Promise<unknown>;
  /** Calls submitted from now on may get a plain container result as JSON text of at most this many bytes (passed to decode()); 0: none. */
  jsonResults(bytes: number, keep: boolean): void;
  getAttr(ref: number, path: AttrPath): Promise<unknown>;
  /** Sets the attribute to the one value in the wire bytes. */
  setAttr(ref: number, path: AttrPath, ...wire: WireArgs): Promise<null>;
  importModule(spec: string, cwd: string): Promise<unknown>;
  /** esem_bridge.ops.<name>(*args), the arguments as in callWire. */
  /** callSync's fast path: a prepared function (prepareSync), scalar arguments passed as themselves. */
  callFast(handle: number, ...args: unknown[]): unknown;
  helper(name: string, bytes: Uint8Array, side: ArrayBufferView[], ref?: number): Promise<unknown>;
  /** Queues the release of ids; no reply. */
  release(ids: number | number[]): void;
  shutdown(): Promise<void>;
  /** Answers callback `token`: wire bytes of [value] (ok) or of [name, message, stack]. */
  reply(token: number, ok: boolean, bytes: Uint8Array): void;
  /** A callback's plain value (see isPlain in native-backend.ts). */
  replyPlain(token: number, value: unknown): void;
  /** Rejects call `seq` with `error` at once and cancels its job; false when it already settled. */
  cancel(seq: number, error: Error): boolean;
  /** Runs the call on this thread under the GIL and returns its result (throws its error). */
  callSync(ref: number, path: AttrPath, argsOrBytes: unknown[] | Uint8Array, side?: ArrayBufferView[]): unknown;
  /** The bridge's running calls get CallCancelled. */
  cancelRunning(): void;
  /** Frees the spare jobs the last second did not use (called from a timer). */
  trimSpares(): void;
  /** A handle for callFast: a module function held until shutdown; 0 when it is not one. */
  prepareSync(ref: number, path: AttrPath): number;
  /** The seq of the call submitted since the last lastSeq() (then 0). */
  lastSeq(): number;
}

export interface NativeAddon {
  NativeBridge: new (config: NativeConfig, hooks: NativeJsHooks) => NativeBridge;
  /** Stops all Python code for good (process exit). */
  freeze(): void;
  abiVersion: number;
}

export interface AddonLoad {
  addon: NativeAddon | null;
  path: string | null;
  prebuilt: boolean;
  error: string | null;
}

let loaded: AddonLoad | undefined;

/** The addon, loaded once per environment; `error` says why when it cannot load. */
export function loadAddon(): AddonLoad {
  if (loaded) return loaded;
  const require = createRequire(__filename);
  try {
    // ESEM_ADDON: an explicit .node file (a sanitizer or debug build). A
    // local build is what node-gyp-build would pick first; it is looked
    // for without loading node-gyp-build (~2.5 ms of a start), which
    // finds the prebuild for this platform otherwise.
    const local = join(packageRoot, "build", "Release", "esem_bridge.node");
    const path = process.env.ESEM_ADDON || (!process.env.PREBUILDS_ONLY && existsSync(local) ? local : (require("node-gyp-build") as { path(dir: string): string }).path(packageRoot));
    const addon = require(path) as NativeAddon;
    loaded = { addon, path, prebuilt: /[\\/]prebuilds[\\/]/.test(path), error: null };
  } catch (error) {
    const why = (error as Error).message.split("\n")[0];
    loaded = {
      addon: null,
      path: null,
      prebuilt: false,
      error: process.env.ESEM_ADDON
        ? `the addon that ESEM_ADDON names does not load (${why}). Unset ESEM_ADDON to use the package's own addon, or point it at a built esem_bridge.node`
        : `the native addon is not built (${why}). ` +
          `Build it with: ${BUILD_COMMAND} (needs a C++ compiler; see docs/troubleshooting.md#the-native-addon-is-not-built)`,
    };
  }
  return loaded;
}

let freezing = false;

/**
 * Has the main thread's process end (normal end, process.exit, an uncaught
 * error) stop Python before Node tears environments and C++ statics down,
 * so no __del__ or Python thread runs during that; workers end with the
 * process. Called once Python is starting: node:worker_threads (~2 ms to
 * load) is loaded while the interpreter initializes on its own thread.
 */
export function freezeAtExit(addon: NativeAddon): void {
  if (freezing) return;
  freezing = true;
  if ((createRequire(__filename)("node:worker_threads") as typeof import("node:worker_threads")).isMainThread) process.once("exit", () => addon.freeze());
}
