// The interface both backends implement; the proxy layer sees only this.
import type { CallOptions } from "./call-options.js";

export type Mode = "native" | "subprocess";

/** How a backend describes a Python object's type, once per type. */
export interface RefDescription {
  kind: "module" | "class" | "function" | "object";
  typeName: string;
  members: string[];
  hasRelease: boolean;
  callable: boolean;
  iterable: boolean;
  /** Members that are methods (callable, with no Python attribute named call, apply or bind). */
  callables: string[];
}

/** What a FastSync answers for arguments it does not take. */
export const NOT_FAST: unique symbol = Symbol("esem.notFast");
export type FastSync = (args: unknown[]) => unknown;

/** A path below a ref: one attribute name, several, or none (the object itself). */
export type AttrPath = string | readonly string[] | null;

export interface Backend {
  readonly mode: Mode;
  /**
   * Settles when Python has answered: at once in native mode (the backend
   * exists once the interpreter runs); the subprocess worker's Ready frame,
   * or its failure to start. Calls made before it queue behind the start.
   */
  readonly started: Promise<void>;
  importModule(spec: string, cwd: string): Promise<unknown>;
  call(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>, options?: Readonly<CallOptions>): Promise<unknown>;
  /** A call run on this thread, returning its result: native mode only (callSync()). */
  callSync(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>): unknown;
  /**
   * callSync()'s fast form for a module function: runs it with these
   * arguments, or answers NOT_FAST when they are not plain scalars (then
   * callSync takes them). Undefined when there is none for this target.
   */
  fastSync?(ref: number, path: AttrPath): FastSync | undefined;
  getAttr(ref: number, path: AttrPath): Promise<unknown>;
  setAttr(ref: number, path: AttrPath, value: unknown): Promise<void>;
  /** Calls esem_bridge.ops.<name>(*args) on the Python side. */
  helper(name: string, args: unknown[]): Promise<unknown>;
  /** Drops the bridge's references (one id or many), in order with the calls that follow (no reply). */
  release(ref: number | readonly number[]): void;
  shutdown(options?: ShutdownOptions): Promise<void>;
}

/** bridge.shutdown(options). */
export interface ShutdownOptions {
  /** Subprocess mode: ms to wait for the worker to exit by itself once its socket closes, then SIGKILL (default 2000). */
  timeout?: number;
  /** Subprocess mode: kill the worker at once (SIGKILL), without waiting for its running call. */
  force?: boolean;
}

/** What a backend gets from the proxy layer. */
export interface BackendHooks {
  /** Symbol a proxy answers with its ref id (or [id, ...path]). */
  refSymbol: symbol;
  /** Makes the proxy for a Python object the backend registered. */
  wrap(id: number, typeIndex: number, desc: RefDescription | undefined): unknown;
}

export interface PythonDetails {
  executable: string;
  version: string;
  libpython: string | null;
  /** Why this interpreter: "option", "ESEM_PYTHON", "VIRTUAL_ENV", "CONDA_PREFIX", ".venv" or "PATH". */
  source: string;
}

export interface BridgeInfo {
  mode: Mode | null;
  reason: string | null;
  python: PythonDetails | null;
  addon: { path: string; prebuilt: boolean } | null;
}
