// Shared by the stress scripts: the built package, the fixtures, memory
// figures (this process and, in subprocess mode, its Python workers) and
// the one-line JSON report each script prints.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const { createBridge, release } = await import(new URL("../../dist/index.js", import.meta.url).href);
/** The node flags every stress script runs under. */
export const NODE_FLAGS = ["--expose-gc", "--min-semi-space-size=1", "--max-semi-space-size=1"];
export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

function rssOf(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** RSS of this process's child processes (the subprocess mode's Python workers). */
function childrenRss() {
  let total = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid) total += rssOf(name);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/**
 * Memory after a full collection: Node's RSS and the Python workers' RSS.
 * Run the scripts with NODE_FLAGS (a fixed young generation): otherwise V8
 * grows it under allocation pressure, which moves RSS by 20-40 MB without
 * any leak.
 */
export async function memory() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 10));
  }
  const m = process.memoryUsage();
  return { node: m.rss, heapUsed: m.heapUsed, python: childrenRss() };
}

/** Growth from `before` to `after` in percent (python: 0 in native mode, where Python is inside Node's RSS). */
export function growth(before, after) {
  const pct = (a, b) => (a > 0 ? Math.round(((b - a) / a) * 1000) / 10 : 0);
  return { node: pct(before.node, after.node), heapUsed: pct(before.heapUsed, after.heapUsed), python: pct(before.python, after.python) };
}

/**
 * Flat: RSS (Node's, and the Python workers') grew less than `limit` percent,
 * and the JS heap in use after a full collection grew less than `limit`
 * percent or 1 MiB (it is small, and holds what the proxies keep). A
 * worker's RSS (~18 MB) may also grow by less than 2 MiB once: it starts
 * its spare threads (docs/concurrency.md) when a wave first needs them,
 * which can be after the warm-up, and its allocator takes memory in arenas
 * of up to 1 MiB (waves of 10 000 subprocess calls grew 1.1 MiB in 1 of 6
 * runs, at 968f2d2 too, and 0.1 % over 400 000 calls). A leak per call
 * shows in the long runs (npm run test:stress: 1 000 000 calls stay within
 * 2.3 %).
 */
export function flat(before, after, limit) {
  const grew = growth(before, after);
  const python = grew.python < limit || after.python - before.python < 2 * 2 ** 20;
  return grew.node < limit && python && (grew.heapUsed < limit || after.heapUsed - before.heapUsed < 2 ** 20);
}

/** Megabytes of each figure, for the report. */
export function mb(m) {
  return { nodeRss: Math.round(m.node / 2 ** 20), heapUsed: Math.round(m.heapUsed / 2 ** 20), pythonRss: Math.round(m.python / 2 ** 20) };
}

/** Prints the report as one JSON line and sets the exit code from `ok`. */
export function report(fields) {
  console.log(JSON.stringify(fields));
  if (!fields.ok) process.exitCode = 1;
}
