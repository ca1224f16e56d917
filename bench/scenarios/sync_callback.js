// callSync(call_n, fn, 2000) (native mode only): Python calls a JS function
// during a sync call, no thread hop; µs per callback (median of 10 batches).
import { open } from "../lib/open.js";
import { median } from "../lib/stats.js";
import { unavailable } from "../lib/unavailable.js";

export async function run({ mode }) {
  const { api, bridge, mod } = await open(mode);
  if (typeof api.callSync !== "function") throw unavailable("esem-bridge does not export callSync() in this build");
  if (mode !== "native") throw unavailable("callSync() is native mode only");
  const fn = (i) => i;
  const n = 2000;
  api.callSync(mod.call_n, fn, n);
  const us = [];
  for (let r = 0; r < 10; r++) {
    const t0 = performance.now();
    api.callSync(mod.call_n, fn, n);
    us.push(((performance.now() - t0) * 1000) / n);
  }
  return { bridge, value: median(us), samples: us };
}
