// Derived rows: values computed from other rows' repetitions, no process of their own.
// `derive: { num: [row, extraKey?], den?: [row, extraKey?], scale? }`: per repetition i,
// value = scale × num ÷ den, where each side is that row's value (or its extra[extraKey])
// in repetition i of the same mode. Repetitions pair up because the runner interleaves them.

const pick = (rep, key) => (!rep?.ok ? null : key ? rep.extra?.[key] : rep.value);

/** The source row names a derived row reads. */
export function sources(row) {
  return [row.derive.num[0], ...(row.derive.den ? [row.derive.den[0]] : [])];
}

/** Repetition records for a derived row in one mode, from the runs of its sources. */
export function deriveRuns(row, runsOf) {
  const { num, den, scale = 1 } = row.derive;
  const a = runsOf(num[0]);
  const b = den ? runsOf(den[0]) : null;
  return a.map((ra, i) => {
    const rb = b?.[i];
    if (!ra.ok) return ra; // the source's failure or unavailability, passed on
    if (b && !rb?.ok) return rb ?? { ok: false, code: "BENCH_DERIVED", message: `no repetition ${i + 1} of ${den[0]}` };
    const x = pick(ra, num[1]);
    const y = b ? pick(rb, den[1]) : 1;
    if (!Number.isFinite(x) || !Number.isFinite(y) || y === 0) {
      return { ok: false, code: "BENCH_DERIVED", message: `${row.name}: no value from ${sources(row).join(" / ")}` };
    }
    return { ok: true, value: (scale * x) / y, samples: null, extra: null };
  });
}

/** The rows to run for `--only names`: those named, the sources of named derived rows,
 * and every derived row whose sources all run. */
export function selectRows(all, only) {
  if (!only) return all;
  const names = new Set(only);
  for (const r of all) if (r.derive && names.has(r.name)) sources(r).forEach((s) => names.add(s));
  for (const r of all) if (r.derive && sources(r).every((s) => names.has(s))) names.add(r.name);
  return all.filter((r) => names.has(r.name));
}
