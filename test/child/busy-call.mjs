// Child script: starts a slow call without awaiting it and ends its main
// module at once. The call must keep Node alive until it settles (SPEC §9).
// Usage: node busy-call.mjs <native|subprocess|default> <fixtures dir>
import path from "node:path";

const { python, createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [mode, fixtures] = process.argv.slice(2);
const bridge = mode === "default" ? null : createBridge({ mode });
const load = (spec) => (bridge ? bridge.python(spec) : python(spec));

const timing = await load(path.join(fixtures, "timing.py"));
timing.sleep_then_return(0.3, "settled").then(
  (value) => console.log(value),
  (error) => {
    console.log(`rejected: ${error}`);
    process.exitCode = 1;
  },
);
console.log("started");
