// Child script: whether a 16 MiB Buffer argument lands in a block of the
// large-block cache, and the page faults of remaking a 16 MiB bytes in
// Python (memory_reuse.block_faults) and an 80 MiB one (larger than the
// cache's default budget), printed as JSON. ESEM_BLOCK_CACHE_MB
// in this process's environment sets the cache (0: off).
// Usage: node large-blocks.mjs <mode> <fixtures dir>
import path from "node:path";

const { createBridge } = await import(new URL("../../dist/index.mjs", import.meta.url).href);
const [mode, fixtures] = process.argv.slice(2);
const bridge = createBridge({ mode });
const m = await bridge.python(path.join(fixtures, "memory_reuse.py"));
const boundary = await m.on_block_boundary(Buffer.alloc(16 << 20, 3));
console.log(JSON.stringify({ boundary, faults: await m.block_faults(16 << 20), largerFaults: await m.block_faults(80 << 20) }));
await bridge.shutdown();
