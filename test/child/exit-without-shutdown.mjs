// Child script: uses Python, keeps an unreleased object, and ends without
// shutdown(). It must exit by itself (SPEC §5).
// Usage: node exit-without-shutdown.mjs <native|subprocess|default> <fixtures dir>
import path from "node:path";

const { python, createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [mode, fixtures] = process.argv.slice(2);
const bridge = mode === "default" ? null : createBridge({ mode });
const load = (spec) => (bridge ? bridge.python(spec) : python(spec));

const calc = await load(path.join(fixtures, "calculator.py"));
const kept = await calc.Calculator(2);
console.log(await calc.add(2, 3));
console.log(await kept.add(1.234, 2.345));
