// kw(): keyword arguments, passed as a call's last argument.

const KWARGS = Symbol("esem.kwargs");

export interface Kwargs {
  readonly [KWARGS]: Record<string, unknown>;
}

/** `await f(1, kw({ precision: 3 }))` calls `f(1, precision=3)`. */
export function kw(values: Record<string, unknown>): Kwargs {
  if (values === null || typeof values !== "object") throw new TypeError("kw() takes an object of keyword arguments");
  return { [KWARGS]: values };
}

/** Splits a trailing kw() off an argument list. */
export function splitKwargs(args: unknown[]): [unknown[], Record<string, unknown> | undefined] {
  const last = args[args.length - 1] as Kwargs | undefined;
  if (last !== null && typeof last === "object" && KWARGS in last) {
    return [args.slice(0, -1), last[KWARGS]];
  }
  return [args, undefined];
}
