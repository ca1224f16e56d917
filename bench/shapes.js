// `node bench/shapes.js [native|subprocess] [shape,...]`: echo() of data
// shapes the rows do not cover (floats, strings, wide and deep records,
// bigints, a 100 000-key dict, ...), one bridge, one process: median ms of
// 7 calls after 2 warm-ups, as one JSON line. A sweep for finding a slow
// path, not a row: shapes share a process, so a shape can be slowed by the
// garbage of the one before; rerun a shape alone (`... native bools100k`)
// before trusting a difference, and compare modes alternately. Each shape's
// first echo is checked equal to what was sent, outside the timing (a
// TypedArray by its type and bytes: it comes back with `shape` and `dtype`).
import { isDeepStrictEqual } from "node:util";
import { DATA_FIXTURE, open } from "./lib/open.js";
import { median, timeRuns } from "./lib/stats.js";

const spread = (i) => ((i * 2654435761) % 1000003) / 1000.5;
const SHAPES = {
  floats100k: () => Array.from({ length: 100_000 }, (_, i) => spread(i) + 0.5),
  strs100k: () => Array.from({ length: 100_000 }, (_, i) => `item-${i}`),
  unicode10k: () => Array.from({ length: 10_000 }, (_, i) => `héllo wörld 你好 ${i}`),
  bigstr10m: () => "x".repeat(10 * 1024 * 1024),
  bigstr_uni1m: () => "é你".repeat(500_000),
  matrix1000x100: () => Array.from({ length: 1000 }, (_, i) => Array.from({ length: 100 }, (_, j) => spread(i * 100 + j))),
  wide_dict100k: () => Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])),
  deep1k: () => Array.from({ length: 1000 }, (_, i) => ({ a: { b: { c: [1, 2, { d: `x${i}` }] } }, i })),
  mixed10k: () =>
    Array.from({ length: 10_000 }, (_, i) => ({ id: i, price: spread(i) + 0.25, active: i % 2 === 0, note: null, tags: ["a", "b"], meta: { k: `v${i}` } })),
  bools100k: () => Array.from({ length: 100_000 }, (_, i) => i % 3 === 0),
  bigints100k: () => Array.from({ length: 100_000 }, (_, i) => 2 ** 40 + i),
  pairs10k: () => Array.from({ length: 10_000 }, (_, i) => [i, i + 1]),
  varkeys10k: () => Array.from({ length: 10_000 }, (_, i) => ({ [`k${i}`]: i, common: 1 })),
  wide_records1k: () => Array.from({ length: 1000 }, (_, i) => Object.fromEntries(Array.from({ length: 50 }, (_, j) => [`field_${j}`, i + j]))),
  f64arr1m: () => new Float64Array(1_000_000).fill(1.5),
};

function same(back, sent) {
  if (!ArrayBuffer.isView(sent)) return isDeepStrictEqual(back, sent);
  const bytes = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return back?.constructor === sent.constructor && bytes(back).equals(bytes(sent));
}

const [mode = "native", only] = process.argv.slice(2);
const names = only ? only.split(",") : Object.keys(SHAPES);
const unknown = names.filter((n) => !(n in SHAPES));
if (unknown.length) throw new Error(`unknown shape(s) ${unknown.join(", ")}; known: ${Object.keys(SHAPES).join(", ")}`);
const { bridge, mod } = await open(mode, DATA_FIXTURE);
const out = { mode };
for (const name of names) {
  const x = SHAPES[name]();
  if (!same(await mod.echo(x), x)) throw new Error(`${name}: echo() came back different from what was sent`);
  await mod.echo(x);
  out[name] = Number(median(await timeRuns(() => mod.echo(x), 7)).toFixed(2));
}
console.log(JSON.stringify(out));
await bridge.shutdown();
