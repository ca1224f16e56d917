// 10 000 `async def` calls fired together, then Promise.all: calls/s
// (median of 3 rounds after a warm-up round); they run on one asyncio loop.
import { open } from "../lib/open.js";
import { median } from "../lib/stats.js";

async function burst(mod, n) {
  const pending = new Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) pending[i] = mod.anap(i);
  await Promise.all(pending);
  return n / ((performance.now() - t0) / 1000);
}

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  await burst(mod, 10_000);
  const rounds = [];
  for (let r = 0; r < 3; r++) rounds.push(await burst(mod, 10_000));
  return { bridge, value: median(rounds), samples: rounds };
}
