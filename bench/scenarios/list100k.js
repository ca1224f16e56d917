// echo() of a 100 000-int list, there and back: ms (median of 10 runs after 2 warm-ups).
import { open } from "../lib/open.js";
import { median, timeRuns } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  const list = Array.from({ length: 100_000 }, (_, i) => i);
  const back = await mod.echo(list);
  if (back.length !== list.length || back[99_999] !== 99_999) throw new Error("echo(list) came back wrong");
  await mod.echo(list);
  const ms = await timeRuns(() => mod.echo(list), 10);
  return { bridge, value: median(ms), samples: ms };
}
