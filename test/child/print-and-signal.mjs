// Child script: Python's print() output reaches Node's stdout (even without
// a newline, with no PYTHONUNBUFFERED), and Ctrl-C (SIGINT) stays Node's:
// Python installs no signal handler, so the default action ends the process.
// Usage: node print-and-signal.mjs <fixtures dir> <print|sigint>
import path from "node:path";

const { python } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [fixtures, what] = process.argv.slice(2);
const io = await python(path.join(fixtures, "printing.py"));
if (what === "print") {
  await io.say("first line");
  console.log("from node");
  await io.say_partial("no newline at the end");
} else {
  setTimeout(() => console.log("still alive"), 5000);
  process.kill(process.pid, "SIGINT");
}
