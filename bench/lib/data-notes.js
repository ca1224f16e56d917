// Notes on the data rows: the numbers inside a row's processes that the table has no column for.
import { fmtNumber } from "./format.js";
import { MODES } from "./rows.js";
import { median } from "./stats.js";

const MiB = 2 ** 20;

function extrasOf(report, name, mode) {
  return (report.rows.find((r) => r.name === name)?.results[mode]?.reps ?? []).filter((r) => r.ok && r.extra).map((r) => r.extra);
}

/** Markdown bullets: unavailable rows, then per-mode breakdowns of records1m, python_build10k, bytes_len16m, cold2000. */
export function dataNotes(report) {
  const notes = [];
  for (const row of report.rows) {
    for (const m of MODES) {
      const why = row.results[m]?.unavailable;
      if (why && !row.derive) notes.push(`- **${row.name}, ${m}**: unavailable: ${why}.`);
    }
  }
  for (const m of MODES) {
    const med = (xs, k, scale = 1) => fmtNumber(median(xs.map((e) => e[k] / scale)));
    const rec = extrasOf(report, "records1m", m);
    if (rec.length) {
      notes.push(`- **records1m, ${m}** (medians): warm 10 000-record \`count()\` ${med(rec, "cost10kMs")} ms; ` +
        `peak RSS ${med(rec, "peakBytes", MiB)} MiB (Node ${med(rec, "nodePeakBytes", MiB)} MiB` +
        `${m === "subprocess" ? `, worker ${med(rec, "workerPeakBytes", MiB)} MiB` : ""}) from ${med(rec, "baselineBytes", MiB)} MiB ` +
        `before the records were built; the data itself: ${med(rec, "jsBytes", MiB)} MiB of JS heap + ${med(rec, "pyBytes", MiB)} MiB in Python.`);
    }
    const build = extrasOf(report, "python_build10k", m);
    if (build.length) notes.push(`- **python_build10k, ${m}**: the flat build (10 000 \`{id, name, score}\`) took ${med(build, "flatMs")} ms (median).`);
    const len = extrasOf(report, "bytes_len16m", m);
    if (len.length) {
      notes.push(`- **bytes_len16m, ${m}**: one 16 MiB memcpy in the same process took ${med(len, "warmMemcpyMs")} ms into touched memory, ` +
        `${med(len, "memcpyMs")} ms into a fresh allocation (medians).`);
    }
    const cold = extrasOf(report, "cold2000", m);
    if (cold.length) {
      notes.push(`- **cold2000, ${m}**, the first 3 calls of each process (ms): ${cold.map((e) => e.callsMs.map(fmtNumber).join("/")).join("; ")}.`);
    }
  }
  return notes;
}
