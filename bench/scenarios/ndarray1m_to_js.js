// A 1 000 000-element float64 ndarray (numpy.ones, built once in a module global) returned
// to JS: ms per call (median of 20 calls after 3 warm-ups). Unavailable without numpy.
import { DATA_FIXTURE, open } from "../lib/open.js";
import { median, timeRuns } from "../lib/stats.js";
import { unavailable } from "../lib/unavailable.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode, DATA_FIXTURE);
  if (!(await mod.has_numpy())) throw unavailable("numpy is not installed for this Python");
  const a = await mod.ones1m();
  if (!(a instanceof Float64Array) || a.length !== 1_000_000 || a[999_999] !== 1) {
    throw new Error("ones1m() did not come back as a 1 000 000-element Float64Array of ones");
  }
  for (let i = 0; i < 2; i++) await mod.ones1m();
  const ms = await timeRuns(() => mod.ones1m(), 20);
  return { bridge, value: median(ms), samples: ms };
}
