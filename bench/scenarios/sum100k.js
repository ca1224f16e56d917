// sum() of a 100 000-int list sent one way (only the int comes back): ms (median of 10 runs after 2 warm-ups).
import { DATA_FIXTURE, open } from "../lib/open.js";
import { median, timeRuns } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode, DATA_FIXTURE);
  const list = Array.from({ length: 100_000 }, (_, i) => i);
  const expected = (99_999 * 100_000) / 2;
  if ((await mod.sum_list(list)) !== expected) throw new Error("sum_list() returned the wrong sum");
  await mod.sum_list(list);
  const ms = await timeRuns(() => mod.sum_list(list), 10);
  return { bridge, value: median(ms), samples: ms };
}
