// Child script: a native-mode call runs os._exit(<code>). The whole process
// ends there with that code (CPython lives in this process): the line after
// the call must never print.
// Usage: node hard-exit.mjs <code> <fixtures dir>
import path from "node:path";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [code, fixtures] = process.argv.slice(2);
const bridge = createBridge({ mode: "native" });
const h = await bridge.python(path.join(fixtures, "hostile.py"));
console.log(`before ${await h.say("python works")}`);
try {
  await h.hard_exit(Number(code));
} finally {
  console.log("after: still running");
}
