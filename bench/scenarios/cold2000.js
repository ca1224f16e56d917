// Cold calls: in a fresh process, the bridge started, then the first 3 echo() calls of
// 2 000 nested records, each timed, no warm-up: ms of the first (extra.mean3Ms: mean of the 3).
import { DATA_FIXTURE, open } from "../lib/open.js";
import { checkNested, nestedRecords } from "../lib/records.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode, DATA_FIXTURE);
  const rows = nestedRecords(2_000);
  const ms = [];
  let back;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    back = await mod.echo(rows);
    ms.push(performance.now() - t0);
  }
  checkNested(rows, back);
  // No samples: the 3 calls are meant to differ (cold, then warming), so they are not a spread.
  return { bridge, value: ms[0], extra: { mean3Ms: (ms[0] + ms[1] + ms[2]) / 3, callsMs: ms } };
}
