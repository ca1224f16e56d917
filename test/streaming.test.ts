// Iterating a Python generator from JS (docs/concurrency.md#streaming):
// each item arrives as soon as Python yields it, read-ahead is bounded, and
// `break` closes the generator. Both modes.
import { describe, expect, it } from "vitest";
import { BACKENDS, fixture, skipReason, withBridge } from "./helpers.ts";

describe.each(BACKENDS)("streaming on the %s backend", (mode) => {
  it.skipIf(skipReason(mode))("delivers each item of a slow generator as it is yielded, not in growing batches", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      const steps = await c.Steps();
      const start = Date.now();
      const lags: number[] = [];
      let i = 0;
      for await (const item of await steps.run(20, 0.03)) {
        expect(item).toBe(i);
        i++;
        lags.push(Date.now() - start - i * 30); // how late after the i-th step's end
      }
      expect(i).toBe(20);
      // Batches of 1, 2, 4, 8 would make the 16th item ~0.2 s late.
      expect(Math.max(...lags)).toBeLessThan(150);
    });
  });

  it.skipIf(skipReason(mode))("closes the generator on break, and it has run no further than the read-ahead", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      const steps = await c.Steps();
      for await (const item of await steps.run(1000, 0.002)) {
        if (item === 5) break;
      }
      const deadline = Date.now() + 2000;
      while (!(await steps.closed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(await steps.closed).toBe(true);
      expect(await steps.produced).toBeLessThan(6 + 256);
    });
  });

  it.skipIf(skipReason(mode))("still reads a fast iterable in large batches (a million items)", async () => {
    await withBridge(mode, async (bridge) => {
      const builtins = (await bridge.python("builtins")) as any;
      let n = 0;
      let sum = 0;
      for await (const x of await builtins.range(1_000_000)) {
        n++;
        sum += x as number;
      }
      expect([n, sum]).toEqual([1_000_000, 499999500000]);
    });
  });
});
