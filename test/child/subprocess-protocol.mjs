// Child script: hostile Python writes malformed frames onto the worker's
// socket. Each must reject the pending calls with ESEM_PROTOCOL, stop that
// worker, and leave the bridge working with a new one (issue 7, defect 6).
// Prints one JSON line per case. Usage: node subprocess-protocol.mjs <fixtures dir>
import path from "node:path";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [fixtures] = process.argv.slice(2);
const bridge = createBridge({ mode: "subprocess" });
const hostile = await bridge.python(path.join(fixtures, "hostile_wire.py"));
const timing = await bridge.python(path.join(fixtures, "timing.py"));

const outcome = (promise) =>
  promise.then(
    (value) => ({ value }),
    (error) => ({ name: error.name, code: error.code, message: error.message }),
  );

for (const name of ["short_frame", "unknown_status", "wrong_seq", "huge_length"]) {
  const before = await hostile.pid();
  // A second call pipelined behind the hostile one is pending too.
  const [call, behind] = await Promise.all([outcome(hostile[name]()), outcome(timing.sleep_then_return(0.05, "late"))]);
  const after = await outcome(hostile.pid());
  console.log(JSON.stringify({ name, call, behind, newWorker: typeof after.value === "number" && after.value !== before }));
}
await bridge.shutdown();
