// Counter(5) + one method call + release: µs per cycle (median of 10 batches of 1 000).
import { open } from "../lib/open.js";
import { median, timeBatches } from "../lib/stats.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  const cycle = async () => {
    const obj = await mod.Counter(5);
    await obj.add(3);
    await obj.release();
  };
  for (let i = 0; i < 1000; i++) await cycle();
  const batches = await timeBatches(cycle, 10, 1000);
  return { bridge, value: median(batches), samples: batches };
}
