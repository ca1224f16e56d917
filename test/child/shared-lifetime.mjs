// Child script (run with --expose-gc): a buffer passed with shared() stays
// alive while Python holds a view of it (or only a numpy array made from
// it), after JS dropped its own references and collected many times; once
// Python lets go, JS collects it (a FinalizationRegistry on its ArrayBuffer
// fires). Prints one JSON line per case.
// Usage: node --expose-gc shared-lifetime.mjs <fixtures dir> <numpy|memoryview>
import path from "node:path";

const { createBridge, shared } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [fixtures, kind] = process.argv.slice(2);
const bridge = createBridge({ mode: "native" });
const py = await bridge.python(path.join(fixtures, "shared_buffers.py"));

const N = 1 << 20; // 8 MiB of float64
let collected = false;
const registry = new FinalizationRegistry(() => (collected = true));

// In its own function, so no JS reference outlives it.
async function lend() {
  const a = new Float64Array(N);
  for (let i = 0; i < N; i++) a[i] = i % 7;
  registry.register(a.buffer, "lent");
  if (kind === "numpy") await py.numpy_only_keep(shared(a), "float64");
  else await py.keep(shared(a));
}

async function collect(rounds) {
  for (let r = 0; r < rounds; r++) {
    new Array(1e5).fill(0).map((x, i) => ({ i })); // garbage, to make the collector work
    global.gc();
    await new Promise((resolve) => setTimeout(resolve, 10)); // finalizers run in a later task
  }
}

let expected = 0;
for (let i = 0; i < N; i++) expected += i % 7;
await lend();
await collect(30);
const collectedWhileHeld = collected;
let intact;
if (kind === "numpy") {
  intact = (await py.numpy_kept_sum()) === expected;
} else {
  const items = await py.kept_list();
  intact = items.length === N && items.reduce((a, b) => a + b, 0) === expected;
}
await py.drop();
for (let r = 0; r < 50 && !collected; r++) {
  await py.size(shared(new Uint8Array(1))); // a settled call drains the refs handed back
  await collect(1);
}
console.log(JSON.stringify({ kind, collectedWhileHeld, intact, collectedAfterDrop: collected }));
await bridge.shutdown();
