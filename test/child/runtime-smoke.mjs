// Child script for other runtimes (Bun, Deno): a module, a function, a
// class, a method, an error and the mode in use, then it ends without
// shutdown() (an idle bridge must not keep the runtime alive).
// Usage: <runtime> runtime-smoke.mjs <mode> <fixtures dir>
import path from "node:path";
import { createBridge } from "../../dist/index.mjs"; // the ESM entry (`import "esem-bridge"`)

const [mode, fixtures] = process.argv.slice(-2);
const bridge = createBridge({ mode });
const calc = await bridge.python(path.join(fixtures, "calculator.py"));
const c = await calc.Calculator(2);
const out = { add: await calc.add(2, 3), method: await c.add(1.234, 2.345), version: await calc.VERSION };
try {
  await calc.add(1, "x");
} catch (error) {
  out.error = error.name;
}
out.mode = bridge.info().mode;
console.log(JSON.stringify(out));
