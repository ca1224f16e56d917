// len() of a 16 MiB Buffer sent the default way (copied into Python): ms (median of 20 calls
// after 2 warm-ups), against one memcpy of the same 16 MiB into fresh memory in this process
// (extra.memcpyMs; extra.warmMemcpyMs copies into memory already touched).
import { DATA_FIXTURE, open } from "../lib/open.js";
import { median, timeRuns } from "../lib/stats.js";

const SIZE = 16 * 1024 * 1024;

export async function run({ mode }) {
  const { bridge, mod } = await open(mode, DATA_FIXTURE);
  const buf = Buffer.alloc(SIZE, 7);
  if ((await mod.bytes_len(buf)) !== SIZE) throw new Error("bytes_len() returned the wrong length");
  await mod.bytes_len(buf);
  const ms = await timeRuns(() => mod.bytes_len(buf), 20);

  const fresh = await timeRuns(() => Buffer.allocUnsafeSlow(SIZE).set(buf), 20);
  const dst = Buffer.allocUnsafeSlow(SIZE);
  const warm = await timeRuns(() => dst.set(buf), 20);
  return { bridge, value: median(ms), samples: ms, extra: { memcpyMs: median(fresh), warmMemcpyMs: median(warm) } };
}
