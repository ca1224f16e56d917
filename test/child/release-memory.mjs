// Child script (run with --expose-gc): RSS of the process (and its worker)
// while 100 000 objects are held, and after they were released explicitly
// in batches of 1 000 (Promise.all of release()). Releases of one task go
// to Python in one job: a job per object left ~75 MB of freed jobs behind.
// Usage: node --expose-gc release-memory.mjs <mode> <fixtures dir>
import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const { createBridge } = await import(new URL("../../dist/index.mjs", import.meta.url).href);
const [mode, fixtures] = process.argv.slice(2);
const bridge = createBridge({ mode });
const lt = await bridge.python(path.join(fixtures, "tracked.py"));
const workerPid = mode === "subprocess" ? await (await bridge.python("os")).getpid() : null;
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
const rss = () => rssOf(process.pid) + (workerPid ? rssOf(workerPid) : 0);
async function settle() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await sleep(20);
  }
  await lt.live(); // the releases have run
}

await settle();
const base = rss();
let held = [];
for (let i = 0; i < 100_000; i += 1000) {
  const batch = [];
  for (let j = i; j < i + 1000; j++) batch.push(lt.Tracked(j));
  held.push(...(await Promise.all(batch)));
}
await settle();
const heldRss = rss() - base;
for (let i = 0; i < held.length; i += 1000) await Promise.all(held.slice(i, i + 1000).map((o) => o.release()));
held = null;
await settle();
const releasedRss = rss() - base;
console.log(JSON.stringify({ heldMB: heldRss / 2 ** 20, releasedMB: releasedRss / 2 ** 20, live: await lt.live() }));
await bridge.shutdown();
