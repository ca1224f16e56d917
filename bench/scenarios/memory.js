// JS heap bytes per live object proxy: 100 000 Counter proxies kept alive,
// heapUsed measured after a full GC before and after (child runs with --expose-gc).
import { open } from "../lib/open.js";

const N = 100_000;

function settle() {
  for (let i = 0; i < 3; i++) global.gc();
  return process.memoryUsage();
}

export async function run({ mode }) {
  if (typeof global.gc !== "function") throw new Error("memory scenario needs node --expose-gc");
  const { bridge, mod } = await open(mode);
  const warm = await mod.Counter(0); // type description cached before the baseline
  await warm.add(1);
  const keep = new Array(N);
  const before = settle();
  for (let i = 0; i < N; i++) keep[i] = await mod.Counter(i);
  const after = settle();
  if (keep.length !== N) throw new Error("unreachable");
  return {
    bridge,
    value: (after.heapUsed - before.heapUsed) / N,
    extra: {
      objects: N,
      heapUsedBefore: before.heapUsed,
      heapUsedAfter: after.heapUsed,
      // Whole-process growth: includes the Python objects and the addon's registry.
      rssBytesPerObject: (after.rss - before.rss) / N,
      externalBytesPerObject: (after.external - before.external) / N,
    },
    keep, // held until the result is written
  };
}
