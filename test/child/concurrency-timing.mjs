// Child script: the timing rows of docs/concurrency.md, measured away from
// the test runner's load. Prints one JSON line of elapsed milliseconds.
// Usage: node concurrency-timing.mjs <fixtures dir> <mode>
import path from "node:path";
const { createBridge, opts } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [fixtures, mode] = process.argv.slice(2);
const bridge = createBridge({ mode });
const c = await bridge.python(path.join(fixtures, "concurrency.py"));
await c.sleep(0);
const out = {};
const since = (t) => Date.now() - t;

let t = Date.now();
const threads = await Promise.all([c.sleep(0.5), c.sleep(0.5), c.sleep(0.5), c.sleep(0.5)]);
out.fourSleeps = since(t);
out.sleepThreads = new Set(threads).size;

await c.spin(200000);
t = Date.now();
await c.spin(2000000);
const one = since(t);
t = Date.now();
await Promise.all([c.spin(2000000), c.spin(2000000), c.spin(2000000), c.spin(2000000)]);
out.cpuFourOverOne = since(t) / Math.max(one, 1);

t = Date.now();
const naps = Promise.all([c.nap(1, 1), c.nap(2, 1)]);
await new Promise((r) => setTimeout(r, 100));
const t2 = Date.now();
await c.spin(10);
out.plainDuringNap = since(t2);
out.napsValues = await naps;
out.twoNaps = since(t);

t = Date.now();
const error = await c.forever(opts({ timeout: 100 })).catch((e) => e);
out.foreverStopped = since(t);
out.foreverError = [error.name, error.code];
out.afterCancel = await c.spin(3);
await new Promise((r) => setTimeout(r, 50));
out.afterCancelAgain = await c.spin(4);
await bridge.shutdown();
console.log(JSON.stringify(out));
