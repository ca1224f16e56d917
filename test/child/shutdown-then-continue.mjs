// Child script: `await bridge.shutdown()` at the end of an otherwise idle
// script resolves, and the code after it runs (nothing else keeps Node up).
// Usage: node shutdown-then-continue.mjs <native|subprocess>
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const bridge = createBridge({ mode: process.argv[2] });
const math = await bridge.python("math");
console.log(await math.sqrt(9));
await bridge.shutdown();
console.log("after shutdown");
