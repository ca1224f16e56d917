// Awaited add(1, 2) in a loop: µs per call (median of 20 batches of 1 000),
// plus a separately timed pass of single calls to show the latency spread.
import { open } from "../lib/open.js";
import { median, quantile, timeBatches } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  const call = () => mod.add(1, 2);
  for (let i = 0; i < 2000; i++) await call();
  const batches = await timeBatches(call, 20, 1000);

  const single = [];
  for (let i = 0; i < 5000; i++) {
    const t0 = performance.now();
    await call();
    single.push((performance.now() - t0) * 1000);
  }
  const q = (p) => quantile(single, p);
  return {
    bridge,
    value: median(batches),
    samples: batches,
    extra: { singleCallUs: { p10: q(0.1), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) } },
  };
}
