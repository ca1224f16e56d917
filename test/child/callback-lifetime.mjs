// Child script (node --expose-gc): JS functions passed to Python live as
// long as Python holds them and are collected after it lets go; in native
// mode, a worker_thread's function called after the worker ended raises
// CallbackGone in Python. Prints one JSON line of what it saw.
// Usage: node --expose-gc callback-lifetime.mjs <fixtures dir> <mode>
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [fixtures, mode] = isMainThread ? process.argv.slice(2) : [workerData.fixtures, workerData.mode];
const bridge = createBridge({ mode });
const cb = await bridge.python(path.join(fixtures, "callbacks.py"));

if (!isMainThread) {
  await cb.on("from-worker", (x) => x * 2);
  parentPort.postMessage(await cb.emit("from-worker", 21));
  await bridge.shutdown();
  process.exit(0);
}

const collected = new Set();
const registry = new FinalizationRegistry((tag) => collected.add(tag));

async function collectUntil(done, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (let i = 0; i < 3; i++) globalThis.gc();
    await new Promise((r) => setTimeout(r, 20));
    if (done()) return true;
  }
  return false;
}

const out = {};
for (let i = 0; i < 200; i++) {
  const f = () => i;
  registry.register(f, i);
  await cb.call(f);
}
// Python keeps this one (its only strong JS reference is the bridge's table).
await cb.on("kept", (() => {
  const g = () => "kept";
  registry.register(g, "kept");
  return g;
})());
out.droppedCollected = await collectUntil(() => [...collected].filter((t) => typeof t === "number").length >= 195);
out.keptAlive = !collected.has("kept") && (await cb.emit("kept")) === "kept";
await cb.forget("kept");
await cb.call(() => 0); // a later call delivers Python's release
out.keptCollectedAfterForget = await collectUntil(() => collected.has("kept"));

if (mode === "native") {
  const worker = new Worker(new URL(import.meta.url), { workerData: { fixtures, mode } });
  out.workerCall = await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await new Promise((resolve) => worker.once("exit", resolve));
  out.afterWorkerEnded = String(await cb.call_gone_handler("from-worker")).split(":")[0];
}
out.stillWorks = (await cb.call((x) => x + 1, 1)) === 2;
await bridge.shutdown();
console.log(JSON.stringify(out));
