// The default bridge and the helpers that act on proxies.
import { Bridge, type ModuleProxy } from "./bridge.js";
import { BridgeError } from "./errors.js";
import { kwargsOf } from "./kwargs.js";
import { iterateProxy, releaseProxy, rootOf } from "./proxy.js";

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
  const root = rootOf(fn);
  if (!root) throw new TypeError("callSync() takes a proxy of a Python callable");
  if (root.session.closed) throw new BridgeError("ESEM_SHUTDOWN", "The bridge that made this proxy was shut down; load the module again with python().");
  const backend = root.session.backend;
  const path = root.path.length === 0 ? null : root.path.length === 1 ? root.path[0] : root.path;
  const kwargs = kwargsOf(args);
  return kwargs ? backend.callSync(root.ref, path, args.slice(0, -1), kwargs) : backend.callSync(root.ref, path, args, undefined, fn as object);
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
