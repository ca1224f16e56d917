// Child script: worker_threads send large arguments (records in a lent
// wire buffer, and a 48 MiB Buffer beside the message) and end while
// Python reads them. V8 frees a worker's memory with it, so its bridge's
// teardown waits until Python has finished reading.
// Usage: node worker-ends-mid-read.mjs <fixtures dir> <how> <rounds>
//   terminate, throw, worker-exit: each round a worker ends a few ms after
//     sending: terminated by the main thread, by an uncaught error of its
//     own, or by its own process.exit(); then the main thread's bridge
//     must still work.
//   exit: the main thread sends large arguments too, and calls
//     process.exit(0) while two workers and itself are being read.
import path from "node:path";
import { Worker } from "node:worker_threads";

const entry = new URL("../../dist/index.js", import.meta.url).href;
const fixture = path.join(process.argv[2], "timing.py");
const how = process.argv[3];
const rounds = Number(process.argv[4] ?? 3);
const { createBridge } = await import(entry);
const bridge = createBridge({ mode: "native" });
const py = await bridge.python(fixture);

const sender = `
  const { workerData, parentPort } = require("node:worker_threads");
  import(workerData.entry).then(async ({ createBridge }) => {
    const bridge = createBridge({ mode: "native" });
    const py = await bridge.python(workerData.fixture);
    const records = Array.from({ length: 200000 }, (_, i) => ({ id: i, name: "n" + i, tags: ["a", "b", "c"] }));
    const bytes = Buffer.alloc(48 * 1024 * 1024, 7);
    await py.count(records.slice(0, 10));  // the worker's bridge is up
    for (let i = 0; i < 4; i++) {
      py.count(records).catch(() => {});
      py.count(bytes).catch(() => {});
    }
    parentPort.postMessage("sent");
    const after = 2 + workerData.round * 3;  // Python is reading one of the arguments
    if (workerData.how === "throw") setTimeout(() => { throw new Error("the worker ends on purpose"); }, after);
    if (workerData.how === "worker-exit") setTimeout(() => process.exit(0), after);
    await new Promise(() => {});  // wait for the end
  });
`;

function startSender(round = 0) {
  const w = new Worker(sender, { eval: true, workerData: { entry, fixture, how, round: round % 4 } });
  const sent = new Promise((resolve, reject) => {
    w.once("message", resolve);
    // The "throw" path's own error may be delivered before its "sent"
    // message on a busy machine (it failed CI once so): that worker also
    // ended while Python read its arguments.
    w.once("error", how === "throw" ? resolve : reject);
  });
  return { w, sent };
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (how !== "exit") {
  let ended = 0;
  for (let i = 0; i < rounds; i++) {
    const { w, sent } = startSender(i);
    const gone = new Promise((resolve) => w.once("exit", resolve));
    w.on("error", () => {});  // the "throw" path's own error
    await sent;
    if (how === "terminate") {
      await pause(2 + (i % 4) * 3);  // Python is reading one of the arguments
      await w.terminate();
    }
    await gone;
    ended++;
  }
  console.log(`workers ended: ${ended}`);
  console.log(`main still works: ${await py.count([1, 2, 3])}`);
  await bridge.shutdown();
} else {
  const senders = [startSender(), startSender()];
  await Promise.all(senders.map((s) => s.sent));
  const bytes = Buffer.alloc(48 * 1024 * 1024, 1);
  py.count(bytes).catch(() => {});
  py.count(Array.from({ length: 200000 }, (_, i) => ({ id: i, tags: ["x"] }))).catch(() => {});
  await pause(5);
  console.log("exiting");
  process.exit(0);
}
