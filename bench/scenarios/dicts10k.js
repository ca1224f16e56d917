// echo() of 10 000 small dicts {id, name, score} in one call: ms (median of 15 runs after 3 warm-ups).
import { open } from "../lib/open.js";
import { median, timeRuns } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i, name: `row-${i}`, score: i / 7 }));
  const back = await mod.echo(rows);
  if (back.length !== rows.length || back[42].name !== "row-42") throw new Error("echo(dicts) came back wrong");
  for (let i = 0; i < 2; i++) await mod.echo(rows);
  const ms = await timeRuns(() => mod.echo(rows), 15);
  return { bridge, value: median(ms), samples: ms };
}
