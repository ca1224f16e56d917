// The results table as cells, rendered as aligned plain text or as markdown.
import { fmtNumber, fmtRatio, nativeAdvantage, status, targetText, unstable } from "./format.js";

const HEAD = ["row", "unit", "native median", "native p90", "subprocess median", "subprocess p90", "native ×", "target"];

function valueCells(row, mode, cell) {
  if (cell?.unavailable) return ["unavailable", "—"];
  if (!cell || cell.median == null) return ["n/a", "n/a"];
  const mark = status(row, mode, cell.median);
  const flag = unstable(cell) ? " !" : "";
  return [`${fmtNumber(cell.median)}${mark ? ` ${mark}` : ""}`, `${fmtNumber(cell.p90)}${flag}`];
}

export function tableCells(report) {
  return report.rows.map((row) => {
    const n = row.results.native;
    const s = row.results.subprocess;
    return [
      row.name,
      row.unit,
      ...valueCells(row, "native", n),
      ...valueCells(row, "subprocess", s),
      fmtRatio(nativeAdvantage(row, n?.median, s?.median)),
      targetText(row),
    ];
  });
}

const LEGEND =
  "✓ meets every target of its mode, ~ some, ✗ none (judged on the median); " +
  "! the slowest repetition took ≥ 2× the fastest; native × = how many times better native is than subprocess.";

export function textTable(report) {
  const rows = [HEAD, ...tableCells(report)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const line = (r) =>
    r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(rows[0]), rule, ...rows.slice(1).map(line), "", LEGEND].join("\n");
}

export function markdownTable(report) {
  const esc = (c) => c.replace(/\|/g, "\\|");
  const rows = tableCells(report);
  return [
    `| ${HEAD.join(" | ")} |`,
    `|${HEAD.map((_, i) => (i >= 2 && i <= 6 ? " ---: " : " --- ")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
    "",
    LEGEND,
  ].join("\n");
}
