// Child script: which form a large argument takes over a process's life,
// seen through a getter, which the JSON lane's check and JSON.stringify
// each run (docs/types.md#the-cold-lane) and the wire format runs once.
// Sends one argument with a getter, then `megabytes` MiB of plain
// arguments, then the getter again. Prints one JSON line:
// { before, after, intact }: the getter's runs per call, and whether every
// argument arrived whole.
// Usage: node json-lane.mjs <megabytes>
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const megabytes = Number(process.argv[2]);
const bridge = createBridge({ mode: "native" });
const builtins = await bridge.python("builtins");
const padding = Array.from({ length: 100 }, (_, i) => i);

async function getterRuns() {
  let runs = 0;
  const arg = [{ get x() {
    runs++;
    return 7;
  } }, ...padding];
  const back = await builtins.list(arg);
  return back[0].x === 7 && back.length === 101 ? runs : -1;
}

const before = await getterRuns();
let intact = true;
const chunk = "y".repeat(2 ** 20);
for (let i = 0; i < megabytes; i++) intact &&= (await builtins.len([chunk, ...padding])) === 101;
const after = await getterRuns();
console.log(JSON.stringify({ before, after, intact }));
await bridge.shutdown();
