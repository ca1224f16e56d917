// Child script: the main thread and a worker_thread both use the native
// bridge. They share one interpreter (SPEC §1), so module state set by one
// is seen by the other, and the process still exits by itself.
// Usage: node worker-threads.mjs <fixtures dir>
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);

if (isMainThread) {
  const fixtures = process.argv[2];
  const bridge = createBridge({ mode: "native" });
  const state = await bridge.python(path.join(fixtures, "state.py"));
  await state.set_value("from main");
  const worker = new Worker(new URL(import.meta.url), { workerData: { fixtures } });
  worker.on("message", (message) => console.log(message));
  worker.on("error", (error) => {
    console.log(`worker error: ${error}`);
    process.exitCode = 1;
  });
  worker.on("exit", async () => {
    console.log(await state.get_value());
  });
} else {
  const bridge = createBridge({ mode: "native" });
  const state = await bridge.python(path.join(workerData.fixtures, "state.py"));
  parentPort.postMessage(`worker saw: ${await state.get_value()}`);
  await state.set_value("from worker");
  const math = await bridge.python("math");
  parentPort.postMessage(`worker sqrt: ${await math.sqrt(81)}`);
}
