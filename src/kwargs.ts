// kw(): keyword arguments, passed as a call's last argument.

const KWARGS = Symbol("esem.kwargs");

/** Keyword arguments for a call; K is their type (`Kwargs<{ precision: number }>`), checked against a typed signature. */
export interface Kwargs<K extends object = Record<string, unknown>> {
  readonly [KWARGS]: K;
}

/**
 * `await f(1, kw({ precision: 3 }))` calls `f(1, precision=3)`. Takes a
 * plain object (read when the call is made) or a Map with string keys
 * (copied now); anything else throws a TypeError, in both modes.
 */
export function kw(values: ReadonlyMap<string, unknown>): Kwargs<any>;
export function kw<K extends object>(values: K): Kwargs<K>;
export function kw(values: Record<string, unknown> | ReadonlyMap<string, unknown>): Kwargs<any> {
  if (values instanceof Map) return { [KWARGS]: fromMap(values) };
  const proto = values !== null && typeof values === "object" ? Object.getPrototypeOf(values) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError("kw() takes a plain object or a Map with string keys of keyword arguments");
  }
  return { [KWARGS]: values as Record<string, unknown> };
}

function fromMap(map: ReadonlyMap<unknown, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  let i = 0;
  for (const [key, value] of Map.prototype.entries.call(map) as IterableIterator<[unknown, unknown]>) {
    if (typeof key !== "string") {
      throw new TypeError(`kw() takes a Map with string keys only: key ${i} is ${key === null ? "null" : typeof key}`);
    }
    // Defined, not assigned: "__proto__" is a keyword like any other.
    Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
    i++;
  }
  return out;
}

/** The keyword arguments of a trailing kw(), or undefined. */
export function kwargsOf(args: unknown[]): Record<string, unknown> | undefined {
  const last = args[args.length - 1] as Kwargs | undefined;
  return last !== null && typeof last === "object" && KWARGS in last ? (last[KWARGS] as Record<string, unknown>) : undefined;
}
