// Child script: records echoed through a bridge where the decoder may not be
// able to generate code (run it with --disallow-code-generation-from-strings).
// Prints one JSON line: { codegen, same, keys }.
// Usage: node [--disallow-code-generation-from-strings] record-shapes.mjs <native|subprocess>
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [mode] = process.argv.slice(2);
let codegen = true;
try {
  new Function("return 1");
} catch {
  codegen = false;
}
const bridge = createBridge({ mode });
const builtins = await bridge.python("builtins");
const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `r${i}`, "quote\"d": [i], 7: "seven" }));
const back = await builtins.list(rows);
const same = JSON.stringify(back) === JSON.stringify(rows);
console.log(JSON.stringify({ codegen, same, keys: Object.keys(back[49]) }));
await bridge.shutdown();
