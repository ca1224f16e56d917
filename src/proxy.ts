// JS proxies of Python objects: module, class, function and object proxies
// (one per registered ref) and member proxies (`obj.name`, callable and
// awaitable). The bridge's own operations are exported functions or private
// symbols, never string keys that could hide a Python attribute.
import { inspect } from "node:util";
import type { AttrPath, Backend, BackendHooks, RefDescription } from "./backend.js";
import { BridgeError, atCaller } from "./errors.js";
import { kwargsOf } from "./kwargs.js";

/** A proxy answers this with its ref id (or [id, ...path] for a member). Never exported publicly. */
export const REF = Symbol("esem.ref");
const STATE = Symbol("esem.state");

/** One backend's lifetime as the proxies see it: its type cache and finalizer. */
export class Session implements BackendHooks {
  readonly refSymbol = REF;
  backend!: Backend;
  closed = false;
  private readonly descs: RefDescription[] = [];
  private readonly finalizer = new FinalizationRegistry<RootState>((state) => {
    if (!state.released && !this.closed) {
      state.released = true;
      this.backend.release(state.ref);
    }
  });

  wrap = (id: number, typeIndex: number, desc: RefDescription | undefined): unknown => {
    if (desc && typeIndex) this.descs[typeIndex] = desc;
    const found = desc ?? this.descs[typeIndex];
    if (!found) throw new BridgeError("ESEM_INTERNAL", `no description for type #${typeIndex}`);
    const state = new RootState(this, id, found);
    const proxy = new Proxy(ROOT_TARGET, state);
    // No unregister token (it costs ~40 bytes a proxy): after an explicit
    // release the finalizer still runs once and finds state.released.
    this.finalizer.register(proxy as object, state);
    return proxy;
  };

}

interface MemberState {
  root: RootState;
  rootProxy: unknown; // keeps the object alive while a member is held
  path: string[];
  pathArg: AttrPath;
  members: Map<string, unknown> | undefined;
}

// Root proxies share one target and keep their state in their handler (a
// RootState): ~64 bytes of state, 32 of Proxy and 72 of finalizer cell per
// object, nothing else. A member's target is the call itself and carries
// its state under STATE.
type Target = { [STATE]: RootState | MemberState };

function describeState(s: RootState | MemberState): string {
  if ("ref" in s) return `[Python ${s.desc.kind} ${s.desc.typeName}${s.released ? " (released)" : ""}]`;
  return `[Python member ${s.root.desc.typeName}.${s.path.join(".")}]`;
}

// util.inspect looks at a proxy's target but calls its custom inspector
// with the proxy itself as `this`, so the state comes from the traps.
const targetPrototype = Object.create(Function.prototype, {
  [inspect.custom]: {
    value(this: Target) {
      return describeState(this[STATE]);
    },
  },
});

/** The target of every root proxy: callable and `new`-able, never called itself. */
const ROOT_TARGET = function () {} as unknown as Target;
Object.setPrototypeOf(ROOT_TARGET, targetPrototype);

// Names JS itself calls on objects (String(x), JSON.stringify(x)). Unless
// the Python type defines them, they answer locally instead of becoming
// remote calls nobody awaits.
const JS_PROTOCOL = new Map<string, (state: RootState | MemberState) => unknown>([
  ["toString", (state) => () => describeState(state)],
  ["valueOf", (state) => () => describeState(state)],
  ["toJSON", () => undefined],
]);

function released(root: RootState): BridgeError {
  return new BridgeError(
    "ESEM_RELEASED",
    `This Python ${root.desc.kind} (${root.desc.typeName}) was released; create or fetch a new one to keep using it.`,
  );
}

function closed(): BridgeError {
  return new BridgeError("ESEM_SHUTDOWN", "The bridge that made this proxy was shut down; load the module again with python().");
}

function check(root: RootState): void {
  if (root.released) throw released(root);
  if (root.session.closed) throw closed();
}

// Errors are re-stamped in a reaction of the returned promise: V8 follows
// that promise to the caller's `await`, so the stack names the caller's
// async frames. (One `.then`; an async wrapper costs several times more.)
function restamp(error: unknown): never {
  throw atCaller(error, restamp);
}

function invoke(root: RootState, path: AttrPath, args: unknown[]): Promise<unknown> {
  if (root.released) return Promise.reject(atCaller(released(root), invoke));
  if (root.session.closed) return Promise.reject(atCaller(closed(), invoke));
  const kwargs = kwargsOf(args);
  const backend = root.session.backend;
  const pending = kwargs ? backend.call(root.ref, path, args.slice(0, -1), kwargs) : backend.call(root.ref, path, args);
  return pending.then(undefined, restamp);
}

function read(root: RootState, path: AttrPath): Promise<unknown> {
  if (root.released) return Promise.reject(atCaller(released(root), read));
  if (root.session.closed) return Promise.reject(atCaller(closed(), read));
  return root.session.backend.getAttr(root.ref, path).then(undefined, restamp);
}

function member(root: RootState, rootProxy: unknown, cache: { members: Map<string, unknown> | undefined }, path: string[]): unknown {
  const name = path[path.length - 1];
  const found = cache.members?.get(name);
  if (found) return found;
  const pathArg: AttrPath = path.length === 1 ? path[0] : path;
  const state: MemberState = { root, rootProxy, path, pathArg, members: undefined };
  // The target itself does the call: a Proxy without an apply trap calls
  // its target directly, which is much cheaper than a trap.
  const target = function (...args: unknown[]) {
    return invoke(root, pathArg, args);
  } as unknown as Target;
  Object.setPrototypeOf(target, targetPrototype);
  target[STATE] = state;
  const proxy = new Proxy(target, memberHandler);
  (cache.members ??= new Map()).set(name, proxy);
  return proxy;
}

/** Releases the bridge's reference to the proxied object (resolves quietly if already released). */
export async function releaseProxy(proxy: unknown): Promise<void> {
  const state = stateOf(proxy);
  if (!state) throw new TypeError("release() takes a proxy of a Python object");
  if (!("ref" in state)) {
    throw new TypeError(`release() takes the object's proxy, not one of its attributes (${state.path.join(".")})`);
  }
  const root = state;
  if (root.released || root.session.closed) return;
  root.released = true;
  // No round trip: the release is queued in order, so every later call on
  // this bridge already sees the object gone.
  root.session.backend.release(root.ref);
}

function stateOf(proxy: unknown): RootState | MemberState | undefined {
  if (typeof proxy !== "function") return undefined;
  return (proxy as unknown as Record<symbol, RootState | MemberState | undefined>)[STATE];
}

/** The root state of any proxy, or undefined for other values. */
export function rootOf(proxy: unknown): { session: Session; ref: number; path: string[] } | undefined {
  const state = stateOf(proxy);
  if (!state) return undefined;
  return "ref" in state ? { session: state.session, ref: state.ref, path: [] } : { session: state.root.session, ref: state.root.ref, path: state.path };
}

/** A root proxy's state, which is also its handler (traps see it as `this`). */
class RootState implements ProxyHandler<Target> {
  released = false;
  members: Map<string, unknown> | undefined = undefined;

  constructor(
    readonly session: Session,
    readonly ref: number,
    readonly desc: RefDescription,
  ) {}

  get(target: Target, prop: string | symbol, receiver: unknown): unknown {
    // The hot path first: a member made before (`mod.add` in a loop).
    const made = this.members?.get(prop as string);
    if (made !== undefined) return made;
    if (typeof prop === "symbol") {
      if (prop === REF) return this.ref;
      if (prop === STATE) return this;
      if (prop === Symbol.asyncDispose) return () => releaseProxy(receiver);
      if (prop === Symbol.asyncIterator && this.desc.iterable) return () => iterateProxy(receiver)[Symbol.asyncIterator]();
      if (prop === Symbol.toPrimitive) return () => describeState(this);
      return Reflect.get(target, prop);
    }
    if (prop === "then") return undefined; // a proxy is not a promise: `await obj` gives obj
    if (JS_PROTOCOL.has(prop) && !this.desc.members.includes(prop)) return JS_PROTOCOL.get(prop)!(this);
    if (prop === "release" && !this.desc.hasRelease) return () => releaseProxy(receiver);
    return member(this, receiver, this, [prop]);
  }

  apply(_target: Target, _this: unknown, args: unknown[]): unknown {
    return invoke(this, null, args);
  }

  construct(_target: Target, args: unknown[]): object {
    return invoke(this, null, args);
  }

  has(target: Target, prop: string | symbol): boolean {
    if (prop === "prototype") return true; // the target's own non-configurable key
    return typeof prop === "string" ? this.desc.members.includes(prop) : Reflect.has(target, prop);
  }

  ownKeys(target: Target): ArrayLike<string | symbol> {
    return [...this.desc.members, ...Reflect.ownKeys(target).filter((k) => !this.desc.members.includes(k as string))];
  }

  getOwnPropertyDescriptor(target: Target, prop: string | symbol): PropertyDescriptor | undefined {
    if (typeof prop === "string" && this.desc.members.includes(prop)) {
      // Object.keys/entries and spread read values through the get trap;
      // the descriptor only has to say the key is there and enumerable.
      return { value: undefined, writable: true, enumerable: true, configurable: true };
    }
    return Reflect.getOwnPropertyDescriptor(target, prop);
  }

  set(_target: Target, prop: string | symbol, value: unknown): boolean {
    if (typeof prop !== "string") return false;
    check(this);
    // Queued in order with the calls that follow; `await setattr()` reports errors.
    this.session.backend.setAttr(this.ref, prop, value).catch((error) => {
      process.emitWarning(`esem-bridge: setting ${this.desc.typeName}.${prop} failed: ${error?.message ?? error}`);
    });
    return true;
  }

  defineProperty(): boolean {
    return false;
  }

  deleteProperty(): boolean {
    return false;
  }
}

const memberHandler: ProxyHandler<Target> = {
  get(target, prop) {
    const state = target[STATE] as MemberState;
    if (typeof prop === "symbol") {
      if (prop === REF) return [state.root.ref, ...state.path];
      if (prop === STATE) return state;
      if (prop === Symbol.toPrimitive) return () => describeState(state);
      return Reflect.get(target, prop);
    }
    if (prop === "then") {
      // `await obj.attr` reads the attribute.
      return (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) => read(state.root, state.pathArg).then(resolve, reject);
    }
    if (JS_PROTOCOL.has(prop)) return JS_PROTOCOL.get(prop)!(state);
    return member(state.root, state.rootProxy, state, [...state.path, prop]);
  },
  set(target, prop, value) {
    const state = target[STATE] as MemberState;
    if (typeof prop !== "string") return false;
    check(state.root);
    state.root.session.backend.setAttr(state.root.ref, [...state.path, prop], value).catch((error) => {
      process.emitWarning(`esem-bridge: setting ${state.path.join(".")}.${prop} failed: ${error?.message ?? error}`);
    });
    return true;
  },
};

/** `for await (const x of iterateProxy(obj))`: iterates a Python iterable, fetching items in growing batches. */
export async function* iterateProxy(proxy: unknown): AsyncGenerator<unknown, void, undefined> {
  const root = rootOf(proxy);
  if (!root) throw new TypeError("iterate() takes a proxy of a Python iterable");
  const backend = root.session.backend;
  const iterator = await backend.helper("iterate", [proxy]);
  try {
    for (let batch = 1; ; batch = Math.min(batch * 2, 256)) {
      const [items, done] = (await backend.helper("next_batch", [iterator, batch])) as [unknown[], boolean];
      yield* items;
      if (done) return;
    }
  } finally {
    await releaseProxy(iterator);
  }
}
