// Python's cyclic collector around large calls (native/py_wire_read.cc's
// CollectorPause, python/esem_bridge/worker.py's run()): the bridge pauses
// it while it makes a large argument into objects and, in subprocess mode,
// around its own code before and after the call; the user's code runs with
// the collector as the program left it, and a program that turns it off
// keeps it off. Both modes.
import { describe, expect, it } from "vitest";
import { BACKENDS, fixture, skipReason, withBridge } from "./helpers.ts";

// Well past the 64 KiB from which the pause applies.
const large = Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ["a", "b"] }));

describe.each(BACKENDS)("the cyclic collector on the %s backend", (mode) => {
  const skip = skipReason(mode);

  it.skipIf(skip)("is on while the user's code runs with a large argument, and after", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("collector.py"))) as any;
      expect(await c.enabled(large)).toBe(true);
      expect(await c.collects(large)).toBe(true);
      expect(await c.enabled()).toBe(true);
    });
  });

  it.skipIf(skip)("is on in a property setter given a large value", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("collector.py"))) as any;
      c.holder.data = large;
      expect(await c.holder.seen).toEqual([5000, true]);
    });
  });

  it.skipIf(skip)("stays off when the user's code turns it off during a large call", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("collector.py"))) as any;
      expect(await c.turn_off(large)).toBe(5000);
      expect(await c.enabled()).toBe(false);
      expect(await c.enabled(large)).toBe(false);
      expect(await c.turn_on()).toBe(true);
      expect(await c.enabled(large)).toBe(true);
    });
  });
});
