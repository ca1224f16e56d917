// Stress: for a few seconds, several bridges (and a worker_thread) create,
// call, drop and release objects concurrently, with shutdown/restart cycles
// and garbage collection in between. Invariant: no crash, every call settles
// with the right value or ESEM_SHUTDOWN, and Python ends with no live
// objects of the soak. Run with --expose-gc (npm run test:stress).
import path from "node:path";
import { Worker, isMainThread, parentPort } from "node:worker_threads";

const { createBridge, release } = await import(new URL("../../dist/index.js", import.meta.url).href);
const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "fixtures", "tracked.py");
const seconds = Number(process.env.SOAK_SECONDS ?? 5);
const MODE = process.env.SOAK_MODE ?? "native"; // or "subprocess"

async function churn(label, until) {
  let calls = 0;
  let bridge = createBridge({ mode: MODE });
  let mod = await bridge.python(fixture);
  while (Date.now() < until) {
    const objs = await Promise.all(Array.from({ length: 200 }, (_, i) => mod.Tracked(i)));
    const values = await Promise.all(objs.map((o) => o.n));
    values.forEach((v, i) => {
      if (v !== i) throw new Error(`${label}: wrong value ${v} for ${i}`);
    });
    await Promise.all(objs.filter((_, i) => i % 2).map((o) => release(o)));
    calls += 600;
    if (Math.random() < 0.1) {
      const pending = Array.from({ length: 50 }, () => mod.live().catch((e) => e.code));
      await bridge.shutdown();
      for (const outcome of await Promise.all(pending)) {
        if (typeof outcome !== "number" && outcome !== "ESEM_SHUTDOWN") throw new Error(`${label}: ${outcome}`);
      }
      bridge = createBridge({ mode: MODE });
      mod = await bridge.python(fixture);
    }
    if (globalThis.gc && Math.random() < 0.2) globalThis.gc();
  }
  await bridge.shutdown();
  return calls;
}

if (isMainThread) {
  const until = Date.now() + seconds * 1000;
  const worker = new Worker(new URL(import.meta.url)); // gc is process-wide under --expose-gc
  const workerDone = new Promise((resolve, reject) => {
    worker.on("message", resolve);
    worker.on("error", reject);
  });
  const counts = await Promise.all([churn("a", until), churn("b", until), workerDone]);
  if (MODE === "subprocess") {
    // Each worker ends with its bridge: there is no shared registry to check.
    console.log(`calls: ${counts.join(" + ")}; every call settled, workers shut down`);
    process.exit(0);
  }
  // Everything released or collected: a fresh bridge sees no live Tracked objects.
  const check = createBridge({ mode: "native" });
  const mod = await check.python(fixture);
  let live = await mod.live();
  for (let i = 0; i < 50 && live > 0; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 20));
    live = await mod.live();
  }
  await check.shutdown();
  console.log(`calls: ${counts.join(" + ")}; live Python objects at the end: ${live}`);
  if (live !== 0) process.exitCode = 1;
} else {
  parentPort.postMessage(await churn("worker", Date.now() + seconds * 1000));
}
