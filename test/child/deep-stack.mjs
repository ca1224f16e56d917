// Child script: recursion through C on the native mode's Python thread.
// Usage: node deep-stack.mjs <fixtures dir> <depth>
// Prints one JSON line: the thread's stack size, and the depths reached
// near the default recursion limit and at <depth> (limit raised for it).
import path from "node:path";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const bridge = createBridge({ mode: "native" });
const deep = await bridge.python(path.join(process.argv[2], "deep_stack.py"));
const sys = await bridge.python("sys");
const out = { stack: await deep.stack_size(), limit: await sys.getrecursionlimit(), nearLimit: await deep.near_limit() };
const depth = Number(process.argv[3]);
await sys.setrecursionlimit(depth + 100);
out.deep = await deep.recurse(depth);
await bridge.shutdown();
console.log(JSON.stringify(out));
