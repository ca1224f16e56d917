// Writes the wire fuzzer's seed corpus: real payloads from src/codec.ts's
// Encoder (through dist/, built by `npm install`), laid out as the native
// backend sends call arguments: [args, kwargs | null] with the roots
// "args" and "kwargs". Deterministic: the same files on every run.
// Usage: node fuzz/make-seeds.mjs <output folder>
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const { Encoder } = await import(new URL("../dist/codec.js", import.meta.url).href);

const out = process.argv[2];
if (!out) throw new Error("usage: node fuzz/make-seeds.mjs <output folder>");
mkdirSync(out, { recursive: true });

// Stand-ins for proxies: the encoder asks refOf for their registry id and path.
const refs = new Map();
function proxy(ref) {
  const f = () => {};
  refs.set(f, ref);
  return f;
}
const encoder = new Encoder((f) => refs.get(f));

function nested(depth, leaf) {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const record = (i) => ({ id: i, name: `user ${i}`, score: i / 3, tags: ["a", "b"], active: i % 2 === 0 });

const seeds = {
  "empty-args": [[], null],
  scalars: [[null, undefined, true, false, 0, -1, 42, 2 ** 53 - 1, -(2 ** 53)], null],
  floats: [[0.5, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE], null],
  bigints: [[2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, -(2n ** 200n) + 7n, 2 ** 60], null],
  strings: [["", "ascii", "é ü ß", "日本語", "😀 astral", "nul\0inside", "\uFEFFbom first"], null],
  "lone-surrogates": [["\uD800", "a\uDC00b", "\uDBFF\uDFFF ok"], null],
  bytes: [[Buffer.from([0, 1, 2, 255]), new Uint8Array(0), new Uint8ClampedArray([9]), new ArrayBuffer(3)], null],
  typed: [
    [
      new Int8Array([-1, 1]), new Int16Array([-2, 2]), new Uint16Array([3]), new Int32Array([-4]), new Uint32Array([5]),
      new Float32Array([1.5]), new Float64Array([2.5, NaN]), new BigInt64Array([-6n]), new BigUint64Array([7n]),
    ],
    null,
  ],
  dates: [[new Date(0), new Date(1700000000123), new Date(-1)], null],
  lists: [[[1, [2, [3, []]], "x"], [null, 1.5, "s", 7]], null],
  "dict-keyrefs": [[[record(1), record(2), record(3)]], null],
  "dict-unicode-keys": [[{ "é": 1, "\uD800": 2, "": 3, "\uD800 again": { "é": 4, "\uD800": 5 } }], null],
  "map-set": [[new Map([[1, "one"], ["k", [2]], [null, new Set([1, "a"])]]), new Set([1, 2, 3])], null],
  proxies: [[proxy(1), proxy([2, "attr"]), proxy([3, "a", "b", "\uD800"])], null],
  kwargs: [[1], { sep: ",", end: "\n", flush: true, nested: { deep: [1, 2] } }],
  "kwargs-keyrefs": [[{ sep: 1 }], { sep: 2, end: { sep: 3 } }],
  "deep-255": [[nested(255, 1)], null],
  "deep-dicts": [[nested(20, { a: nested(3, { a: 1 }) })], null],
  mixed: [[{ list: [1, "two", 3.5, null, true], bin: Buffer.from("hi"), when: new Date(5), big: 10n ** 30n }], { x: proxy(9) }],
  "many-records": [[Array.from({ length: 40 }, (_, i) => record(i))], null],
};

for (const [name, [args, kwargs]] of Object.entries(seeds)) {
  const bytes = encoder.encode([args, kwargs], ["args", "kwargs"]);
  writeFileSync(path.join(out, name), bytes);
}
console.log(`${Object.keys(seeds).length} seeds in ${out}`);
