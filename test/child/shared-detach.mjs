// Child script: what transferring an ArrayBuffer does while Python holds it
// through shared(). shared() marks it untransferable, so structuredClone and
// postMessage copy it instead of detaching it; an unmarked one (the control)
// is detached, its memory moving to the new owner, which may free it under
// Python. Prints one JSON line.
// Usage: node shared-detach.mjs <fixtures dir>
import path from "node:path";

const { createBridge, shared } = await import(new URL("../../dist/index.js", import.meta.url).href);
const bridge = createBridge({ mode: "native" });
const py = await bridge.python(path.join(process.argv[2], "shared_buffers.py"));

const out = {};
const ab = new ArrayBuffer(16);
await py.keep(shared(ab));
const clone = structuredClone(ab, { transfer: [ab] });
out.cloneByteLength = ab.byteLength;
new Uint8Array(clone)[0] = 9; // a copy: not seen by Python
new Uint8Array(ab)[1] = 5; // the original: seen by Python
const seen = await py.kept_list();
out.cloneIsCopy = seen[0] === 0;
out.originalStillShared = seen[1] === 5;

const { port1, port2 } = new MessageChannel();
port1.postMessage(ab, [ab]);
out.postMessageByteLength = ab.byteLength;
port1.close();
port2.close();

out.transferMethod = typeof ab.transfer === "function" ? "present" : "absent";
if (out.transferMethod === "present") {
  try {
    ab.transfer();
    out.transferMethodResult = `detached: byteLength ${ab.byteLength}`;
  } catch (e) {
    out.transferMethodResult = `threw ${e.name}`;
  }
}

const control = new ArrayBuffer(16);
structuredClone(control, { transfer: [control] });
out.unmarkedByteLength = control.byteLength;
await py.drop();
console.log(JSON.stringify(out));
await bridge.shutdown();
