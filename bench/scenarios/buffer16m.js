// echo() of a 16 MiB Buffer, there and back (copied both ways): ms (median of 8 runs after 2 warm-ups).
import { open } from "../lib/open.js";
import { median, timeRuns } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  const buf = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < buf.length; i += 4096) buf[i] = i & 0xff;
  const back = await mod.echo(buf);
  if (back.length !== buf.length || back[4096] !== buf[4096]) throw new Error("echo(buffer) came back wrong");
  await mod.echo(buf);
  const ms = await timeRuns(() => mod.echo(buf), 8);
  return { bridge, value: median(ms), samples: ms };
}
