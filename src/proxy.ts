// JS proxies of Python objects: module, class, function and object proxies
// (one per registered ref) and member proxies (`obj.name`, callable and
// awaitable). The bridge's own operations are exported functions or private
// symbols, never string keys that could hide a Python attribute.
import { inspect } from "node:util";
import type { AttrPath, Backend, BackendHooks, RefDescription } from "./backend.js";
import { BridgeError, atCaller } from "./errors.js";
import { splitOptions } from "./call-options.js";
import { kwargsOf } from "./kwargs.js";
import { DEBUG_CALLS, callName, logCall } from "./debug-log.js";
import type { RefAnswer } from "./codec.js";

// Identity: every Session has a ref symbol of its own, which only its
// proxies answer with a ref id, so a proxy of another bridge (or of a
// bridge that was shut down) can never pass for one of ours, and a plain
// object cannot pass for a proxy: the symbol is never reachable from a
// proxy (no trap lists it) nor from the package's exports. Every proxy
// recognises the other sessions' symbols by their description and answers
// them with why it cannot be passed there ("CODE message", see RefAnswer),
// so the encoder (src/codec.ts, both modes) rejects it with those words
// from a single property read.
const REF_DESCRIPTION = "esem.ref";
const STATE = Symbol("esem.state");
let sessionCount = 0;

/** One backend's lifetime as the proxies see it: its ref symbol, type cache and finalizer. */
export class Session implements BackendHooks {
  readonly refSymbol = Symbol(REF_DESCRIPTION);
  /** Names the bridge in messages: "bridge #2". */
  readonly number = ++sessionCount;
  backend!: Backend;
  closed = false;
  private readonly descs: RefDescription[] = [];
  // Holds the ref id alone: a held value that reached its proxy (through
  // the state, its members and their rootProxy) would keep it alive forever.
  // Ids are never reused in a session, so an id that was released
  // explicitly and is sent again when its proxy is collected is harmless.
  private readonly finalizer = new FinalizationRegistry<number>((id) => this.collected(id));
  private garbage: number[] = [];

  wrap = (id: number, typeIndex: number, desc: RefDescription | undefined): unknown => {
    if (desc && typeIndex) this.descs[typeIndex] = desc;
    const found = desc ?? this.descs[typeIndex];
    if (!found) throw new BridgeError("ESEM_INTERNAL", `no description for type #${typeIndex}`);
    const state = new RootState(this, id, found);
    const proxy = new Proxy(ROOT_TARGET, state);
    state.proxy = proxy;
    // No unregister token (it costs ~40 bytes a proxy).
    this.finalizer.register(proxy as object, id);
    return proxy;
  };

  get mode(): string {
    return this.backend?.mode ?? "unstarted";
  }

  // Finalizers of one GC run are called one after the other in one task;
  // their ids go to Python in one release job after them.
  private collected(id: number): void {
    this.releaseSoon(id);
  }

  /**
   * Releases id in the next release job: ids released in one task (a GC
   * pass, or `Promise.all(objs.map(release))`) go to Python in one job,
   * submitted before any `await` of the caller resumes.
   */
  releaseSoon(id: number): void {
    if (this.closed) return;
    if (this.garbage.push(id) === 1) queueMicrotask(this.flushGarbage);
  }

  private flushGarbage = (): void => {
    const ids = this.garbage;
    this.garbage = [];
    if (!this.closed && ids.length) this.backend.release(ids);
  };
}

type MemberState = MemberHandler;

// Root proxies share one target and keep their state in their handler (a
// RootState): ~56 bytes of state, 32 of Proxy and ~72 of finalizer cell
// per object, nothing else. A member's target is the call itself; its
// handler is its MemberHandler, which holds its state. Neither target has
// a property of the bridge's: `STATE` and the ref symbols exist only as
// trap answers, so no reflection (Object.getOwnPropertySymbols,
// Reflect.ownKeys) can reach a session or its ref symbol.
type Target = object;

function describeState(s: RootState | MemberState): string {
  if ("ref" in s) return `[Python ${s.desc.kind} ${s.desc.typeName}${s.released ? " (released)" : ""}]`;
  return `[Python member ${s.root.desc.typeName}.${s.path.join(".")}]`;
}

// util.inspect looks at a proxy's target but calls its custom inspector
// with the proxy itself as `this`, so the state comes from the traps.
const targetPrototype = Object.create(Function.prototype, {
  [inspect.custom]: {
    value(this: Record<symbol, RootState | MemberState>) {
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

// Function.prototype's call, apply and bind: a proxy of a Python callable
// (a function, class or callable object, or a member that is a method)
// answers them as JS functions do, unless Python defines the name.
const FUNCTION_PROTOCOL = new Set(["call", "apply", "bind"]);

function released(root: RootState): BridgeError {
  return new BridgeError(
    "ESEM_RELEASED",
    `This Python ${root.desc.kind} (${root.desc.typeName}) was released; create or fetch a new one to keep using it.`,
  );
}

function closed(): BridgeError {
  return new BridgeError("ESEM_SHUTDOWN", "The bridge that made this proxy was shut down; load the module again with python().");
}

/**
 * What a proxy answers a ref symbol with (see RefAnswer in codec.ts): the
 * id (or [id, ...path]) for its own session's symbol, else why it cannot
 * be passed, or undefined for symbols that are no ref symbol at all.
 */
function refAnswer(root: RootState, prop: symbol, path: string[] | undefined): RefAnswer {
  const what = `a proxy of a Python ${root.desc.kind === "object" ? `${root.desc.typeName} object` : `${root.desc.kind} (${root.desc.typeName})`}`;
  const session = root.session;
  if (prop === session.refSymbol) {
    if (session.closed) return `ESEM_SHUTDOWN ${what} from bridge #${session.number}, which was shut down; load the module again with python() and make the object again.`;
    if (root.released) return `ESEM_RELEASED ${what} that was released; create or fetch a new one to keep using it.`;
    return path ? [root.ref, ...path] : root.ref;
  }
  if (prop.description !== REF_DESCRIPTION) return undefined;
  if (session.closed) {
    return `ESEM_SHUTDOWN ${what} from bridge #${session.number} (${session.mode} mode), which was shut down: its objects are gone. Load the module again with python() and make the object again.`;
  }
  return `ESEM_FOREIGN_PROXY ${what} from another bridge (bridge #${session.number}, ${session.mode} mode): a proxy works only with the bridge that made it. Pass it to functions loaded through that bridge, or pass plain values.`;
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
  const backend = root.session.backend;
  let options;
  if (args.length) [args, options] = splitOptions(args);
  const kwargs = kwargsOf(args);
  const pending = kwargs
    ? backend.call(root.ref, path, args.slice(0, -1), kwargs, options)
    : backend.call(root.ref, path, args, undefined, options);
  if (DEBUG_CALLS) logCall(backend.mode, callName(root.desc.typeName, path), pending).catch(() => {});
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
  const state = new MemberHandler(root, rootProxy, path, pathArg);
  // The target itself does the call: a Proxy without an apply trap calls
  // its target directly, which is much cheaper than a trap.
  const target = function (...args: unknown[]) {
    return invoke(root, pathArg, args);
  } as unknown as Target;
  Object.setPrototypeOf(target, targetPrototype);
  const proxy = new Proxy(target, state);
  state.proxy = proxy;
  if (!root.released) (cache.members ??= new Map()).set(name, proxy);
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
  root.members = undefined; // nothing more is kept for a released object but this state
  // No round trip: the release goes in the next release job (with the
  // others of this task, one job for many), queued before this caller's
  // `await` resumes, so its later calls on this bridge see the object gone.
  root.session.releaseSoon(root.ref);
}

function stateOf(proxy: unknown): RootState | MemberState | undefined {
  if (typeof proxy !== "function") return undefined;
  return (proxy as unknown as Record<symbol, RootState | MemberState | undefined>)[STATE];
}

/** The live state of a proxy's root object (released, its session), read without a trap later. */
export function rootStateOf(proxy: unknown): { readonly released: boolean; readonly session: Session } | undefined {
  const state = stateOf(proxy);
  return state && ("ref" in state ? state : state.root);
}

/** What a proxy calls, for the ESEM_DEBUG log: `module.function`, `module.Class.method`. */
export function calleeName(proxy: unknown): string {
  const state = stateOf(proxy);
  if (!state) return "?";
  return "ref" in state ? callName(state.desc.typeName, null) : callName(state.root.desc.typeName, state.path);
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
  /** The proxy this is the handler of (for traps that get no receiver). */
  proxy: unknown = undefined;

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
      if (prop === STATE) return this;
      const ref = refAnswer(this, prop, undefined);
      if (ref !== undefined) return ref;
      if (prop === Symbol.asyncDispose) return () => releaseProxy(receiver);
      if (prop === Symbol.asyncIterator && this.desc.iterable) return () => iterateProxy(receiver)[Symbol.asyncIterator]();
      if (prop === Symbol.toPrimitive) return () => describeState(this);
      return Reflect.get(target, prop);
    }
    if (prop === "then") return undefined; // a proxy is not a promise: `await obj` gives obj
    if (JS_PROTOCOL.has(prop) && !this.desc.members.includes(prop)) return JS_PROTOCOL.get(prop)!(this);
    if (prop === "release" && !this.desc.hasRelease) return () => releaseProxy(receiver);
    if (this.desc.callable && FUNCTION_PROTOCOL.has(prop) && !this.desc.members.includes(prop)) return Reflect.get(target, prop);
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

  // `delete obj.name`: queued in order with later calls; `await delattr()` reports errors.
  deleteProperty(_target: Target, prop: string | symbol): boolean {
    if (typeof prop !== "string") return false;
    check(this);
    this.session.backend.helper("del_attr", [this.proxy, prop]).catch((error) => {
      process.emitWarning(`esem-bridge: deleting ${this.desc.typeName}.${prop} failed: ${error?.message ?? error}`);
    });
    return true;
  }
}

/** A member proxy's state, which is also its handler. */
class MemberHandler implements ProxyHandler<Target> {
  members: Map<string, unknown> | undefined = undefined;
  /** The member proxy this is the handler of. */
  proxy: unknown = undefined;

  constructor(
    readonly root: RootState,
    readonly rootProxy: unknown, // keeps the object alive while a member is held
    readonly path: string[],
    readonly pathArg: AttrPath,
  ) {}

  get(target: Target, prop: string | symbol): unknown {
    if (typeof prop === "symbol") {
      if (prop === STATE) return this;
      const ref = refAnswer(this.root, prop, this.path);
      if (ref !== undefined) return ref;
      if (prop === Symbol.toPrimitive) return () => describeState(this);
      return Reflect.get(target, prop);
    }
    if (prop === "then") {
      // `await obj.attr` reads the attribute.
      return (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) => read(this.root, this.pathArg).then(resolve, reject);
    }
    if (JS_PROTOCOL.has(prop)) return JS_PROTOCOL.get(prop)!(this);
    if (FUNCTION_PROTOCOL.has(prop) && this.path.length === 1 && this.root.desc.callables.includes(this.path[0])) return Reflect.get(target, prop);
    return member(this.root, this.rootProxy, this, [...this.path, prop]);
  }

  set(_target: Target, prop: string | symbol, value: unknown): boolean {
    if (typeof prop !== "string") return false;
    check(this.root);
    this.root.session.backend.setAttr(this.root.ref, [...this.path, prop], value).catch((error) => {
      process.emitWarning(`esem-bridge: setting ${this.path.join(".")}.${prop} failed: ${error?.message ?? error}`);
    });
    return true;
  }

  deleteProperty(_target: Target, prop: string | symbol): boolean {
    if (typeof prop !== "string") return false;
    check(this.root);
    this.root.session.backend.helper("del_attr", [this.proxy, prop]).catch((error) => {
      process.emitWarning(`esem-bridge: deleting ${this.path.join(".")}.${prop} failed: ${error?.message ?? error}`);
    });
    return true;
  }

  defineProperty(): boolean {
    return false;
  }
}

/** `for await (const x of iterateProxy(obj))`: iterates a Python iterable, fetching items in growing batches. */
export async function* iterateProxy(proxy: unknown): AsyncGenerator<unknown, void, undefined> {
  const root = rootOf(proxy);
  if (!root) throw new TypeError("iterate() takes a proxy of a Python iterable");
  const backend = root.session.backend;
  const iterator = await backend.helper("iterate", [proxy]);
  let exhausted = false;
  try {
    // Batches grow to 256 items, and end early after 1 ms in Python
    // (ops.next_batch): a slow generator's items arrive as it yields them.
    for (let batch = 1; ; batch = Math.min(batch * 2, 256)) {
      const [items, done] = (await backend.helper("next_batch", [iterator, batch])) as [unknown[], boolean];
      exhausted = done;
      yield* items;
      if (done) return;
    }
  } finally {
    // A break (or a throw) closes the generator: Python sees GeneratorExit.
    if (!exhausted) await backend.helper("close_iterator", [iterator]).catch(() => {});
    await releaseProxy(iterator);
  }
}
