// The JSON form of JS values in test/golden/values.json (README.md there):
// `build` makes the JS value a form names, `sameValue` compares two JS values
// exactly (types, -0, NaN, key and entry order, TypedArray shape and dtype).

import { JsonText } from "../../src/codec.ts";

/** What the golden test's Ref stands for: a JS -> Python proxy (id, path) or a Python -> JS ref (id, typeIndex, desc). */
export interface RefForm {
  id: number;
  path?: string[];
  typeIndex?: number;
  desc?: unknown;
}

/** A function standing for a proxy: the encoder's refOf reads this symbol. */
export const REF = Symbol("golden ref");

/** A Python -> JS ref as the golden test's wrap makes it (a plain marker, compared field by field). */
export class RefMarker {
  constructor(readonly form: RefForm) {}
}

type Form = null | boolean | number | string | Form[] | { [key: string]: Form };

const TYPED: Record<string, new (n: number) => ArrayBufferView & ArrayLike<number | bigint>> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

function tagOf(form: object): string | undefined {
  const keys = Object.keys(form);
  return keys.length === 1 && keys[0].startsWith("$") ? keys[0] : undefined;
}

function float(name: string): number {
  const n = { NaN, Infinity, "-Infinity": -Infinity, "-0": -0 }[name];
  if (n === undefined) throw new Error(`unknown $float ${name}`);
  return n;
}

function str16(units: number[]): string {
  return String.fromCharCode(...units);
}

function key(form: Form): string {
  if (typeof form === "string") return form;
  const units = (form as { $str16?: number[] }).$str16;
  if (!units) throw new Error(`a key must be a string or a $str16 form: ${JSON.stringify(form)}`);
  return str16(units);
}

function typed(name: string, values: (number | string)[]): unknown {
  const bytes = () => Uint8Array.from(values as number[]);
  if (name === "ArrayBuffer") return bytes().buffer;
  if (name === "DataView") return new DataView(bytes().buffer);
  const Typed = TYPED[name];
  if (!Typed) throw new Error(`unknown TypedArray ${name}`);
  const out = new Typed(values.length) as unknown as (number | bigint)[];
  const big = name.startsWith("Big");
  values.forEach((v, i) => (out[i] = big ? BigInt(v) : (v as number)));
  return out;
}

function object(entries: [Form, Form][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, key(k), { value: build(v), writable: true, enumerable: true, configurable: true });
  return out;
}

/** The JS value a form names. */
export function build(form: Form): unknown {
  if (form === null || typeof form !== "object") return form;
  if (Array.isArray(form)) return form.map(build);
  const tag = tagOf(form);
  if (tag === undefined) return object(Object.entries(form));
  const body = form[tag] as never;
  switch (tag) {
    case "$undefined":
      return undefined;
    case "$bigint":
      return BigInt(body as string);
    case "$float":
      return float(body);
    case "$str16":
      return str16(body);
    case "$bytes":
      return Buffer.from(body as string, "hex");
    case "$typed": {
      const [name, values] = body as [string, (number | string)[]];
      return typed(name, values);
    }
    case "$ndarray": {
      const { type, values, shape, dtype } = body as { type: string; values: (number | string)[]; shape: number[]; dtype: string };
      return Object.assign(typed(type, values) as object, { shape, dtype });
    }
    case "$object":
      return object(body);
    case "$map":
      return new Map((body as [Form, Form][]).map(([k, v]) => [build(k), build(v)]));
    case "$set":
      return new Set((body as Form[]).map(build));
    case "$date":
      return new Date(body as number);
    case "$json":
      return new JsonText(body as string);
    case "$ref": {
      const ref = body as RefForm;
      if (ref.typeIndex !== undefined) return new RefMarker(ref);
      const proxy = () => {};
      return Object.assign(proxy, { [REF]: ref.path?.length ? [ref.id, ...ref.path] : ref.id });
    }
  }
  throw new Error(`unknown form tag ${tag}`);
}

function describe(v: unknown): string {
  if (v === null || typeof v !== "object") return `${typeof v} ${String(v)}`;
  return `${(v as object).constructor?.name ?? "null-prototype object"}`;
}

/** Why `actual` is not exactly `expected`, or null when it is. */
export function sameValue(actual: unknown, expected: unknown, at = "value"): string | null {
  const differ = () => `${at}: ${describe(actual)} where ${describe(expected)} was expected`;
  if (typeof actual !== typeof expected) return differ();
  if (typeof expected !== "object" || expected === null || actual === null) return Object.is(actual, expected) ? null : differ();
  const a = actual as object;
  const e = expected as object;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(e)) return differ();
  if (e instanceof RefMarker) return sameValue({ ...(a as RefMarker).form }, { ...e.form }, `${at} (ref)`);
  if (e instanceof Date) return Object.is(e.getTime(), (a as Date).getTime()) ? null : `${at}: Date ${(a as Date).getTime()} where ${e.getTime()} was expected`;
  if (e instanceof Map || e instanceof Set) {
    const ae = [...(a as Map<unknown, unknown>).entries()];
    const ee = [...e.entries()];
    if (ae.length !== ee.length) return `${at}: ${ae.length} entries where ${ee.length} were expected`;
    for (let i = 0; i < ee.length; i++) {
      const why = sameValue(ae[i][0], ee[i][0], `${at}<key ${i}>`) ?? sameValue(ae[i][1], ee[i][1], `${at}<value ${i}>`);
      if (why) return why;
    }
    return null;
  }
  if (ArrayBuffer.isView(e)) {
    const ab = Buffer.from((a as ArrayBufferView).buffer, (a as ArrayBufferView).byteOffset, (a as ArrayBufferView).byteLength);
    const eb = Buffer.from(e.buffer, e.byteOffset, e.byteLength);
    if (!ab.equals(eb)) return `${at}: bytes ${ab.toString("hex")} where ${eb.toString("hex")} were expected`;
  }
  // Own enumerable keys in order (an array's indices, an object's keys, a TypedArray's shape and dtype).
  const ak = ArrayBuffer.isView(a) ? Object.keys(a).filter((k) => !/^\d+$/.test(k)) : Object.keys(a);
  const ek = ArrayBuffer.isView(e) ? Object.keys(e).filter((k) => !/^\d+$/.test(k)) : Object.keys(e);
  if (ak.join("\0") !== ek.join("\0")) return `${at}: keys [${ak}] where [${ek}] were expected`;
  for (const k of ek) {
    const why = sameValue((a as Record<string, unknown>)[k], (e as Record<string, unknown>)[k], `${at}[${JSON.stringify(k)}]`);
    if (why) return why;
  }
  return null;
}
