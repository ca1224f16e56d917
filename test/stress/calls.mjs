// Stress: COUNT calls, one at a time (WAVE=1) or in waves of WAVE
// concurrent calls, each checked; memory after a warm-up (a tenth of a long run, half a short one)
// and at the end must differ by less than LIMIT percent (5): Node's RSS
// and the Python workers' RSS.
// Usage: node $NODE_FLAGS (common.mjs) calls.mjs <native|subprocess> <count> <wave> [limit]
import path from "node:path";
import { createBridge, fixtures, flat, growth, mb, memory, report } from "./common.mjs";

const [mode, countArg, waveArg, limitArg] = process.argv.slice(2);
const count = Number(countArg);
const wave = Number(waveArg);
const limit = Number(limitArg ?? 5);

const bridge = createBridge({ mode });
const timing = await bridge.python(path.join(fixtures, "timing.py"));
let wrong = 0;
let done = 0;
let warm = null;
// The warm-up: a tenth of a long run, half of a short one (V8 sizes its heap first).
const warmUp = Math.min(count / 2, Math.max(count / 10, 100_000));
const started = Date.now();
while (done < count) {
  if (warm === null && done >= warmUp) warm = await memory();
  if (wave === 1) {
    if ((await timing.add(done, 1)) !== done + 1) wrong++;
    done++;
  } else {
    const n = Math.min(wave, count - done);
    const base = done;
    const sums = await Promise.all(Array.from({ length: n }, (_, i) => timing.add(base + i, 1)));
    for (let i = 0; i < n; i++) if (sums[i] !== base + i + 1) wrong++;
    done += n;
  }
}
const seconds = (Date.now() - started) / 1000;
const end = await memory();
await bridge.shutdown();
const grew = growth(warm, end);
report({
  test: wave === 1 ? "sequential calls" : `calls in waves of ${wave}`,
  mode, calls: done, wrong, seconds, warmMB: mb(warm), endMB: mb(end),
  growthPct: grew, limitPct: limit,
  ok: wrong === 0 && done === count && flat(warm, end, limit),
});
