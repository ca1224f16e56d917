// Types of proxies. Untyped use gets PyProxy (every name is a member that
// can be called or awaited); `python<typeof import(...)>` style typing gets
// Remote<T>, which maps a TS description of the Python module to its async
// form.
import type { Kwargs } from "./kwargs.js";

/** The bridge's own operations on an object proxy. */
export interface ProxyOps {
  /** The bridge's release (yields to a Python attribute named `release`). */
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<any>;
}

/** `obj.name`: call it (a method) or await it (the attribute's value). */
export interface PyMember extends PromiseLike<any> {
  (...args: any[]): Promise<any>;
  new (...args: any[]): Promise<any>;
  readonly [name: string]: any;
}

/** An untyped proxy of a Python module, class, function or object. */
export type PyProxy = { readonly [name: string]: PyMember } & ProxyOps & {
  (...args: any[]): Promise<any>;
  new (...args: any[]): Promise<any>;
};

// A call that ends with kw() is not checked against the positional types:
// keyword arguments can stand for any of them.
type WithKwargs = [...unknown[], Kwargs];

type AsyncFunction<A extends unknown[], R> = {
  (...args: A): Promise<Awaited<R>>;
  (...args: WithKwargs): Promise<Awaited<R>>;
};

type AsyncClass<A extends unknown[], I> = {
  (...args: A): Promise<Remote<I>>;
  (...args: WithKwargs): Promise<Remote<I>>;
  new (...args: A): Promise<Remote<I>>;
  new (...args: WithKwargs): Promise<Remote<I>>;
};

/**
 * A proxy typed from a TS description of the Python side: classes become
 * async factories of Remote instances, functions and methods async
 * functions, other attributes awaitable values.
 */
export type Remote<T> = {
  readonly [K in keyof T]: T[K] extends abstract new (...args: infer A) => infer I
    ? AsyncClass<A, I>
    : T[K] extends (...args: infer A) => infer R
      ? AsyncFunction<A, R>
      : PromiseLike<T[K]>;
} & ProxyOps;
