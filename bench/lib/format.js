// Number and cell formatting shared by the text table, the markdown and the chart.

export function fmtNumber(x) {
  if (x == null || !Number.isFinite(x)) return "n/a";
  const a = Math.abs(x);
  if (a >= 1e6) return `${+(x / 1e6).toPrecision(3)} M`;
  if (a >= 1e4) return `${+(x / 1e3).toPrecision(3)} k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function fmtTarget(t) {
  const v = Number.isInteger(t.value) && t.value < 1e4 ? String(t.value) : fmtNumber(t.value);
  return `${t.op} ${v}`;
}

/** "native ≤ 5 (SPEC), ≤ 10 (issue); subprocess ≤ 32 (SPEC: 3× v0.1)" */
export function targetText(row) {
  const parts = Object.entries(row.targets).map(
    ([mode, ts]) => `${mode} ${ts.map((t) => `${fmtTarget(t)} (${t.source})`).join(", ")}`,
  );
  return parts.length ? parts.join("; ") : "—";
}

export function meets(t, value) {
  return t.op === "≤" ? value <= t.value : value >= t.value;
}

/** "✓" meets every target of the mode, "~" some, "✗" none, "" when it has none. */
export function status(row, mode, value) {
  const ts = row.targets[mode] ?? [];
  if (!ts.length || value == null) return "";
  const n = ts.filter((t) => meets(t, value)).length;
  return n === ts.length ? "✓" : n ? "~" : "✗";
}

/** How many times better native is than subprocess on this row. */
export function nativeAdvantage(row, native, sub) {
  if (native == null || sub == null || !native || !sub) return null;
  return row.better === "higher" ? native / sub : sub / native;
}

export function fmtRatio(r) {
  return r == null ? "n/a" : `${fmtNumber(r)}×`;
}

/** Per-repetition spread worth flagging: the slowest repetition is ≥ 2× the fastest. */
export function unstable(cell) {
  if (!cell || cell.values.length < 2) return false;
  const lo = Math.min(...cell.values);
  const hi = Math.max(...cell.values);
  return lo > 0 && hi / lo >= 2;
}
