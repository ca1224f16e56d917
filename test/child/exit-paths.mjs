// Child script for the exit torture: bridges in the main thread (and in two
// worker_threads) are kept busy with calls in flight, the script prints
// "ready", and on "go" from stdin it ends by the exit path under test. The
// parent sends SIGINT/SIGTERM/SIGKILL itself for the signal paths.
// Usage: node exit-paths.mjs <path> <native|subprocess> <main|workers> <fixtures dir>
// Paths: normal, exit, uncaught, rejection, sigint, sigterm, sigkill (any placement);
// worker-throws, worker-terminate, worker-terminate-blocked (workers only).
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);

/**
 * Keeps two bridges busy: one answers waves of short calls without a pause
 * (results are being encoded and delivered when the process ends), the
 * other has one long call in flight: a sleep, or (holdGil) a C loop that
 * keeps the GIL, so that none of its worker's other threads can run.
 */
async function busy(mode, fixtures, longCall, holdGil) {
  const hot = createBridge({ mode });
  const slow = createBridge({ mode });
  const timing = await hot.python(path.join(fixtures, "timing.py"));
  const slowTiming = await slow.python(path.join(fixtures, "timing.py"));
  const kept = await hot.python("collections"); // a module proxy that is never released
  const state = { stopped: false, timing, kept, settled: null };
  let started;
  const first = new Promise((resolve) => (started = resolve));
  state.settled = (async () => {
    for (let wave = 0; !state.stopped; wave++) {
      const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => timing.add(i, 1)));
      if (sums[49] !== 50) throw new Error(`wrong sum ${sums[49]}`);
      if (wave === 0) started();
    }
  })();
  (holdGil ? slowTiming.hold_gil(3_000_000_000) : slowTiming.sleep_then_return(longCall, "long")).catch(() => {});
  await first;
  return state;
}

if (isMainThread) {
  const [exitPath, mode, placement, fixtures] = process.argv.slice(2);
  // Paths that end the process at once have a long call in flight; those
  // that end normally wait for theirs.
  const abrupt = ["exit", "uncaught", "rejection", "sigint", "sigterm", "sigkill"].includes(exitPath);
  const longCall = abrupt ? 3 : 0.3;
  // Killed with SIGKILL, a subprocess worker holding the GIL cannot notice
  // the socket's end: only its PR_SET_PDEATHSIG ends it.
  const holdGil = exitPath === "sigkill" && mode === "subprocess";
  const main = await busy(mode, fixtures, longCall, holdGil);
  const workers = [];
  if (placement === "workers") {
    for (let i = 0; i < 2; i++) {
      const worker = new Worker(new URL(import.meta.url), { workerData: { mode, fixtures, longCall, holdGil } });
      const ready = new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      workers.push({ worker, ready });
    }
    await Promise.all(workers.map((w) => w.ready));
  }
  const stopAll = () => {
    main.stopped = true;
    for (const { worker } of workers) worker.postMessage("stop");
  };
  process.stdin.once("data", async () => {
    process.stdin.destroy();
    switch (exitPath) {
      case "normal":
        stopAll(); // no shutdown(): the bridges end with the process
        await main.settled;
        console.log("main done");
        break;
      case "exit":
        process.exit(3);
        break;
      case "uncaught":
        throw new Error("uncaught on purpose");
      case "rejection":
        Promise.reject(new Error("unhandled on purpose"));
        break;
      case "worker-throws": {
        const { worker } = workers[0];
        worker.once("error", (error) => {
          console.log(`worker error: ${error.message}`);
          process.exitCode = 6;
          stopAll();
        });
        worker.postMessage("throw");
        break;
      }
      case "worker-terminate": {
        const code = await workers[0].worker.terminate();
        console.log(`terminated: ${code}`);
        console.log(`main still works: ${await main.timing.add(2, 3)}`);
        stopAll();
        await main.settled;
        break;
      }
      case "worker-terminate-blocked": {
        // The worker fires a burst and blocks its thread without returning
        // to its event loop, so calls of the burst still wait in its
        // bridge's outbox (native/bridge.cc, Submit) when it is terminated.
        const { worker } = workers[0];
        const blocked = new Promise((resolve) => worker.once("message", resolve));
        worker.postMessage("block");
        console.log(`worker: ${await blocked}`);
        const code = await worker.terminate();
        console.log(`terminated: ${code}`);
        console.log(`main still works: ${await main.timing.add(2, 3)}`);
        stopAll();
        await main.settled;
        break;
      }
      default:
        console.log(`unknown path ${exitPath}`);
        process.exit(99);
    }
  });
  console.log("ready");
} else {
  const { mode, fixtures, longCall, holdGil } = workerData;
  const state = await busy(mode, fixtures, longCall, holdGil);
  parentPort.on("message", (message) => {
    if (message === "stop") state.stopped = true;
    if (message === "throw") throw new Error("worker throws on purpose");
    if (message === "block") {
      for (let i = 0; i < 2000; i++) state.timing.add(i, 1).catch(() => {});
      parentPort.postMessage("blocked");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until terminated
    }
  });
  parentPort.unref(); // the calls in flight keep this worker alive, not its port
  parentPort.postMessage("busy");
}
