// opts(): options for one call, passed among its last arguments (with or
// without kw(), in either order): `await f(x, opts({ result: "proxy" }))`.
// The one per-call form of the API (docs/api.md#opts).

const OPTIONS = Symbol("esem.options");

export interface CallOptions {
  /**
   * "value" (the default): the result is converted by the rules of
   * docs/types.md (plain data is copied). "proxy": the result is a proxy of
   * the live Python object whatever its type (a dict or list stays in
   * Python; `None` is still `null`).
   */
  result?: "value" | "proxy";
}

export interface CallOptionsMarker {
  readonly [OPTIONS]: Readonly<CallOptions>;
}

const KEYS = new Set(["result"]);

/** Options for one call; throws a TypeError at once on an unknown option or value. */
export function opts(options: CallOptions): CallOptionsMarker {
  const proto = options !== null && typeof options === "object" ? Object.getPrototypeOf(options) : undefined;
  if (proto !== Object.prototype && proto !== null) throw new TypeError("opts() takes a plain object of call options");
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) throw new TypeError(`opts(): unknown option "${key}" (known: ${[...KEYS].join(", ")})`);
  }
  if (options.result !== undefined && options.result !== "value" && options.result !== "proxy") {
    throw new TypeError(`opts(): result must be "value" or "proxy", not ${JSON.stringify(options.result)}`);
  }
  return Object.freeze({ [OPTIONS]: Object.freeze({ ...options }) });
}

/** The options of an opts() among the last two arguments, and the arguments without it. */
export function splitOptions(args: unknown[]): [unknown[], Readonly<CallOptions> | undefined] {
  for (let i = args.length - 1; i >= 0 && i >= args.length - 2; i--) {
    const a = args[i] as CallOptionsMarker | undefined;
    if (a !== null && typeof a === "object" && OPTIONS in a) {
      return [args.slice(0, i).concat(args.slice(i + 1)), a[OPTIONS]];
    }
  }
  return [args, undefined];
}
