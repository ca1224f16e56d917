// callSync(add, 1, 2) in a loop (native mode only): µs per call (median of
// 20 batches of 10 000, after 10 000 warm-up calls).
import { open } from "../lib/open.js";
import { median } from "../lib/stats.js";
import { unavailable } from "../lib/unavailable.js";

export async function run({ mode }) {
  const { api, bridge, mod } = await open(mode);
  if (typeof api.callSync !== "function") throw unavailable("esem-bridge does not export callSync() in this build");
  if (mode !== "native") throw unavailable("callSync() is native mode only");
  const add = mod.add;
  for (let i = 0; i < 10_000; i++) api.callSync(add, 1, 2);
  const us = [];
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) api.callSync(add, 1, 2);
    us.push(((performance.now() - t0) * 1000) / 10_000);
  }
  return { bridge, value: median(us), samples: us };
}
