// Child script: the main thread and three worker_threads call Python in
// tight loops (results that go through the wire format, objects made) when
// the process ends by the path in argv[2]: "exit" (process.exit(3) from the
// main thread), "throw" (an uncaught error), "end", "worker-throws".
// Usage: node host-exit-busy.mjs <path> <fixtures dir>
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const how = isMainThread ? process.argv[2] : workerData.how;
const fixtures = isMainThread ? process.argv[3] : workerData.fixtures;
const bridge = createBridge({ mode: "native" });
const json = await bridge.python("json");
const host = await bridge.python(path.join(fixtures, "host.py"));
let go = true;
(async () => { while (go) { await json.loads('{"a": [1, 2, {"b": "xyz"}], "c": "' + "x".repeat(100) + '"}'); } })().catch(() => {});
(async () => { while (go) { await host.make_holder(); } })().catch(() => {});
if (isMainThread) {
  let ready = 0;
  for (let i = 0; i < 3; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { fixtures, how } });
    w.on("error", () => {});
    w.on("message", () => { if (++ready === 3) setTimeout(() => { if (how === "exit") process.exit(3); if (how === "throw") throw new Error("uncaught on purpose"); go = false; }, 20); });
  }
} else {
  parentPort.postMessage("ready");
  if (how === "end") setTimeout(() => { go = false; }, 40);
  if (how === "worker-throws") setTimeout(() => { throw new Error("worker throws"); }, 10);
}
