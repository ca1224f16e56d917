// Value fuzzing (issue 7, "Prove it"): arbitrary JS values round-trip
// through a Python identity function equal to what docs/types.md says, or
// reject with ESEM_UNSUPPORTED_VALUE; after every rejection the bridge
// still answers correctly. A seeded Python generator does the same for
// values made in Python. Both modes. ESEM_FUZZ_SEED and ESEM_FUZZ_RUNS
// (cases per generator and mode, default 10 000) override the defaults.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { createBridge, BridgeError } from "../src/index.ts";
import { BACKENDS, skipReason, fixture } from "./helpers.ts";

const SEED = process.env.ESEM_FUZZ_SEED ? Number(process.env.ESEM_FUZZ_SEED) : Date.now() % 2 ** 31;
const RUNS = process.env.ESEM_FUZZ_RUNS ? Number(process.env.ESEM_FUZZ_RUNS) : 10_000;
const BATCH = 100;
console.log(`fuzz-values: seed ${SEED} (ESEM_FUZZ_SEED), ${RUNS} cases per generator and mode (ESEM_FUZZ_RUNS)`);

// --- what a value becomes after JS -> Python -> JS (docs/types.md) -------

const REJECT = Symbol("rejects");
type Expected = unknown;

function expectedOf(v: unknown, ancestors: object[] = []): Expected {
  switch (typeof v) {
    case "undefined":
      return null;
    case "number":
      if (Number.isInteger(v) && !Object.is(v, -0) && !Number.isSafeInteger(v)) return BigInt(v);
      return v;
    case "bigint":
      return v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n ? Number(v) : v;
    case "symbol":
      return REJECT;
    case "function":
      return v; // a JS function: Python gets a callable, and gives back the same function
    case "object":
      break;
    default:
      return v;
  }
  if (v === null) return null;
  if (ancestors.includes(v) || ancestors.length >= 256) return REJECT;
  // A TypedArray of wider elements is a memoryview of its format in Python, which comes back as that TypedArray.
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof Uint8Array) && !(v instanceof Uint8ClampedArray)) return v;
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (v instanceof Date) return v;
  const inner = [...ancestors, v];
  const sub = (x: unknown) => expectedOf(x, inner);
  if (Array.isArray(v)) {
    const out = [];
    for (let i = 0; i < v.length; i++) out.push(sub(v[i])); // holes read as undefined: None
    return out.includes(REJECT) ? REJECT : out;
  }
  if (v instanceof Map) {
    const entries = [...v].map(([k, x]) => [sub(k), sub(x)]);
    if (entries.some(([k, x]) => k === REJECT || x === REJECT)) return REJECT;
    if (entries.every(([k]) => typeof k === "string")) return plain(entries as [string, unknown][]);
    return new Map(entries as [unknown, unknown][]);
  }
  if (v instanceof Set) {
    const items = [...v].map(sub);
    return items.includes(REJECT) ? REJECT : new Set(items);
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return REJECT;
  const entries = Object.keys(v).map((k) => [k, sub((v as Record<string, unknown>)[k])] as [string, unknown]);
  return entries.some(([, x]) => x === REJECT) ? REJECT : plain(entries);
}

function plain(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Where `actual` differs from `expected`, or null. */
function difference(actual: unknown, expected: unknown, path = "value"): string | null {
  const show = (x: unknown) => (typeof x === "bigint" ? `${x}n` : typeof x === "string" ? JSON.stringify(x) : String(x));
  if (typeof expected !== "object" || expected === null) {
    return Object.is(actual, expected) ? null : `${path}: got ${show(actual)}, expected ${show(expected)}`;
  }
  if (ArrayBuffer.isView(expected) && !(expected instanceof Uint8Array)) {
    const kind = Object.prototype.toString.call(expected);
    if (!ArrayBuffer.isView(actual) || Object.prototype.toString.call(actual) !== kind) return `${path}: not a ${kind.slice(8, -1)}`;
    const bytes = (x: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    return Buffer.compare(bytes(actual), bytes(expected)) === 0 ? null : `${path}: elements differ`;
  }
  if (expected instanceof Uint8Array) {
    return Buffer.isBuffer(actual) && Buffer.compare(actual, expected) === 0 ? null : `${path}: bytes differ`;
  }
  if (expected instanceof Date) {
    return actual instanceof Date && Object.is(actual.getTime(), expected.getTime()) ? null : `${path}: got ${actual}, expected ${expected.toISOString()}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: not an array of ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = difference(actual[i], expected[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (expected instanceof Map) {
    if (!(actual instanceof Map) || actual.size !== expected.size) return `${path}: not a Map of ${expected.size}`;
    for (const [k, x] of expected) {
      if (!actual.has(k)) return `${path}: key ${show(k)} missing`;
      const d = difference(actual.get(k), x, `${path}<${show(k)}>`);
      if (d) return d;
    }
    return null;
  }
  if (expected instanceof Set) {
    if (!(actual instanceof Set) || actual.size !== expected.size) return `${path}: not a Set of ${expected.size}`;
    for (const x of expected) if (!actual.has(x)) return `${path}: item ${show(x)} missing`;
    return null;
  }
  if (typeof actual !== "object" || actual === null || Object.getPrototypeOf(actual) !== Object.prototype) return `${path}: not a plain object`;
  const keys = Object.keys(expected).sort();
  const got = Object.keys(actual).sort();
  if (keys.join("\0") !== got.join("\0")) return `${path}: keys ${JSON.stringify(got)}, expected ${JSON.stringify(keys)}`;
  for (const k of keys) {
    const d = difference((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}[${JSON.stringify(k)}]`);
    if (d) return d;
  }
  return null;
}

// --- generators -----------------------------------------------------------

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const special = fc.constantFrom("\uFEFF", "\uFEFFx", "a\uFEFF", "\uD800", "x\uDC00y", "\uD83D\uDE00", "\0", "é", "");
const anyString = fc.oneof(fc.string({ unit: codeUnit, maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 12 }), special);

const numberEdges = fc.constantFrom(
  0, -0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, -(2 ** 53), 2 ** 53 + 2,
  2 ** 63, -(2 ** 63), 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 1e21, 0.1,
);
const bigintEdges = fc.constantFrom(
  2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, 2n ** 63n, -(2n ** 63n), -(2n ** 63n) - 1n, 2n ** 64n, -(2n ** 1000n), 0n,
);
const number = fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(), numberEdges);
const bigint = fc.oneof(fc.bigInt(), fc.bigInt({ min: -(2n ** 4000n), max: 2n ** 4000n }), bigintEdges);
const date = fc.date({ min: new Date(Date.UTC(1, 0, 1)), max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)), noInvalidDate: true });

const typed = fc.oneof(
  fc.uint8Array({ maxLength: 16 }),
  fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
  fc.uint8ClampedArray({ maxLength: 8 }),
  fc.int8Array({ maxLength: 8 }),
  fc.int16Array({ maxLength: 8 }),
  fc.uint16Array({ maxLength: 8 }),
  fc.int32Array({ maxLength: 8 }),
  fc.uint32Array({ maxLength: 8 }),
  fc.float32Array({ maxLength: 8 }),
  fc.float64Array({ maxLength: 8 }),
  fc.bigInt64Array({ maxLength: 4 }),
  fc.bigUint64Array({ maxLength: 4 }),
  fc.uint8Array({ maxLength: 16 }).map((a) => new DataView(a.buffer)),
  fc.uint8Array({ maxLength: 16 }).map((a) => a.slice().buffer),
  // a window into a larger buffer: only the window's bytes are sent
  fc.float64Array({ minLength: 3, maxLength: 6 }).map((a) => new Float64Array(a.buffer, 8, a.length - 2)),
);

const scalar = fc.oneof(fc.constant(null), fc.constant(undefined), fc.boolean(), number, bigint, anyString, date, typed);
const hashable = fc.oneof(anyString, fc.integer({ min: -1000, max: 1000 }));

// Keys: any string, "__proto__" and numeric keys included.
const key = fc.oneof(anyString, fc.constantFrom("__proto__", "constructor", "0", "1", "-1", "a-b"));

function withGetters(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) Object.defineProperty(out, k, { get: () => o[k], enumerable: true, configurable: true });
  return out;
}

const { data } = fc.letrec<{ data: unknown }>((tie) => ({
  data: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    scalar,
    fc.array(tie("data"), { maxLength: 5 }),
    fc.sparseArray(tie("data"), { maxLength: 6 }),
    fc.dictionary(key, tie("data"), { maxKeys: 5 }).map((d) => plain(Object.entries(d))),
    fc.dictionary(key, tie("data"), { maxKeys: 3, noNullPrototype: false }),
    fc.dictionary(key, tie("data"), { maxKeys: 3 }).map(withGetters),
    fc.uniqueArray(fc.tuple(hashable, tie("data")), { maxLength: 4, selector: ([k]) => k }).map((e) => new Map(e)),
    fc.uniqueArray(hashable, { maxLength: 5 }).map((items) => new Set(items)),
  ),
}));

class Custom {
  field = 1;
}
const unsupported = fc.oneof(
  fc.string().map((s) => Symbol(s)),
  fc.constant(() => 1), // not unsupported any more (a callback): expectedOf says it comes back itself
  fc.constant(new Custom()),
  fc.constant(/re/g),
  fc.constant(new RangeError("x")),
  fc.constant(Promise.resolve(1)),
  fc.constant(new WeakMap()),
  fc.constant(Object(1)),
  fc.constant(new SharedArrayBuffer(4)),
  data.map((d) => Object.create({ inherited: d })),
  data.map((d) => {
    const cycle: Record<string, unknown> = { d };
    cycle.self = [cycle];
    return cycle;
  }),
);
// One value in a single call: mostly good data, a third of it not passable,
// sometimes hidden deep inside good data.
const single = fc.oneof(
  { weight: 4, arbitrary: data },
  { weight: 1, arbitrary: unsupported },
  { weight: 1, arbitrary: fc.tuple(data, unsupported).map(([d, u]) => ({ list: [d, { u }] })) },
);

// --- the suite ------------------------------------------------------------

describe.each(BACKENDS)("fuzzed values on the %s backend", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`are not tested: ${reason}`, () => {});
    return;
  }

  let bridge: ReturnType<typeof createBridge>;
  let v: any;
  let fz: any;

  beforeAll(async () => {
    bridge = createBridge({ mode });
    v = await bridge.python(fixture("values.py"));
    fz = await bridge.python(fixture("fuzz.py"));
  });

  afterAll(async () => {
    await bridge?.shutdown();
  });

  it(`round-trips ${RUNS} arbitrary JS values (in batches of ${BATCH}) equal to the documented rules`, async () => {
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(data, { minLength: BATCH, maxLength: BATCH }), async (values) => {
        const expected = expectedOf(values);
        cases += values.length;
        if (expected === REJECT) throw new Error("the data generator made an unsupported value");
        const back = await v.echo(values);
        const d = difference(back, expected);
        if (d) throw new Error(d);
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / BATCH), endOnFailure: true },
    );
    expect(cases).toBeGreaterThanOrEqual(RUNS);
  }, 120_000);

  it(`round-trips or rejects with ESEM_UNSUPPORTED_VALUE ${RUNS} single values, and answers the next call right`, async () => {
    let rejected = 0;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(single, async (value) => {
        const expected = expectedOf(value);
        const marker = n++;
        let back: unknown;
        try {
          back = await v.echo(value);
        } catch (error) {
          if (expected !== REJECT || !(error instanceof BridgeError) || error.code !== "ESEM_UNSUPPORTED_VALUE") throw error;
          rejected++;
          // No desync: the next call gets its own answer.
          const next = await v.echo([marker, "after a rejection"]);
          if (difference(next, [marker, "after a rejection"])) throw new Error(`desync after a rejection: ${String(next)}`);
          return;
        }
        if (expected === REJECT) throw new Error("an unsupported value was accepted");
        const d = difference(back, expected);
        if (d) throw new Error(d);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(rejected).toBeGreaterThan(RUNS / 10);
  }, 120_000);

  it(`sends back ${RUNS} random Python values equal by the documented rules (seeded Python generator)`, async () => {
    const per = 500;
    for (let i = 0; i < Math.ceil(RUNS / per); i++) {
      const seed = SEED + i;
      const values = await fz.make(seed, per);
      expect(values).toHaveLength(per);
      expect(await fz.check(seed, per, values), `Python seed ${seed}`).toEqual([]);
    }
  }, 120_000);
});
