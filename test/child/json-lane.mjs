// Child script: which form large values take over a process's life
// (docs/types.md#the-cold-lane). Arguments are seen through a getter, which
// the lane runs twice (its check, then JSON.stringify) and the wire format
// once; results through JSON.parse, which the lane's results go through
// and the wire format's do not. Sends a small argument and gets a small
// list back, then one of:
//   <megabytes>  that many MiB of plain arguments, 1 MiB a call;
//   argument     one argument of 40 000 values;
//   result       one result of a 100 000-int list;
// then the small ones again. Prints one JSON line:
// { before, after, parsedBefore, parsedAfter, intact }.
// Usage: node json-lane.mjs <megabytes|argument|result> [native|subprocess]
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const large = process.argv[2];
const bridge = createBridge({ mode: process.argv[3] ?? "native" });
const builtins = await bridge.python("builtins");
const padding = Array.from({ length: 100 }, (_, i) => i);

const parse = JSON.parse;
let parsed = 0;
JSON.parse = (text, reviver) => {
  parsed++;
  return parse(text, reviver);
};

async function small() {
  let runs = 0;
  const arg = [{ get x() {
    runs++;
    return 7;
  } }, ...padding];
  const before = parsed;
  const back = await builtins.list(arg);
  const ok = back[0].x === 7 && back.length === 101;
  return ok ? [runs, parsed - before] : [-1, -1];
}

const [before, parsedBefore] = await small();
let intact = true;
if (large === "argument") {
  intact = (await builtins.len(Array.from({ length: 40_000 }, (_, i) => `s${i}`))) === 40_000;
} else if (large === "result") {
  const back = await builtins.list(await builtins.range(100_000));
  intact = back.length === 100_000 && back[99_999] === 99_999;
} else {
  const chunk = "y".repeat(2 ** 20);
  for (let i = 0; i < Number(large); i++) intact &&= (await builtins.len([chunk, ...padding])) === 101;
}
const [after, parsedAfter] = await small();
console.log(JSON.stringify({ before, after, parsedBefore, parsedAfter, intact }));
await bridge.shutdown();
