// toJs(): a proxied Python object as plain JS data (Python's
// esem_bridge.ops.to_plain), like Pyodide's toJs.
import { rootOf } from "./proxy.js";

/** What toJs() does with a value it cannot make plain, or that is past `depth`. */
export type ToJsPolicy = "proxy" | "error" | "string";

export interface ToJsOptions {
  /** Levels converted (1: the object itself, its members stay as they are). Default: all, up to 256. */
  depth?: number;
  /** "proxy" (default): leave it, it comes back as a proxy; "error": reject with PythonError(TypeError) naming its path; "string": its str(). */
  policy?: ToJsPolicy;
}

const POLICIES: readonly string[] = ["proxy", "error", "string"];

/**
 * The Python object behind `value` converted to plain data: dataclasses,
 * named tuples, mappings and objects with a `__dict__` become plain objects,
 * iterables become arrays, the rest converts as any result (docs/api.md#tojs).
 * A value that is not a proxy is returned as it is.
 */
export async function toJs(value: unknown, options: ToJsOptions = {}): Promise<unknown> {
  const { depth, policy = "proxy" } = options;
  if (depth !== undefined && depth !== Infinity && !(Number.isInteger(depth) && depth >= 0)) {
    throw new TypeError(`toJs(): depth must be a non-negative integer or Infinity, not ${String(depth)}`);
  }
  if (!POLICIES.includes(policy)) {
    throw new TypeError(`toJs(): policy must be "proxy", "error" or "string", not ${JSON.stringify(policy)}`);
  }
  const root = rootOf(value);
  if (!root) return value;
  const levels = depth === undefined || depth === Infinity ? null : depth;
  return root.session.backend.helper("to_plain", [value, levels, policy]);
}
