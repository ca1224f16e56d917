// 20 000 add() calls fired without awaiting, then Promise.all: calls/s (median of 5 rounds,
// after one warm-up round of 20 000). Issue 9's burst; the concurrent row is SPEC's 100 000.
import { open } from "../lib/open.js";
import { burst } from "../lib/burst.js";
import { median } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  await burst(mod, 20_000); // the first burst also warms V8 and the job pool
  const rounds = [];
  for (let r = 0; r < 5; r++) rounds.push(await burst(mod, 20_000));
  return { bridge, value: median(rounds), samples: rounds };
}
