// Child script: a bridge on a venv's interpreter imports a package that
// only that venv has, and reports sys.prefix and the interpreter in use.
// Usage: node venv-import.mjs <venv python>
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const bridge = createBridge({ mode: "native", python: process.argv[2] });
const pkg = await bridge.python("only_in_venv");
console.log(await pkg.hello("venv"));
console.log(await (await bridge.python("sys")).prefix);
console.log(bridge.info().python.executable);
await bridge.shutdown();
