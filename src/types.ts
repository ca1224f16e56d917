// Types of proxies (compile time only; nothing here runs). Untyped use gets
// PyProxy: every name is a member that can be called or awaited. Typed use,
// `python<Desc>(spec)` with a TS description of the Python side (written by
// hand or by `esem types`), gets Remote<Desc>: each member typed as what the
// proxy really does with it (docs/typescript.md).
import type { Kwargs } from "./kwargs.js";
import type { CallOptionsMarker } from "./call-options.js";

/** The bridge's own operations on an object proxy. */
export interface ProxyOps {
  /** The bridge's release (yields to a Python attribute named `release`). */
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<any>;
}

/**
 * `obj.name` of an untyped proxy: call it (a method), await it (the
 * attribute's value), or go on reading (`np.linalg.norm`).
 */
export type PyMember = PyCallable & PromiseLike<any> & { readonly [name: string]: PyMember };

/** Calls of an untyped proxy: any arguments, a promise of any result. */
export interface PyCallable {
  (...args: any[]): Promise<any>;
  new (...args: any[]): Promise<any>;
}

/**
 * An untyped proxy of a Python module, class, function or object: any name
 * is a PyMember, calls resolve to `any`. Assigning `obj.x = v` does not
 * type-check on it (TS has no index signature that reads as one type and
 * is written as another): use `await setattr(obj, "x", v)`, which also
 * reports Python's error, or describe the object and use Remote<T>.
 */
export type PyProxy = { readonly [name: string]: PyMember } & ProxyOps & {
  (...args: any[]): Promise<any>;
  new (...args: any[]): Promise<any>;
};

/** The JS TypedArrays a numeric numpy array comes back as (docs/types.md#numpy-arrays). */
export type NumericArray =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** A numpy array as a result: a TypedArray of its dtype with `shape` and `dtype` on it. */
export type NDArray<A extends NumericArray = NumericArray> = A & { shape: number[]; dtype: string };

/**
 * What a Python parameter typed `numpy.ndarray` accepts: a TypedArray; with
 * a `shape` (an NDArray result, or one you made) it becomes an ndarray of
 * that shape, without one a flat memoryview.
 */
export type NDArrayLike<A extends NumericArray = NumericArray> = A & { shape?: readonly number[]; dtype?: string };

/** A proxy of a Python iterable or iterator (a generator, `iter(x)`): `for await` gives its items. */
export interface RemoteIterable<T> extends AsyncIterable<T> {
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

/** A proxy of a Python generator: iterable, and its own `send` and `close`. */
export interface RemoteGenerator<T, S = any> extends RemoteIterable<T> {
  send(value: S): Promise<T>;
  close(): Promise<null>;
}

// --- Remote<T> ----------------------------------------------------------

type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

type AnyClass = abstract new (...args: any) => any;
type AnyFunction = (...args: any) => any;

/** Values that cross as data and stay what they are. */
type Data = string | number | bigint | boolean | symbol | null | undefined | void | Date | ArrayBufferView | ArrayBuffer;

/** An object type that describes a Python object with methods (an instance, not plain data). */
type HasMethods<T> = true extends {
  [K in keyof T]-?: IsAny<T[K]> extends true ? false : unknown extends T[K] ? false : T[K] extends AnyFunction ? true : false;
}[keyof T] ? true : false;

/** Any proxy type (Remote, RemoteIterable, PyProxy): what the bridge releases. */
type AnyProxy = { [Symbol.asyncDispose](): Promise<void> };

/**
 * What a call returns, or an awaited attribute gives, for a Python value of
 * TS type R: data as it is (arrays and plain objects member by member), a
 * class a RemoteClass, a function a RemoteFunction, a Python iterator or
 * generator a RemoteIterable, an object with methods a Remote.
 */
export type Value<R> =
  IsAny<R> extends true ? any
  : R extends AnyProxy ? R
  : R extends Data ? R
  : R extends AnyClass ? RemoteClass<R>
  : R extends AnyFunction ? RemoteFunction<Parameters<R>, ReturnType<R>>
  : R extends readonly unknown[] ? { -readonly [K in keyof R]: Value<R[K]> }
  : R extends ReadonlyMap<infer K, infer V> ? Map<Value<K>, Value<V>>
  : R extends ReadonlySet<infer V> ? Set<Value<V>>
  : R extends Generator<infer Y, any, infer S> ? RemoteGenerator<Value<Y>, S>
  : R extends AsyncGenerator<infer Y, any, infer S> ? RemoteGenerator<Value<Y>, S>
  : R extends Iterable<infer Y> | AsyncIterable<infer Y> | Iterator<infer Y> | AsyncIterator<infer Y> ? RemoteIterable<Value<Y>>
  : HasMethods<R> extends true ? Remote<R>
  : R extends object ? { [K in keyof R]: Value<R[K]> }
  : R;

// Trailing markers: kw() (keyword arguments) and opts() (call options),
// the options last or just before the kw().
type Options = CallOptionsMarker;
type ProxyResult = CallOptionsMarker<{ result: "proxy" }>;

/** A parameter list's own trailing Kwargs type (from `esem types`: keyword-only parameters), else any kw(). */
type KwOf<A extends unknown[]> = [OwnKw<A>] extends [never] ? Kwargs<any> : OwnKw<A>;
// Distributes over a union of argument lists (`...args: [a: number, kwargs: K] | [kwargs: K]`).
type OwnKw<A> = A extends unknown[]
  ? Required<A> extends [...unknown[], infer L] ? (L extends Kwargs<any> ? L : never) : never
  : never;

/** The argument lists A allows when its optional parameters are left out, so a marker can follow any of them. */
type Heads<A extends unknown[]> = A extends unknown ? HeadsOf<A> : never;
type HeadsOf<A extends unknown[], Done extends unknown[] = []> =
  number extends A["length"] ? [...Done, ...unknown[]]
  : A extends [] ? Done
  : A extends [infer H, ...infer T] ? HeadsOf<T, [...Done, H]>
  : A extends [(infer H)?, ...infer T] ? Done | HeadsOf<T, [...Done, H]>
  : Done;

/** `(...A) => R` as an async function, also called with kw() and opts(). */
export interface RemoteFunction<A extends unknown[], R> {
  (...args: [...Heads<A>, ProxyResult]): Promise<PyProxy>;
  (...args: [...unknown[], KwOf<A>, ProxyResult]): Promise<PyProxy>;
  (...args: [...unknown[], ProxyResult, KwOf<A>]): Promise<PyProxy>;
  (...args: A): Promise<Value<Awaited<R>>>;
  (...args: [...Heads<A>, Options]): Promise<Value<Awaited<R>>>;
  (...args: [...unknown[], KwOf<A>]): Promise<Value<Awaited<R>>>;
  (...args: [...unknown[], KwOf<A>, Options]): Promise<Value<Awaited<R>>>;
  (...args: [...unknown[], Options, KwOf<A>]): Promise<Value<Awaited<R>>>;
}

/** The call and `new` forms of a class proxy (both make an instance). */
export interface RemoteConstructor<A extends unknown[], I> {
  (...args: A): Promise<Remote<I>>;
  (...args: [...Heads<A>, Options]): Promise<Remote<I>>;
  (...args: [...unknown[], KwOf<A>]): Promise<Remote<I>>;
  (...args: [...unknown[], KwOf<A>, Options]): Promise<Remote<I>>;
  (...args: [...unknown[], Options, KwOf<A>]): Promise<Remote<I>>;
  new (...args: A): Promise<Remote<I>>;
  new (...args: [...Heads<A>, Options]): Promise<Remote<I>>;
  new (...args: [...unknown[], KwOf<A>]): Promise<Remote<I>>;
  new (...args: [...unknown[], KwOf<A>, Options]): Promise<Remote<I>>;
  new (...args: [...unknown[], Options, KwOf<A>]): Promise<Remote<I>>;
}

/** A class proxy: a constructor, and the class's static methods, classmethods and class attributes. */
export type RemoteClass<C extends AnyClass> =
  C extends abstract new (...args: infer A) => infer I ? RemoteConstructor<A, I> & Members<Omit<C, "prototype">> : never;

/** `obj.name` without await: a function or class to call, or an attribute to await (an object's members chain on). */
export type Member<V> =
  IsAny<V> extends true ? PyMember
  : V extends AnyClass ? RemoteClass<V>
  : V extends AnyFunction ? RemoteFunction<Parameters<V>, ReturnType<V>>
  : Value<V> extends infer R
    ? R extends AnyProxy ? PromiseLike<R> & Omit<R, "release" | typeof Symbol.asyncDispose | typeof Symbol.asyncIterator>
      : PromiseLike<R>
    : never;

type StringKeys<T> = Extract<keyof T, string>;
/** K, unless T marks it readonly. */
type ReadonlyOr<T, K extends keyof T> = Equal<Pick<T, K>, { -readonly [Q in K]: T[Q] }> extends true ? K : never;
/** Keys of T an assignment may set: data attributes not marked readonly (methods and classes are not assigned). */
type WritableKeys<T> = {
  [K in StringKeys<T>]-?: IsAny<T[K]> extends true ? ReadonlyOr<T, K>
    : T[K] extends AnyFunction | AnyClass ? never
    : ReadonlyOr<T, K>;
}[StringKeys<T>];

/**
 * The members of a described object: writable attributes can be assigned
 * (`obj.x = v` queues a setattr) and are read with `await`.
 */
type Members<T> = {
  -readonly [K in WritableKeys<T>]-?: Member<T[K]> | Value<T[K]>;
} & {
  readonly [K in Exclude<StringKeys<T>, WritableKeys<T>>]-?: Member<T[K]>;
};

type OwnOps<T> = ("release" extends keyof T ? {} : { release(): Promise<void> }) & {
  [Symbol.asyncDispose](): Promise<void>;
} & (T extends Iterable<infer E> | AsyncIterable<infer E> ? { [Symbol.asyncIterator](): AsyncIterator<Value<E>> } : {});

/**
 * A proxy typed from a TS description of the Python side: classes become
 * async factories of Remote instances (with their static methods),
 * functions and methods async functions, attributes awaitable values;
 * attributes not marked `readonly` can be assigned. A `release` of the
 * Python object's own replaces the bridge's. `for await` when the
 * description is Iterable.
 */
export type Remote<T> = IsAny<T> extends true ? PyProxy : Members<T> & OwnOps<T>;
