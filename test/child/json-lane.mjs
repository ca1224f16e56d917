// Child script: which form large values take over a process's life
// (docs/types.md#the-cold-lane). Arguments are seen through
// JSON.stringify, results through JSON.parse: the lane's values go through
// them and the wire format's do not. A getter in an argument runs once
// either way (the lane leaves objects with getters to the wire format).
// Sends a small argument and gets a small list back, then one of:
//   <megabytes>  that many MiB of plain arguments, 1 MiB a call;
//   argument     one argument of 40 000 values;
//   records      one argument of 10 000 records (50 000 values), a getter in
//                record 3 000 (intact only if it ran once: the check
//                refuses them at the first record, without reading it);
//   result       one result of a 100 000-string list;
// then the small ones again. Prints one JSON line:
// { before, after, parsedBefore, parsedAfter, intact, getterRuns }.
// Usage: node json-lane.mjs <megabytes|argument|records|result> [native|subprocess]
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const large = process.argv[2];
const bridge = createBridge({ mode: process.argv[3] ?? "native" });
const builtins = await bridge.python("builtins");
const padding = Array.from({ length: 100 }, (_, i) => i);

const parse = JSON.parse;
const stringify = JSON.stringify;
let parsed = 0;
let stringified = 0;
JSON.parse = (text, reviver) => {
  parsed++;
  return parse(text, reviver);
};
JSON.stringify = (value, replacer, space) => {
  stringified++;
  return stringify(value, replacer, space);
};

async function small() {
  const arg = [{ x: 7 }, ...padding];
  const [sentBefore, before] = [stringified, parsed];
  const back = await builtins.list(arg);
  const ok = back[0].x === 7 && back.length === 101;
  return ok ? [stringified - sentBefore, parsed - before] : [-1, -1];
}

// A large plain argument with one getter in it: the getter runs once.
let getterRuns = 0;
const withGetter = [{ get x() {
  getterRuns++;
  return 1;
} }, ...padding];
const echoed = await builtins.list(withGetter);
if (echoed[0].x !== 1) getterRuns = -1;

const [before, parsedBefore] = await small();
let intact = true;
if (large === "argument") {
  intact = (await builtins.len(Array.from({ length: 40_000 }, (_, i) => `s${i}`))) === 40_000;
} else if (large === "records") {
  let runs = 0;
  const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i, name: `r${i}`, tags: ["a", "b", "c"] }));
  Object.defineProperty(rows[3000], "name", { enumerable: true, get: () => (runs++, "r3000") });
  intact = (await builtins.len(rows)) === 10_000 && runs === 1;
} else if (large === "result") {
  const back = await builtins.list(await builtins.map(builtins.str, await builtins.range(100_000)));
  intact = back.length === 100_000 && back[99_999] === "99999";
} else {
  const chunk = "y".repeat(2 ** 20);
  for (let i = 0; i < Number(large); i++) intact &&= (await builtins.len([chunk, ...padding])) === 101;
}
const [after, parsedAfter] = await small();
console.log(stringify({ before, after, parsedBefore, parsedAfter, intact, getterRuns }));
await bridge.shutdown();
