// Child script: a call fails with a Python exception, then the script ends.
// A bridge left idle after an error must not keep Node alive either.
// Usage: node idle-after-error.mjs <native|subprocess|default> <fixtures dir>
import path from "node:path";

const { python, createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [mode, fixtures] = process.argv.slice(2);
const bridge = mode === "default" ? null : createBridge({ mode });
const load = (spec) => (bridge ? bridge.python(spec) : python(spec));

const errors = await load(path.join(fixtures, "errors_fixture.py"));
try {
  await errors.raise_value_error("expected");
} catch (error) {
  console.log(error.name);
}
