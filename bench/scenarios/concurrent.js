// 100 000 add() calls fired without awaiting, then Promise.all: calls/s
// (median of 3 rounds, after one warm-up round of 100 000).
import { open } from "../lib/open.js";
import { burst } from "../lib/burst.js";
import { median } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  await burst(mod, 100_000); // steady state: the first burst also warms V8 and the job pool
  const rounds = [];
  for (let r = 0; r < 3; r++) rounds.push(await burst(mod, 100_000));
  return { bridge, value: median(rounds), samples: rounds };
}
