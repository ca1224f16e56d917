// Python calling a JS function: `call_n(fn, 2000)` loops fn(i) in Python; µs
// per round trip (median of 10 batches, after one warm-up batch).
import { open } from "../lib/open.js";
import { median } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  const fn = (i) => i;
  const n = 2000;
  await mod.call_n(fn, n);
  const us = [];
  for (let r = 0; r < 10; r++) {
    const t0 = performance.now();
    await mod.call_n(fn, n);
    us.push(((performance.now() - t0) * 1000) / n);
  }
  return { bridge, value: median(us), samples: us };
}
