// Child script: native bridges in the main thread and in worker_threads,
// each with a call in flight, then the process ends by the path in argv[2]:
// "exit" (process.exit(3) from the main thread), "throw" (an uncaught
// error), "end" (the main script returns while workers finish), or
// "worker-throws" (a worker throws; the main thread ends normally).
// Usage: node host-exit-workers.mjs <path> <fixtures dir> [workers]
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);

if (isMainThread) {
  const [how, fixtures, count = "3"] = process.argv.slice(2);
  const bridge = createBridge({ mode: "native" });
  const host = await bridge.python(path.join(fixtures, "host.py"));
  const objects = [];
  for (let i = 0; i < 50; i++) objects.push(await host.make_holder());
  let ready = 0;
  const workers = [];
  for (let i = 0; i < Number(count); i++) {
    const worker = new Worker(new URL(import.meta.url), { workerData: { fixtures, how } });
    worker.on("error", () => {});
    worker.on("message", () => {
      if (++ready < Number(count)) return;
      host.spin(0.05).catch(() => {});
      if (how === "exit") process.exit(3);
      if (how === "throw") setTimeout(() => { throw new Error("uncaught on purpose"); }, 1);
      if (how === "end" || how === "worker-throws") console.log("main done");
    });
    workers.push(worker);
  }
} else {
  const bridge = createBridge({ mode: "native" });
  const host = await bridge.python(path.join(workerData.fixtures, "host.py"));
  const objects = [];
  for (let i = 0; i < 50; i++) objects.push(await host.make_holder());
  // Calls in flight when the environment ends: their results are dropped.
  for (let i = 0; i < 20; i++) host.spin(0.01).catch(() => {});
  host.slow(0.2).catch(() => {});
  parentPort.postMessage("ready");
  if (workerData.how === "worker-throws") setTimeout(() => { throw new Error("worker throws"); }, 5);
  else if (workerData.how === "end") setTimeout(() => process.exit(0), 20);
}
