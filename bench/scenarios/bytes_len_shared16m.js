// len() of a Buffer passed through shared() (no copy): µs per call (median of 10 batches of
// 200 after 200 warm-up calls) at 16 MiB, and extra.us1m / extra.us64m at 1 MiB and 64 MiB:
// flat in size is the goal. Unavailable when the package does not export shared().
import { DATA_FIXTURE, open } from "../lib/open.js";
import { median, timeBatches } from "../lib/stats.js";
import { sharedOf } from "../lib/unavailable.js";

const MiB = 1024 * 1024;

async function perCallUs(mod, shared, size) {
  const buf = Buffer.alloc(size, 3);
  const call = () => mod.bytes_len(shared(buf));
  if ((await call()) !== size) throw new Error(`bytes_len(shared(buf)) is not ${size}`);
  for (let i = 0; i < 200; i++) await call();
  return timeBatches(call, 10, 200);
}

export async function run({ mode }) {
  const { api, bridge, mod } = await open(mode, DATA_FIXTURE);
  const shared = sharedOf(api);
  const us1m = await perCallUs(mod, shared, 1 * MiB);
  const us16m = await perCallUs(mod, shared, 16 * MiB);
  const us64m = await perCallUs(mod, shared, 64 * MiB);
  return { bridge, value: median(us16m), samples: us16m, extra: { us1m: median(us1m), us64m: median(us64m) } };
}
