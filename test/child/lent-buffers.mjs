// Child script (node --expose-gc): Python memory lent to JS lives exactly as
// long as JS holds it, in the main thread and in a worker that is
// terminated while it holds one. Prints one JSON line of what it saw.
// Usage: node --expose-gc lent-buffers.mjs <fixtures dir>
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const fixtures = isMainThread ? process.argv[2] : workerData.fixtures;
const bridge = createBridge({ mode: "native" });
const lent = await bridge.python(path.join(fixtures, "lent.py"));

async function collectUntil(done, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (let i = 0; i < 3; i++) globalThis.gc();
    await new Promise((r) => setTimeout(r, 20));
    if (await done()) return true;
  }
  return false;
}

if (!isMainThread) {
  globalThis.held = await lent.make_array(); // held until the worker is terminated
  parentPort.postMessage([await lent.arrays_alive()]);
  setInterval(() => {}, 1000); // the worker lives until terminated
  await new Promise(() => {}); // and runs none of the main thread's code below
}

const out = {};
let a = await lent.make_array();
out.arrayKind = a.constructor.name;
out.aliveWhileHeld = await lent.arrays_alive();
for (let i = 0; i < 5; i++) globalThis.gc();
out.aliveAfterGcWhileHeld = (await lent.arrays_alive()) === 1 && a[1023] === 1023;
a = null;
out.freedAfterJsDropped = await collectUntil(async () => (await lent.arrays_alive()) === 0);

let b = await lent.shared_bytes();
await lent.poke(0, 7);
out.pythonWriteSeen = b[0] === 7;
b[1] = 9;
out.jsWriteSeen = (await lent.peek(1)) === 9;
out.resizeWhileHeld = await lent.grow().then(() => "grew", (e) => e.pythonType);
b = null;
out.resizeAfterDrop = await collectUntil(async () => lent.grow().then(() => true, () => false));

const worker = new Worker(new URL(import.meta.url), { workerData: { fixtures } });
const [seenThere] = await new Promise((resolve, reject) => {
  worker.once("message", resolve);
  worker.once("error", reject);
});
out.aliveInWorker = [seenThere, await lent.arrays_alive()];
await worker.terminate();
out.freedAfterWorkerEnded = await collectUntil(async () => (await lent.arrays_alive()) === 0);
await bridge.shutdown();
console.log(JSON.stringify(out));
