// echo() of a 16 MiB Buffer passed through shared(): Python returns the object it was
// given, so no copy is needed either way: ms (median of 20 calls after 3 warm-ups).
// Unavailable when the package does not export shared().
import { DATA_FIXTURE, open } from "../lib/open.js";
import { median, timeRuns } from "../lib/stats.js";
import { sharedOf } from "../lib/unavailable.js";

const SIZE = 16 * 1024 * 1024;

export async function run({ mode }) {
  const { api, bridge, mod } = await open(mode, DATA_FIXTURE);
  const shared = sharedOf(api);
  const buf = Buffer.alloc(SIZE, 5);
  const back = await mod.echo(shared(buf));
  if (back?.byteLength !== SIZE) throw new Error("echo(shared(buf)) came back with the wrong size");
  for (let i = 0; i < 2; i++) await mod.echo(shared(buf));
  const ms = await timeRuns(() => mod.echo(shared(buf)), 20);
  return { bridge, value: median(ms), samples: ms };
}
