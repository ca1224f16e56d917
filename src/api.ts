// The default bridge and the helpers that act on proxies.
import { Bridge, type ModuleProxy } from "./bridge.js";
import { BridgeError } from "./errors.js";
import { kwargsOf } from "./kwargs.js";
import { calleeName, iterateProxy, releaseProxy, rootOf, rootStateOf, type Session } from "./proxy.js";
import { NOT_FAST, type AttrPath, type Backend, type FastSync } from "./backend.js";
import { DEBUG_CALLS, logSync } from "./debug-log.js";
import { backendOf, evaluate, execute, readStatement } from "./expressions.js";
import { atCaller } from "./errors.js";
import type { PyProxy } from "./types.js";
export { withContext } from "./context.js";

let defaultBridge: Bridge | undefined;

function bridge(): Bridge {
  return (defaultBridge ??= new Bridge());
}

/** `const { add } = await python("./calc.py")` (or `new URL("./calc.py", import.meta.url)`): loads a module on the default bridge. */
export async function python<T = never>(spec: string | URL): Promise<ModuleProxy<T>> {
  return bridge().python<T>(spec);
}

/** Stops the default bridge; pending calls reject with ESEM_SHUTDOWN. */
export async function shutdown(): Promise<void> {
  await defaultBridge?.shutdown();
}

/** Kept from 0.1: starts the default bridge. */
export async function ensureWorker(): Promise<void> {
  return bridge().start();
}

/** Releases the bridge's reference to a proxied Python object. */
export function release(proxy: unknown): Promise<void> {
  return releaseProxy(proxy);
}

/**
 * Calls a Python callable synchronously and returns its result, native
 * mode only (docs/concurrency.md#sync): `callSync(add, 1, 2)` is 3, not a
 * promise. The call runs on this thread holding the GIL, so it waits its
 * turn while other Python threads run and blocks this thread until it
 * returns; keep it for short, hot calls. Throws PythonError or BridgeError.
 */
export function callSync(fn: unknown, ...args: unknown[]): unknown {
  if (DEBUG_CALLS) {
    return logSync(rootOf(fn)?.session.mode ?? "?", calleeName(fn), () => syncCall(fn, args));
  }
  return syncCall(fn, args);
}

function syncCall(fn: unknown, args: unknown[]): unknown {
  const target = syncTargets.get(fn as object) ?? syncTarget(fn);
  if (target.root.session.closed) throw new BridgeError("ESEM_SHUTDOWN", "The bridge that made this proxy was shut down; load the module again with python().");
  if (target.root.released) throw new BridgeError("ESEM_RELEASED", "This Python object was released; create or fetch a new one to keep using it.");
  if (target.fast) {
    // The hot path: a module function, plain arguments.
    const out = target.fast(args);
    if (out !== NOT_FAST) return out;
  }
  const kwargs = kwargsOf(args);
  const { backend, ref, path } = target;
  return kwargs ? backend.callSync(ref, path, args.slice(0, -1), kwargs) : backend.callSync(ref, path, args);
}

/** What callSync needs of a proxy, read once (no proxy trap on later calls). */
interface SyncTarget {
  root: { readonly released: boolean; readonly session: Session };
  backend: Backend;
  ref: number;
  path: AttrPath;
  /** The backend's fast form, for a module function (undefined: none). */
  fast: FastSync | undefined;
}

const syncTargets = new WeakMap<object, SyncTarget>();

function syncTarget(fn: unknown): SyncTarget {
  const root = rootOf(fn);
  if (!root) throw new TypeError("callSync() takes a proxy of a Python callable");
  const state = rootStateOf(fn)!;
  const backend = root.session.backend;
  const path: AttrPath = root.path.length === 0 ? null : root.path.length === 1 ? root.path[0] : root.path;
  if (root.session.closed || state.released) return { root: state, backend, ref: root.ref, path, fast: undefined }; // not cached: errors above
  const target = { root: state, backend, ref: root.ref, path, fast: backend.fastSync?.(root.ref, path) };
  syncTargets.set(fn as object, target);
  return target;
}

/** `for await (const x of iterate(obj))` over any Python iterable. */
export function iterate(proxy: unknown): AsyncGenerator<unknown, void, undefined> {
  return iterateProxy(proxy);
}

function helper(publicName: string, name: string, proxy: unknown, args: unknown[]): Promise<unknown> {
  const root = rootOf(proxy);
  if (!root) return Promise.reject(new TypeError(`${publicName}() takes a proxy of a Python object`));
  return root.session.backend.helper(name, [proxy, ...args]);
}

/** Python's len(obj). */
export function len(proxy: unknown): Promise<number> {
  return helper("len", "length", proxy, []) as Promise<number>;
}
/** obj[key] */
export function getitem(proxy: unknown, key: unknown): Promise<unknown> {
  return helper("getitem", "get_item", proxy, [key]);
}
/** obj[key] = value */
export async function setitem(proxy: unknown, key: unknown, value: unknown): Promise<void> {
  await helper("setitem", "set_item", proxy, [key, value]);
}
/** del obj[key] */
export async function delitem(proxy: unknown, key: unknown): Promise<void> {
  await helper("delitem", "del_item", proxy, [key]);
}
/** `item in obj` */
export function contains(proxy: unknown, item: unknown): Promise<boolean> {
  return helper("contains", "contains", proxy, [item]) as Promise<boolean>;
}
/** setattr(obj, name, value), with its error reported (the `obj.x = v` trap cannot). */
export async function setattr(proxy: unknown, name: string, value: unknown): Promise<void> {
  await helper("setattr", "set_attr", proxy, [name, value]);
}
/** getattr(obj, name): also reads names the proxy keeps for itself (`then`, `release`). */
export function getattr(proxy: unknown, name: string): Promise<unknown> {
  return helper("getattr", "get_attr", proxy, [name]);
}

/** delattr(obj, name) (`delete obj.name` does the same without reporting errors). */
export async function delattr(proxy: unknown, name: string): Promise<void> {
  await helper("delattr", "del_attr", proxy, [name]);
}

/** Python's isinstance(obj, cls): cls is a class proxy or an array of them. */
export function isinstance(proxy: unknown, cls: unknown): Promise<boolean> {
  return helper("isinstance", "is_instance", proxy, [cls]) as Promise<boolean>;
}

/** list(obj) as an array, in one call: every item of any iterable (or async iterable). */
export function toArray(proxy: unknown): Promise<unknown[]> {
  return helper("toArray", "to_list", proxy, []) as Promise<unknown[]>;
}

/**
 * Evaluates a Python expression: `pyEval("a + b", { a, b })`, in a
 * namespace from pyExec (`pyEval("x * 2", ns)`, `pyEval("x * k", ns, { k })`),
 * or as a tagged template: pyEval\`${a}[1:3]\`. JS values are bound as
 * real Python names (a string stays a string, a proxy the object). Runs
 * on the bridge of the first proxy given, else the default bridge.
 */
export async function pyEval(source: string | TemplateStringsArray, ...rest: unknown[]): Promise<any> {
  const statement = readStatement("pyEval", [source, ...rest]);
  try {
    return await evaluate(backendOf(statement) ?? (await bridgeBackend()), statement);
  } catch (error) {
    throw atCaller(error, pyEval);
  }
}

/**
 * Runs Python statements and resolves with their namespace (a module
 * proxy: `await ns.total`); pass it back to go on in it:
 * `await pyExec("total += n", ns, { n: 5 })`. A tagged template binds its
 * values as names too. The block is dedented first.
 */
export async function pyExec(source: string | TemplateStringsArray, ...rest: unknown[]): Promise<PyProxy> {
  const statement = readStatement("pyExec", [source, ...rest]);
  try {
    return (await execute(backendOf(statement) ?? (await bridgeBackend()), statement)) as PyProxy;
  } catch (error) {
    throw atCaller(error, pyExec);
  }
}

async function bridgeBackend() {
  return (await bridge().connected()).backend;
}
