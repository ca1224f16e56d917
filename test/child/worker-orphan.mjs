// Child script (subprocess mode): prints the worker's pid, then ends in one
// of three ways while a long Python call runs: normally (process.exit), by
// an uncaught exception, or by SIGTERM. The test checks that the worker
// process is gone afterwards.
// Usage: node worker-orphan.mjs <fixtures dir> <exit|throw|sigterm>
import path from "node:path";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [fixtures, how] = process.argv.slice(2);
const bridge = createBridge({ mode: "subprocess" });
const faults = await bridge.python(path.join(fixtures, "faults.py"));
console.log(await faults.pid());
faults.sleep(30).catch(() => {});
setTimeout(() => {
  if (how === "exit") process.exit(0);
  if (how === "throw") throw new Error("boom");
  process.kill(process.pid, "SIGTERM");
}, 200);
