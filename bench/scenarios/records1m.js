// 1 000 000 nested records sent one way (count() returns len): ms (median of the timed calls),
// with the warm 10 000-record cost of the same call (linearity = 1M ÷ (100 × 10k)) and the peak
// RSS of the Node process plus, in subprocess mode, the Python worker (/proc VmHWM), against
// the size of the data itself (JS heap growth of building it + Python's getsizeof of the same records).
import { DATA_FIXTURE, open } from "../lib/open.js";
import { procMemory } from "../lib/proc-memory.js";
import { nestedRecords } from "../lib/records.js";
import { median, timeRuns } from "../lib/stats.js";

const CALLS = Number(process.env.ESEM_BENCH_RECORDS1M_CALLS ?? 2);

function heapAfterGc() {
  for (let i = 0; i < 3; i++) global.gc();
  return process.memoryUsage().heapUsed;
}

async function count(mod, rows) {
  const n = await mod.count(rows);
  if (n !== rows.length) throw new Error(`count() returned ${n}, not ${rows.length}`);
}

export async function run({ mode }) {
  if (typeof global.gc !== "function") throw new Error("records1m needs node --expose-gc");
  const { bridge, mod } = await open(mode, DATA_FIXTURE);
  const small = nestedRecords(10_000);
  for (let i = 0; i < 3; i++) await count(mod, small);
  const ms10k = await timeRuns(() => count(mod, small), 10);
  const cost10kMs = median(ms10k);

  // A worker with its own pid is a child whose memory counts too; in native mode Python is this process.
  const worker = await mod.memory_status();
  const ownWorker = worker.pid !== process.pid;
  const heapBefore = heapAfterGc();
  const baseline = procMemory().rss + (ownWorker ? worker.rss : 0);
  const rows = nestedRecords(1_000_000);
  const jsBytes = heapAfterGc() - heapBefore;

  const ms = await timeRuns(() => count(mod, rows), CALLS);
  const workerPeak = ownWorker ? (await mod.memory_status()).hwm : 0;
  const peakBytes = procMemory().hwm + workerPeak;
  const pyBytes = (await mod.deep_size(100_000)) * 10;
  const value = median(ms);
  return {
    bridge,
    value,
    samples: ms,
    extra: {
      cost10kMs,
      linearity: value / (100 * cost10kMs),
      peakBytes,
      peakMiB: peakBytes / 2 ** 20,
      nodePeakBytes: peakBytes - workerPeak,
      workerPeakBytes: workerPeak,
      baselineBytes: baseline,
      jsBytes,
      pyBytes,
      rssRatio: (peakBytes - baseline) / (jsBytes + pyBytes),
    },
    keep: rows,
  };
}
