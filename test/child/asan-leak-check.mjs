// Child script for scripts/test-asan.sh (LeakSanitizer): bridges in the main
// thread and in a worker_thread are used (calls, objects released by hand
// and by GC, results in both value paths, large buffers), shut down or
// dropped, and collected; the script then ends normally, so that every
// allocation of the addon should be freed by the time LeakSanitizer looks.
// Usage: node --expose-gc asan-leak-check.mjs <fixtures dir>
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker, isMainThread, workerData } from "node:worker_threads";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const fixtures = isMainThread ? process.argv[2] : workerData.fixtures;
const natives = [];

async function exercise(shutdown) {
  const bridge = createBridge({ mode: "native" });
  const host = await bridge.python(path.join(fixtures, "host.py"));
  const json = await bridge.python("json");
  for (let i = 0; i < 200; i++) await host.fast(i);
  await Promise.all(Array.from({ length: 500 }, (_, i) => host.fast({ i, tags: ["a", "b"] })));
  await json.loads(JSON.stringify({ list: Array.from({ length: 100 }, (_, i) => i) }));
  const bytes = await (await bridge.python("builtins")).bytes(1 << 20); // an external buffer
  if (bytes.length !== 1 << 20) throw new Error("bytes");
  await host.fast(Buffer.alloc(1 << 16, 1)); // a JS buffer beside the wire bytes (side buffer), copied once
  for (let i = 0; i < 50; i++) await (await host.make_holder()).release();
  for (let i = 0; i < 50; i++) await host.make_holder(); // released by GC
  natives.push(new WeakRef(bridge.session.backend.native));
  if (shutdown) await bridge.shutdown();
}

await exercise(true);
await exercise(false);
if (isMainThread) {
  await new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { fixtures } });
    worker.on("error", reject);
    worker.on("exit", resolve);
  });
}
// deref() keeps its target alive until the current job ends: gc in a job of its own.
async function someAlive() {
  await sleep(10);
  global.gc();
  await sleep(10);
  return natives.some((w) => w.deref());
}
for (let round = 0; round < 50 && (await someAlive()); round++);
const left = natives.filter((w) => w.deref()).length;
if (left) {
  console.error(`bridges not collected: ${natives.map((w, i) => (w.deref() ? i : "")).join(" ")}`);
  process.exitCode = 1;
}
await sleep(200); // the host runs the close jobs of collected bridges
