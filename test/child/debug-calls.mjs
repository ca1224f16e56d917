// Child script: a few calls, for the ESEM_DEBUG log test.
// Usage: node debug-calls.mjs <mode> <fixtures dir>
import path from "node:path";

const { createBridge, callSync } = await import(new URL("../../dist/index.mjs", import.meta.url).href);
const [mode, fixtures] = process.argv.slice(2);
const bridge = createBridge({ mode });
const calc = await bridge.python(path.join(fixtures, "calculator.py"));
await calc.add(1, 2);
const c = await calc.Calculator(2);
await c.add(1, 2);
await calc.no_such_function().catch(() => {});
if (mode === "native") callSync(calc.add, 1, 2);
await bridge.shutdown();
console.log("done");
