// docs/benchmarks.svg: one group of bars per row, one bar per mode, drawn from the
// target line on a log scale. Bar = median cost relative to the mode's first target
// (value ÷ target; target ÷ value for rates), so left of the line beats the target.
// A whisker reaches the p90; a small tick marks a second (issue) target.
import { environmentLine } from "./env.js";
import { fmtNumber, fmtTarget } from "./format.js";
import { MODES } from "./rows.js";

const COLORS = { native: "#3b6fd6", subprocess: "#e08a2c" };
const W = 860;
const LABEL_W = 150;
const PLOT_X0 = 160;
const PLOT_X1 = 560;
const TEXT_X = 575;
const BAR_H = 14;
const GROUP_H = 16 * MODES.length + 18;
const TOP = 78;

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const text = (x, y, s, attrs = "") => `<text x="${x}" y="${y}" ${attrs}>${esc(s)}</text>`;

/** Cost relative to a target: < 1 beats it. */
function relative(row, value, target) {
  if (value == null || !target || !value) return null;
  return row.better === "higher" ? target.value / value : value / target.value;
}

function domain(report) {
  let lo = 0.1;
  let hi = 10;
  for (const row of report.rows) {
    for (const m of MODES) {
      const cell = row.results[m];
      const t = row.targets[m]?.[0];
      for (const v of [cell?.median, cell?.p90]) {
        const r = relative(row, v, t);
        if (r) {
          lo = Math.min(lo, 10 ** Math.floor(Math.log10(r)));
          hi = Math.max(hi, 10 ** Math.ceil(Math.log10(r)));
        }
      }
    }
  }
  return [Math.max(lo, 1e-3), Math.min(hi, 1e3)];
}

export function svgChart(report) {
  const [lo, hi] = domain(report);
  const clamp = (r) => Math.min(hi, Math.max(lo, r));
  const x = (r) => PLOT_X0 + ((Math.log10(clamp(r)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (PLOT_X1 - PLOT_X0);
  const H = TOP + report.rows.length * GROUP_H + 56;
  const plotBottom = TOP + report.rows.length * GROUP_H;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(text(12, 22, "esem-bridge benchmark: median relative to target (log scale)", `font-size="15" font-weight="bold"`));
  out.push(text(12, 40, "Bar from the target line to value ÷ target (target ÷ value for calls/s); whisker to the p90; left of the line beats the target.", `fill="#444"`));
  out.push(`<rect x="${x(lo)}" y="${TOP - 14}" width="${x(1) - x(lo)}" height="${plotBottom - TOP + 14}" fill="#edf7ed"/>`);
  out.push(`<rect x="${x(1)}" y="${TOP - 14}" width="${x(hi) - x(1)}" height="${plotBottom - TOP + 14}" fill="#fbefef"/>`);
  out.push(text(x(1) - 6, TOP - 2, "beats target", `text-anchor="end" fill="#2e7d32" font-size="11"`));
  out.push(text(x(1) + 6, TOP - 2, "misses target", `fill="#c62828" font-size="11"`));
  MODES.forEach((m, i) => {
    const lx = TEXT_X + i * 110;
    out.push(`<rect x="${lx}" y="${TOP - 24}" width="12" height="12" fill="${COLORS[m]}"/>`);
    out.push(text(lx + 16, TOP - 14, m));
  });

  report.rows.forEach((row, gi) => {
    const gy = TOP + gi * GROUP_H + 8;
    if (gi > 0) out.push(`<line x1="12" x2="${W - 12}" y1="${gy - 8}" y2="${gy - 8}" stroke="#ddd"/>`);
    out.push(text(12, gy + 13, row.name, `font-weight="bold"`));
    out.push(text(12, gy + 28, row.unit, `fill="#666" font-size="11"`));
    MODES.forEach((m, i) => {
      const y = gy + i * 16;
      const cell = row.results[m];
      const [target, second] = row.targets[m] ?? [];
      const r = relative(row, cell?.median, target);
      if (!cell || cell.median == null) {
        const why = cell?.unavailable ? "unavailable" : "n/a";
        out.push(text(x(1) + 6, y + 11, `${m}: ${why}`, `fill="#999" font-style="italic" font-size="11"`));
        out.push(text(TEXT_X, y + 11, `${m} ${why}`, `fill="#999"`));
        return;
      }
      const valueText = `${fmtNumber(cell.median)} ${row.unit}`;
      if (r == null) {
        out.push(text(x(1) + 6, y + 11, `${m}: no target`, `fill="#999" font-style="italic" font-size="11"`));
        out.push(text(TEXT_X, y + 11, valueText, `fill="${COLORS[m]}"`));
        return;
      }
      const a = Math.min(x(1), x(r));
      out.push(`<rect x="${a}" y="${y}" width="${Math.max(1, Math.abs(x(r) - x(1)))}" height="${BAR_H}" fill="${COLORS[m]}"/>`);
      const q = relative(row, cell.p90, target);
      if (q != null && Math.abs(x(q) - x(r)) > 1) {
        out.push(`<line x1="${x(r)}" x2="${x(q)}" y1="${y + BAR_H / 2}" y2="${y + BAR_H / 2}" stroke="#222" stroke-width="1.5"/>`);
        out.push(`<line x1="${x(q)}" x2="${x(q)}" y1="${y + 3}" y2="${y + BAR_H - 3}" stroke="#222" stroke-width="1.5"/>`);
      }
      if (second) {
        const t2 = relative(row, second.value, target);
        out.push(`<line x1="${x(t2)}" x2="${x(t2)}" y1="${y - 2}" y2="${y + BAR_H + 2}" stroke="#111" stroke-width="2" stroke-dasharray="3 2"/>`);
      }
      out.push(text(TEXT_X, y + 11, `${valueText}  (${fmtNumber(r)}× target ${fmtTarget(target)})`, `fill="${COLORS[m]}"`));
    });
  });

  out.push(`<line x1="${x(1)}" x2="${x(1)}" y1="${TOP - 14}" y2="${plotBottom}" stroke="#222" stroke-width="1.5"/>`);
  for (let d = Math.log10(lo); d <= Math.log10(hi) + 1e-9; d++) {
    const v = 10 ** d;
    out.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${plotBottom}" y2="${plotBottom + 5}" stroke="#444"/>`);
    out.push(text(x(v), plotBottom + 18, `${+v.toPrecision(1)}×`, `text-anchor="middle" fill="#444" font-size="11"`));
  }
  const ly = plotBottom + 14;
  const lx = TEXT_X + 16;
  out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="#222" stroke-width="1.5"/>`);
  out.push(`<line x1="${lx + 24}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly + 4}" stroke="#222" stroke-width="1.5"/>`);
  out.push(text(lx + 30, ly + 4, "p90 of repetitions", `fill="#444" font-size="11"`));
  out.push(`<line x1="${lx + 145}" x2="${lx + 145}" y1="${ly - 8}" y2="${ly + 8}" stroke="#111" stroke-width="2" stroke-dasharray="3 2"/>`);
  out.push(text(lx + 152, ly + 4, "issue target", `fill="#444" font-size="11"`));
  out.push(text(12, H - 12, environmentLine(report.environment), `fill="#666" font-size="10.5"`));
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
