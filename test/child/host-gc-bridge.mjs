// Child script (run with --expose-gc): native bridges dropped without
// shutdown() are garbage-collected, and their Python objects are released.
// Prints how many of the 100 Python objects they held were finalized, then
// how many of the 5 addon bridge objects were collected.
// Usage: node --expose-gc host-gc-bridge.mjs <fixtures dir>
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const file = path.join(process.argv[2], "host.py");
const keeper = createBridge({ mode: "native" });
const host = await keeper.python(file);

const held = [];
const natives = [];
async function useAndDrop() {
  const bridge = createBridge({ mode: "native" });
  const mod = await bridge.python(file);
  for (let i = 0; i < 20; i++) held.push(await mod.make_holder());
  await mod.fast();
  // The addon's object behind this bridge (an internal field, read only here).
  natives.push(new WeakRef(bridge.session.backend.native));
}
for (let i = 0; i < 5; i++) await useAndDrop();
const before = await host.holders_dropped();
held.length = 0; // the proxies go too: only the bridges' own teardown can free them now
for (let round = 0; round < 30 && (await host.holders_dropped()) - before < 100; round++) {
  global.gc();
  await sleep(20);
}
console.log((await host.holders_dropped()) - before);
// deref() keeps its target alive until the current job ends: gc in a job of its own.
async function someAlive() {
  await sleep(10);
  global.gc();
  await sleep(10);
  return natives.some((w) => w.deref());
}
for (let round = 0; round < 30 && (await someAlive()); round++);
console.log(natives.filter((w) => !w.deref()).length);
await keeper.shutdown();
