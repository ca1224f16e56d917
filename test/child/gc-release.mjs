// Child script (run with --expose-gc): proxies that JS drops are released
// in Python by the FinalizationRegistry backstop, without release().
// Prints the number of live Python objects before and after.
// Usage: node --expose-gc gc-release.mjs <fixtures dir>
import path from "node:path";

const { python } = await import(new URL("../../dist/index.js", import.meta.url).href);
const tracked = await python(path.join(process.argv[2], "tracked.py"));

async function makeGarbage() {
  for (let i = 0; i < 2000; i++) await tracked.Tracked(i);
}
await makeGarbage();
console.log(await tracked.live());
for (let round = 0; round < 20 && (await tracked.live()) > 0; round++) {
  global.gc();
  await new Promise((resolve) => setTimeout(resolve, 20)); // finalizers run in a later task
}
console.log(await tracked.live());
