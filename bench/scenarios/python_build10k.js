// The limit for the record rows: Python alone building the same 10 000 records,
// timed inside Python with time.perf_counter: ms (median of 15 builds after 3 warm-ups),
// nested records as the value, flat ones ({id, name, score}) in extra.flatMs.
import { DATA_FIXTURE, open } from "../lib/open.js";
import { median } from "../lib/stats.js";

async function builds(mod, shape, n) {
  const ms = [];
  for (let i = 0; i < n; i++) ms.push(await mod.build_ms(10_000, shape));
  return ms;
}

export async function run({ mode }) {
  const { bridge, mod } = await open(mode, DATA_FIXTURE);
  await builds(mod, "nested", 3);
  await builds(mod, "flat", 3);
  const nested = await builds(mod, "nested", 15);
  const flat = await builds(mod, "flat", 15);
  return { bridge, value: median(nested), samples: nested, extra: { flatMs: median(flat), flatSamples: flat } };
}
