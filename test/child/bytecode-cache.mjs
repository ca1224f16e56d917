// Child script: which loader the esem_bridge package got in a fresh
// process (the bytecode cache's, or Python's own), for the bytecode-cache test.
// Usage: node bytecode-cache.mjs <mode>
const { createBridge } = await import(new URL("../../dist/index.mjs", import.meta.url).href);
const [mode] = process.argv.slice(2);
const bridge = createBridge({ mode });
await bridge.python("builtins");
const loader = await bridge.eval("type(__import__('esem_bridge.ops').ops.__loader__).__name__");
await bridge.shutdown();
console.log(loader);
