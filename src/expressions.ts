// pyEval / pyExec: Python expressions and statements for what JS has no
// syntax for (operators, comprehensions, slices), with JS values bound as
// real Python names, never spliced into the source (docs/objects.md#eval).
import type { Backend } from "./backend.js";
import { rootOf } from "./proxy.js";

/** A namespace proxy (a module, from pyExec), a dict proxy, or names bound to JS values. */
export type Scope = object | Record<string, unknown>;

/** What pyEval/pyExec were given, normalized: source, namespace proxy (or null), names and values. */
export interface Statement {
  source: string;
  namespace: unknown;
  names: string[];
  values: unknown[];
}

const PLACEHOLDER = "__esem_arg";

function isTemplate(first: unknown): first is TemplateStringsArray {
  return Array.isArray(first) && Array.isArray((first as unknown as TemplateStringsArray).raw);
}

/**
 * Reads either call form: a tagged template (`pyEval\`${a} + ${b}\``, each
 * value bound to a placeholder name) or (source, scope?, vars?), where
 * scope is a namespace proxy or an object of names to bind.
 */
export function readStatement(who: string, args: unknown[]): Statement {
  const [first, ...rest] = args;
  if (isTemplate(first)) {
    const names = rest.map((_, i) => `${PLACEHOLDER}${i}`);
    let source = first[0];
    for (let i = 0; i < rest.length; i++) source += names[i] + first[i + 1];
    return { source, namespace: null, names, values: rest };
  }
  if (typeof first !== "string") throw new TypeError(`${who}() takes Python source as a string or a tagged template, not ${typeof first}`);
  let [scope, vars] = rest as [unknown, unknown];
  let namespace: unknown = null;
  if (scope !== undefined && scope !== null && rootOf(scope)) {
    namespace = scope;
  } else if (vars === undefined) {
    vars = scope;
  } else if (scope !== undefined && scope !== null) {
    throw new TypeError(`${who}(source, namespace, vars): namespace must be a proxy (of a module from pyExec, or a dict)`);
  }
  const names: string[] = [];
  const values: unknown[] = [];
  if (vars !== undefined && vars !== null) {
    if (typeof vars !== "object" || rootOf(vars)) throw new TypeError(`${who}(): the names to bind are a plain object ({ x: 1 })`);
    for (const [name, value] of Object.entries(vars)) {
      names.push(name);
      values.push(value);
    }
  }
  return { source: first, namespace, names, values };
}

/** The backend of the first proxy among a statement's namespace and values, if any. */
export function backendOf(statement: Statement): Backend | undefined {
  for (const v of [statement.namespace, ...statement.values]) {
    const root = rootOf(v);
    if (root && !root.session.closed) return root.session.backend;
  }
  return undefined;
}

export function evaluate(backend: Backend, s: Statement): Promise<unknown> {
  return backend.helper("evaluate", [s.source, s.namespace, s.names, s.values]);
}

export function execute(backend: Backend, s: Statement): Promise<unknown> {
  return backend.helper("execute", [s.source, s.namespace, s.names, s.values]);
}
