// `npm run bench`: every scenario × mode in fresh Node processes, R repetitions,
// medians and p90s; prints a table, writes bench/results/latest.json,
// docs/benchmarks.md and docs/benchmarks.svg. A report: nothing here fails on a number.
//
//   node bench/run.js [--reps N] [--quick] [--only a,b] [--modes native,subprocess] [--no-docs]
//   node bench/run.js --render   (rewrites the docs from bench/results/latest.json with the rows' current text)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runChild } from "./lib/child.js";
import { deriveRuns, selectRows } from "./lib/derive.js";
import { environment, environmentLine } from "./lib/env.js";
import { markdown, notes } from "./lib/markdown.js";
import { MODES, ROWS } from "./lib/rows.js";
import { median, p90 } from "./lib/stats.js";
import { svgChart } from "./lib/svg.js";
import { textTable } from "./lib/table.js";
import { UNAVAILABLE } from "./lib/unavailable.js";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

function parseArgs(argv) {
  const opts = { reps: 5, only: null, modes: MODES, docs: true, render: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") opts.reps = 2;
    else if (a === "--reps") opts.reps = Math.max(1, parseInt(argv[++i], 10) || 1);
    else if (a === "--only") opts.only = argv[++i].split(",");
    else if (a === "--modes") opts.modes = argv[++i].split(",");
    else if (a === "--no-docs") opts.docs = false;
    else if (a === "--render") opts.render = true;
    else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

const log = (msg) => process.stderr.write(msg);

function probeModes(modes, env) {
  const status = {};
  for (const mode of MODES) {
    if (!modes.includes(mode)) {
      status[mode] = { available: false, reason: "not requested (--modes)" };
      continue;
    }
    const r = runChild("probe", mode);
    status[mode] = r.ok
      ? { available: true, reason: r.info?.reason ?? null }
      : { available: false, reason: `${r.code ? `${r.code}: ` : ""}${r.message}` };
    if (r.ok && r.info?.python && !env.python) env.python = r.info.python;
    log(`probe ${mode}: ${r.ok ? "ok" : `n/a (${status[mode].reason})`}\n`);
  }
  return status;
}

function summarize(row, runs) {
  const good = runs.filter((r) => r.ok);
  const missing = runs.find((r) => r.code === UNAVAILABLE);
  const values = good.map((r) => r.value);
  return {
    values,
    median: median(values),
    p90: p90(values, row.better),
    min: values.length ? Math.min(...values) : null,
    max: values.length ? Math.max(...values) : null,
    unavailable: !good.length && missing ? missing.message : null,
    errors: runs.filter((r) => !r.ok && r.code !== UNAVAILABLE).map((r) => `${r.code ?? ""} ${r.message}`.trim()),
    reps: runs,
  };
}

function writeDocs(report) {
  mkdirSync(here("../docs"), { recursive: true });
  writeFileSync(here("../docs/benchmarks.svg"), svgChart(report));
  writeFileSync(here("../docs/benchmarks.md"), markdown(report));
}

/** --render: the last run's results, with each row's description and targets as they are now. */
function render() {
  const report = JSON.parse(readFileSync(here("results/latest.json"), "utf8"));
  const now = new Map(ROWS.map((r) => [r.name, r]));
  report.rows = report.rows.map((r) => ({ ...r, ...now.get(r.name), results: r.results }));
  writeDocs(report);
  log("wrote docs/benchmarks.md, docs/benchmarks.svg from bench/results/latest.json\n");
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.render) return render();
  if (!existsSync(here("../dist/index.js"))) {
    console.error("bench: dist/ is missing; run `npm install` (or `npm run build:ts`) first.");
    process.exit(1);
  }
  const started = performance.now();
  const env = environment();
  const modes = probeModes(opts.modes, env);
  const rows = selectRows(ROWS, opts.only);
  const runs = Object.fromEntries(rows.map((r) => [r.name, Object.fromEntries(MODES.map((m) => [m, []]))]));

  // Repetition-major order spreads each cell's repetitions over the whole run,
  // so a burst of noise on the shared machine hits one repetition of many rows.
  for (let rep = 0; rep < opts.reps; rep++) {
    for (const row of rows) {
      if (row.derive || rep >= (row.maxReps ?? Infinity)) continue;
      for (const mode of MODES) {
        if (!modes[mode].available) continue;
        if (runs[row.name][mode][0]?.code === UNAVAILABLE) continue; // it will not appear in this run
        log(`rep ${rep + 1}/${opts.reps} ${row.name} ${mode} ... `);
        const r = runChild(row.name, mode, row.nodeArgs);
        if (r.ok && r.info?.python && !env.python) env.python = r.info.python;
        runs[row.name][mode].push(r);
        log(r.ok ? `${r.value.toPrecision(4)} ${row.unit}\n` : `${r.code === UNAVAILABLE ? "unavailable" : "error"}: ${r.message}\n`);
      }
    }
  }
  for (const row of rows.filter((r) => r.derive)) {
    for (const mode of MODES) runs[row.name][mode] = deriveRuns(row, (name) => runs[name][mode]);
  }

  const report = {
    environment: env,
    options: { reps: opts.reps, only: opts.only, modes: opts.modes },
    modes,
    durationS: 0,
    rows: rows.map((row) => ({
      ...row,
      results: Object.fromEntries(
        MODES.map((m) => [m, modes[m].available ? summarize(row, runs[row.name][m]) : null]),
      ),
    })),
  };
  report.durationS = +((performance.now() - started) / 1000).toFixed(1);

  console.log(`\nesem-bridge benchmark: median and p90 of ${opts.reps} fresh processes per cell`);
  console.log(environmentLine(env));
  console.log("");
  console.log(textTable(report));
  for (const m of MODES) if (!modes[m].available) console.log(`${m}: n/a (${modes[m].reason})`);
  const runNotes = notes(report);
  if (runNotes.length) console.log(`\nNotes:\n${runNotes.join("\n").replace(/\*\*/g, "").replace(/`/g, "")}`);
  console.log(`\n(${report.durationS} s)`);

  mkdirSync(here("results"), { recursive: true });
  writeFileSync(here("results/latest.json"), JSON.stringify(report, null, 2) + "\n");
  if (opts.docs && !opts.only) {
    writeDocs(report);
    log("wrote bench/results/latest.json, docs/benchmarks.md, docs/benchmarks.svg\n");
  } else {
    log("wrote bench/results/latest.json (docs left alone: --only or --no-docs)\n");
  }
}

main();
