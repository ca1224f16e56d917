// Child script (run with --expose-gc): proxies dropped after any kind of
// use are garbage-collected, and their Python objects freed, in batches.
// Usage: node --expose-gc gc-collect.mjs <mode> <fixtures dir> <count>
// Prints one JSON line: live Python objects and JS heap before and after.
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const { createBridge, iterate, release } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [mode, fixtures, countArg] = process.argv.slice(2);
const count = Number(countArg);
const bridge = createBridge({ mode });
const lt = await bridge.python(path.join(fixtures, "tracked.py"));

async function collect() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await sleep(5); // finalizers run in a later task, their release job after them
  }
}

// Every kind of use, round robin, 500 objects at a time.
const uses = [
  async (o) => o.get(),
  async (o) => o.n,
  async (o) => {
    void o.get; // a member read, nothing called
    return 0;
  },
  async (o) => {
    let sum = 0;
    for await (const x of iterate(o)) sum += x;
    return sum;
  },
  async (o) => lt.take(o),
  async (o) => lt.take([{ o }]),
];

// The proxies are held until all are made, so that they are all alive at once.
async function churn(n, held) {
  for (let start = 0; start < n; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(n, start + 500); i++) {
      batch.push(lt.Tracked(i).then((o) => (held.push(o), uses[i % uses.length](o))));
    }
    await Promise.all(batch);
  }
}

await churn(600, []); // warm-up: every code path compiled, caches filled
await collect();
const heapBase = process.memoryUsage().heapUsed;
const liveBase = await lt.live();
let held = [];
await churn(count, held);
const liveBefore = (await lt.live()) - liveBase;
held = null;
let rounds = 0;
let liveAfter = liveBefore;
for (; rounds < 30 && liveAfter > count / 100; rounds++) {
  await collect();
  liveAfter = (await lt.live()) - liveBase;
}
await collect();
liveAfter = (await lt.live()) - liveBase;
const heapAfter = process.memoryUsage().heapUsed;

// Released explicitly after a method call: Python frees the objects at
// once; JS keeps only a small state per proxy still held, and nothing once
// the proxies are dropped.
held = [];
await churn(count, held);
await Promise.all(held.map((o) => release(o)));
const liveReleased = (await lt.live()) - liveBase;
await collect();
const heapHeldReleased = process.memoryUsage().heapUsed;
held = null;
await collect();
await collect();
const heapDroppedReleased = process.memoryUsage().heapUsed;
const bytesPerReleasedHeld = Math.round((heapHeldReleased - heapDroppedReleased) / count);

// Errors: each PythonError holds its exception (err.pythonException), which
// holds a Tracked object; dropped errors let it go.
const liveBeforeErrors = await lt.live();
let errors = [];
for (let start = 0; start < count; start += 500) {
  const batch = [];
  for (let i = start; i < Math.min(count, start + 500); i++) {
    batch.push(lt.Tracked(i).then((o) => lt.fail_with(o)).catch((e) => errors.push(e)));
  }
  await Promise.all(batch);
}
const liveWithErrors = (await lt.live()) - liveBeforeErrors;
errors = null;
let liveAfterErrors = liveWithErrors;
for (let i = 0; i < 30 && liveAfterErrors > count / 100; i++) {
  await collect();
  liveAfterErrors = (await lt.live()) - liveBeforeErrors;
}
console.log(JSON.stringify({
  made: count, liveBefore, liveAfter, heapBase, heapAfter, rounds,
  liveReleased, heapDroppedReleased, bytesPerReleasedHeld, liveWithErrors, liveAfterErrors,
}));
await bridge.shutdown();
