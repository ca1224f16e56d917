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

/** The keyword arguments of a trailing kw(), or undefined. */
export function kwargsOf(args: unknown[]): Record<string, unknown> | undefined {
  const last = args[args.length - 1] as Kwargs | undefined;
  return last !== null && typeof last === "object" && KWARGS in last ? last[KWARGS] : undefined;
}
