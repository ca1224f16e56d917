// A data-crunching script: a large typed array to Python without a copy,
// a million records there and back, with timings and peak memory.
//   node examples/crunch/crunch.mjs [elements] [records]
import { python, shared, shutdown } from "esem-bridge";

const elements = Number(process.argv[2] ?? 8_000_000);
const count = Number(process.argv[3] ?? 1_000_000);
const crunch = await python(new URL("./crunch.py", import.meta.url));
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const time = async (label, fn) => {
  const t0 = performance.now();
  const out = await fn();
  console.log(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return out;
};

const data = new Float64Array(elements).map((_, i) => i % 10);
const stats = await time(`sum of ${elements} float64 (${mb(data.byteLength)}) through shared()`, () => crunch.array_stats(shared(data)));
console.log(`  sum ${stats.sum} (${stats.engine}); Python doubled them in place: data[3] is now ${data[3]}`);

const records = Array.from({ length: count }, (_, i) => ({ id: i, name: `item-${i}`, score: i % 100, tags: i % 2 ? ["a", "b"] : ["c"] }));
const tags = await time(`by_tag over ${count} records sent to Python`, () => crunch.by_tag(records));
console.log(`  ${JSON.stringify(tags)}`);
const back = await time(`${count} records made in Python and returned`, () => crunch.make_records(count));
console.log(`  ${back.length} records, last ${JSON.stringify(back.at(-1))}`);
console.log(`peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}`);
await shutdown();
