// echo() of 10 000 nested records {id, name, tags: [3 strings]} in one call: ms (median of 15 runs after 3 warm-ups).
import { DATA_FIXTURE, open } from "../lib/open.js";
import { checkNested, nestedRecords } from "../lib/records.js";
import { median, timeRuns } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode, DATA_FIXTURE);
  const rows = nestedRecords(10_000);
  checkNested(rows, await mod.echo(rows));
  for (let i = 0; i < 2; i++) await mod.echo(rows);
  const ms = await timeRuns(() => mod.echo(rows), 15);
  return { bridge, value: median(ms), samples: ms };
}
