// Child script: a worker_thread is terminated while its Python call is
// still running and more are queued. The process must not crash, the main
// thread's bridge keeps working, and the process exits by itself.
// Usage: node worker-terminate.mjs <fixtures dir>
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);

if (isMainThread) {
  const fixtures = process.argv[2];
  const bridge = createBridge({ mode: "native" });
  const timing = await bridge.python(path.join(fixtures, "timing.py"));
  const worker = new Worker(new URL(import.meta.url), { workerData: { fixtures } });
  worker.on("message", async (message) => {
    if (message !== "busy") return;
    const code = await worker.terminate();
    console.log(`worker terminated: ${code}`);
    console.log(`main still works: ${await timing.add(2, 3)}`);
    // The worker's Python thread finishes its call and exits on its own.
    console.log(`after the worker's call: ${await timing.sleep_then_return(0.4, "ok")}`);
  });
} else {
  const bridge = createBridge({ mode: "native" });
  const timing = await bridge.python(path.join(workerData.fixtures, "timing.py"));
  timing.sleep_then_return(0.3).catch(() => {});
  for (let i = 0; i < 100; i++) timing.add(i, 1).catch(() => {});
  parentPort.postMessage("busy");
  await new Promise(() => {}); // wait to be terminated
}
