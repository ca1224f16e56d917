// Child script: which mode "auto" picks in this environment, and why.
// Prints the mode, the reason, and the result of a call.
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const bridge = createBridge();
const math = await bridge.python("math");
const info = bridge.info();
console.log(JSON.stringify({ mode: info.mode, reason: info.reason, sqrt: await math.sqrt(16), version: info.python?.version }));
