// Child script: one call returns a string of <megabytes> MB ("x" repeated),
// then a small call checks the bridge still works. Prints one JSON line:
// { outcome, length, intact, error, ms, nodePeakMb, pythonPeakMb, alive }.
// A child of its own so that the peak RSS figures belong to this call.
// Usage: node big-string.mjs <native|subprocess> <megabytes> <fixtures dir>
import path from "node:path";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [mode, mb, fixtures] = process.argv.slice(2);
const size = Number(mb) * 2 ** 20;
const bridge = createBridge({ mode });
const h = await bridge.python(path.join(fixtures, "hostile.py"));
const report = {};
const started = Date.now();
try {
  const s = await h.big_string(Number(mb));
  report.outcome = "arrived";
  report.length = s.length;
  report.intact = s.length === size && s[0] === "x" && s[size >> 1] === "x" && s[size - 1] === "x";
} catch (error) {
  report.outcome = "rejected";
  report.error = error === undefined ? "undefined" : { name: error.name, code: error.code, message: error.message };
}
report.ms = Date.now() - started;
report.nodePeakMb = Math.round(process.resourceUsage().maxRSS / 1024);
report.pythonPeakMb = await h.peak_rss_mb(); // the worker's in subprocess mode, this process's in native mode
report.alive = await h.say("alive");
console.log(JSON.stringify(report));
await bridge.shutdown();
