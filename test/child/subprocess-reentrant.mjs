// Child script: an argument's getter calls Python while the bridge encodes
// that argument (issue 7, defect 9). Every call must settle: the nested
// call is sent whole, before or after the outer one, never inside it.
// Prints one JSON line. Usage: node subprocess-reentrant.mjs <fixtures dir>
import path from "node:path";

const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const [fixtures] = process.argv.slice(2);
const bridge = createBridge({ mode: "subprocess" });
const values = await bridge.python(path.join(fixtures, "values.py"));

const outcome = (promise) =>
  promise.then(
    (value) => ({ value }),
    (error) => ({ code: error.code ?? error.name }),
  );

const nested = [];
// A getter that calls Python and returns a plain value.
const outer = values.echo({ a: 1, get x() { nested.push(values.echo("inner")); return 2; }, b: 3 });
// Two levels: the nested call's own argument has such a getter.
const deep = values.echo({
  get y() {
    nested.push(values.echo({ get z() { nested.push(values.echo("deepest")); return "z"; } }));
    return "y";
  },
});
// A getter that returns the call's promise itself: not a value Python can take.
// (Its outcome is taken at once: it rejects before the awaits below.)
const promised = outcome(values.echo({ get p() { const p = values.echo("from p"); nested.push(p); return p; } }));
const result = {
  outer: await outcome(outer),
  deep: await outcome(deep),
  promised: await promised,
  nested: await Promise.all(nested.map(outcome)),
  after: await outcome(values.echo("after")),
};
console.log(JSON.stringify(result));
await bridge.shutdown();
