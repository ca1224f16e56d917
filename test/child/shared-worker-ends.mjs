// Child script: a worker_thread lends a buffer with shared() and Python
// keeps the view while the worker ends. V8 frees the worker's memory with
// it, so the bridge warns on stderr; Python then drops the view without
// reading it, and the main thread's bridge keeps working.
// Usage: node shared-worker-ends.mjs <fixtures dir>
import path from "node:path";
import { Worker } from "node:worker_threads";

const entry = new URL("../../dist/index.js", import.meta.url).href;
const fixture = path.join(process.argv[2], "shared_buffers.py");
const { createBridge, shared } = await import(entry);
const bridge = createBridge({ mode: "native" });
const py = await bridge.python(fixture);

const worker = `
  const { workerData, parentPort } = require("node:worker_threads");
  import(workerData.entry).then(async ({ createBridge, shared }) => {
    const bridge = createBridge({ mode: "native" });
    const py = await bridge.python(workerData.fixture);
    await py.keep(shared(Buffer.alloc(64 * 1024, 7)));
    parentPort.postMessage("kept");
  });
`;
const w = new Worker(worker, { eval: true, workerData: { entry, fixture } });
await new Promise((resolve, reject) => {
  w.once("message", resolve);
  w.once("error", reject);
});
await w.terminate();
const dropped = await py.drop();
const buf = Buffer.alloc(64 * 1024, 3);
const back = await py.give_back(shared(buf));
console.log(JSON.stringify({ dropped, stillWorks: back.buffer === buf.buffer }));
await bridge.shutdown();
