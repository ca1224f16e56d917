// Child script: the page faults of rebuilding 10 000 records in Python
// (memory_reuse.rebuild_faults), printed as JSON. ESEM_ARENA_CACHE_MB in
// this process's environment sets the arena cache (0: off).
// Usage: node arena-faults.mjs <mode> <fixtures dir>
import path from "node:path";

const { createBridge } = await import(new URL("../../dist/index.mjs", import.meta.url).href);
const [mode, fixtures] = process.argv.slice(2);
const bridge = createBridge({ mode });
const m = await bridge.python(path.join(fixtures, "memory_reuse.py"));
console.log(JSON.stringify({ faults: await m.rebuild_faults(10_000) }));
await bridge.shutdown();
