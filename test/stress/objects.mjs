// Stress: COUNT Python objects created in waves of 1000, each read once (a
// member proxy made, which used to pin the proxy), then dropped by
// `release()`, by `Symbol.asyncDispose` (what `await using` calls) or by
// garbage collection. At the end Python must hold none of them and memory
// after the warm-up and at the end must differ by less than LIMIT %.
// Usage: node $NODE_FLAGS (common.mjs) objects.mjs <native|subprocess> <count> <release|using|gc> [limit]
import path from "node:path";
import { createBridge, fixtures, flat, growth, mb, memory, release, report } from "./common.mjs";

const [mode, countArg, how, limitArg] = process.argv.slice(2);
const count = Number(countArg);
const limit = Number(limitArg ?? 5);
if (how === "gc" && !globalThis.gc) throw new Error("run with node --expose-gc");

const bridge = createBridge({ mode });
const tracked = await bridge.python(path.join(fixtures, "tracked.py"));
let wrong = 0;
let done = 0;
let warm = null;
// The warm-up: a third of a long run, half of a short one. V8 sizes its
// heap first, and in native mode the malloc arenas of the two threads (the
// JS thread frees what the Python thread allocated) settle over the first
// few hundred thousand objects: measured 2 Dec 2026, RSS +14 MB from 100 000
// to 500 000 objects and +16 MB from 200 000 to 2 000 000, a plateau, with
// malloc's bytes in use flat (7.4 -> 7.7 MB over 1 000 000).
const warmUp = Math.min(count / 2, Math.max(count / 3, 100_000));
const started = Date.now();
while (done < count) {
  if (warm === null && done >= warmUp) warm = await memory();
  const n = Math.min(1000, count - done);
  const base = done;
  let objs = await Promise.all(Array.from({ length: n }, (_, i) => tracked.Tracked(base + i)));
  const values = await Promise.all(objs.map((o) => o.n));
  for (let i = 0; i < n; i++) if (values[i] !== base + i) wrong++;
  if (how === "release") await Promise.all(objs.map((o) => release(o)));
  else if (how === "using") await Promise.all(objs.map((o) => o[Symbol.asyncDispose]()));
  objs = null;
  done += n;
  if (how === "gc" && done % 20_000 === 0) globalThis.gc();
}
// GC releases arrive as the finalizers run: give them a few rounds.
let live = await tracked.live();
for (let i = 0; i < 100 && live > 0; i++) {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 20));
  live = await tracked.live();
}
const seconds = (Date.now() - started) / 1000;
const end = await memory();
await bridge.shutdown();
const grew = growth(warm, end);
report({
  test: `objects dropped by ${how}`,
  mode, objects: done, wrong, liveAtEnd: live, seconds, warmMB: mb(warm), endMB: mb(end),
  growthPct: grew, limitPct: limit,
  ok: wrong === 0 && live === 0 && flat(warm, end, limit),
});
