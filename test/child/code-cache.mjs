// Child script: loads the package through its entry (dist/index.js runs
// dist/library.js with V8's code cache: src/code-cache.ts) and makes one
// call, for the code-cache test. Usage: node code-cache.mjs <mode>
const { createBridge } = await import(new URL("../../dist/index.mjs", import.meta.url).href);
const [mode] = process.argv.slice(2);
const bridge = createBridge({ mode });
const { add } = await bridge.python("operator");
console.log(await add(2, 3));
await bridge.shutdown();
