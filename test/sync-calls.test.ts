// callSync() (docs/concurrency.md#sync): a call run on the JS thread under
// the GIL that returns its value; JS functions called meanwhile run at
// once; refused in subprocess mode.
import { describe, expect, it } from "vitest";
import { callSync, kw } from "../src/index.ts";
import { expectBridgeError, fixture, skipReason, withBridge } from "./helpers.ts";

describe.skipIf(skipReason("native"))("callSync() on the native backend", () => {
  it("returns the value, with objects, kwargs and proxies, and throws Python's error", async () => {
    await withBridge("native", async (bridge) => {
      const op = (await bridge.python("operator")) as any;
      const builtins = (await bridge.python("builtins")) as any;
      expect(callSync(op.add, 1, 2)).toBe(3);
      expect(callSync(builtins.dict, kw({ a: [1, { b: 2n ** 70n }] }))).toEqual({ a: [1, { b: 2n ** 70n }] });
      const list = await builtins.list([1, 2]);
      expect(callSync(builtins.len, list)).toBe(2);
      expect(() => callSync(op.truediv, 1, 0)).toThrow(/division by zero/);
      expect(await op.add(2, 3)).toBe(5); // the async path still works
    });
  });

  it("runs a JS function Python calls during it on this thread, at once", async () => {
    await withBridge("native", async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const builtins = (await bridge.python("builtins")) as any;
      const steps: number[] = [];
      expect(callSync(cb.progress, 10, (i: number) => void steps.push(i))).toBe(45);
      expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(callSync(builtins.sorted, [3, 1, 2], kw({ key: (x: number) => -x }))).toEqual([3, 2, 1]);
      const [type, name, message] = callSync(cb.catch_js, async () => 1) as string[];
      expect([type, name]).toEqual(["JSError", "BridgeError"]);
      expect(message).toMatch(/returned a promise/);
    });
  });

  it("refuses an async def and a proxy that is not one, and keeps working", async () => {
    await withBridge("native", async (bridge) => {
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      expectBridgeError((() => { try { callSync(c.nap, 1, 0); } catch (e) { return e; } })(), "ESEM_BAD_REQUEST");
      expect(() => callSync(() => 1)).toThrow(TypeError);
      expect(callSync(c.spin, 4)).toBe(6);
    });
  });
});

describe.skipIf(skipReason("subprocess"))("callSync() on the subprocess backend", () => {
  it("is refused with ESEM_UNSUPPORTED_MODE, and the bridge keeps working", async () => {
    await withBridge("subprocess", async (bridge) => {
      const op = (await bridge.python("operator")) as any;
      let error: unknown;
      try {
        callSync(op.add, 1, 2);
      } catch (e) {
        error = e;
      }
      expect(expectBridgeError(error, "ESEM_UNSUPPORTED_MODE").message).toMatch(/native mode/);
      expect(await op.add(1, 2)).toBe(3);
    });
  });
});
