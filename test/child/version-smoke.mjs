// Child script: the behaviour smoke test for one interpreter (ESEM_PYTHON):
// a function, a class, a method, an error, big ints, text.
// Usage: node version-smoke.mjs <fixtures dir> [mode, default native]
// Prints one JSON line, with the mode the bridge chose and why.
import path from "node:path";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const fixtures = process.argv[2];
const bridge = createBridge({ mode: process.argv[3] ?? "native" });
const calc = await bridge.python(path.join(fixtures, "calculator.py"));
const c = await calc.Calculator(2);
const info = bridge.info();
const out = {
  mode: info.mode,
  reason: info.reason,
  version: info.python.version,
  libpython: info.python.libpython,
  add: await calc.add(2, 3),
  method: await c.add(1.234, 2.345),
  big: String(await calc.add(2n ** 70n, 1)),
  text: await calc.add("😀", "\0"),
};
try {
  await calc.add(1, "x");
} catch (error) {
  out.error = error.name;
}
await bridge.shutdown();
console.log(JSON.stringify(out));
