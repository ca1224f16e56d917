// npm run demo: loads examples/calculator.py and calls into it.
// Works from any folder: the Python file is found next to this one.
import { fileURLToPath } from "node:url";
import { createBridge, kw, release, PythonError } from "esem-bridge";

const file = fileURLToPath(new URL("./calculator.py", import.meta.url));

// A bridge of our own, so that we can ask it about itself (bridge.info()).
// The top-level python() does the same on a default bridge.
const bridge = createBridge();
const { add, scale, divide, Calculator, VERSION } = await bridge.python(file);

console.log("add(2, 3) =", await add(2, 3));

const calc = await Calculator(2); // or: await new Calculator(2)
console.log("calc.add(1.234, 2.345) =", await calc.add(1.234, 2.345));
console.log("calc.precision =", await calc.precision); // awaiting an attribute reads it

console.log("VERSION =", await VERSION); // a constant is read when awaited

// Keyword arguments: kw({...}) as the last argument.
console.log("scale(2, factor=3, offset=1) =", await scale(2, kw({ factor: 3, offset: 1 })));
console.log("calc.describe(prefix='demo') =", await calc.describe(kw({ prefix: "demo" })));

// A Python exception rejects the call with a PythonError.
try {
  await divide(1, 0);
} catch (error) {
  if (!(error instanceof PythonError)) throw error;
  console.log(`divide(1, 0) raised ${error.pythonType}: ${error.message}`);
}

// Release the Python object; using it afterwards rejects with ESEM_RELEASED.
await release(calc); // same as: await calc.release()
try {
  await calc.add(1, 1);
} catch (error) {
  console.log("after release:", error.code);
}

const info = bridge.info();
console.log(`mode: ${info.mode}, Python ${info.python.version} (${info.python.executable}, chosen by ${info.python.source})`);
console.log(`libpython: ${info.python.libpython}`);

// No shutdown() needed: an idle bridge does not keep Node running.
