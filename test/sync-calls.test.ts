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

describe.skipIf(skipReason("native"))("callSync()'s fast path (module functions, plain arguments)", () => {
  it("gives every plain result the same value as the async call", async () => {
    await withBridge("native", async (bridge) => {
      const b = (await bridge.python("builtins")) as any;
      const op = (await bridge.python("operator")) as any;
      const cases: [any, unknown[]][] = [
        [op.add, [1, 2]], [op.add, [2 ** 52, 2 ** 52]], [op.mul, [2 ** 40, 2 ** 40]], [op.add, [0.5, 0.25]], [op.neg, [0.0]],
        [op.truediv, [1, 3]], [b.float, ["nan"]], [b.float, ["-inf"]], [op.not_, [0]], [b.str, [1]],
        [op.add, ["héllo ", "😀\u0000"]], [b.chr, [0xd800]], [b.repr, [null]], [b.list, ["ab"]],
        [b.round, [2.5]], [b.max, [3, 9, 1, 4, 5, 6, 7, 8, 2]], [b.divmod, [7, 2]], [b.bool, [undefined]],
      ];
      for (const [fn, args] of cases) {
        const expected = await fn(...args);
        expect(callSync(fn, ...args)).toEqual(expected);
      }
      expect(Object.is(callSync(b.float, "-0"), -0)).toBe(true);
      expect(callSync(op.mul, 2 ** 40, 2 ** 40)).toBe(2n ** 80n);
      expect(callSync(b.chr, 0xd800)).toBe("\ud800");
      expect(callSync(op.add, 2 ** 60, 1)).toBe(2n ** 60n + 1n); // an unsafe integer argument goes the wire's way
      expect(typeof callSync(b.object)).toBe("function"); // an object: a proxy
    });
  });

  it("throws Python's error with its exception object, refuses a coroutine, and knows a released module or a shut-down bridge", async () => {
    await withBridge("native", async (bridge) => {
      const op = (await bridge.python("operator")) as any;
      const c = (await bridge.python(fixture("concurrency.py"))) as any;
      for (let i = 0; i < 3; i++) {
        let error: any;
        try {
          callSync(op.truediv, 1, 0);
        } catch (e) {
          error = e;
        }
        expect(error.pythonType).toBe("ZeroDivisionError");
        expect(await error.pythonException.args).toEqual(["division by zero"]);
        expectBridgeError((() => { try { callSync(c.nap, 1, 0); } catch (e) { return e; } })(), "ESEM_BAD_REQUEST");
      }
      expect(callSync(c.spin, 4)).toBe(6);
      const json = (await bridge.python("json")) as any;
      expect(callSync(json.dumps, 1)).toBe("1");
      await (await import("../src/index.ts")).release(json);
      expectBridgeError((() => { try { callSync(json.dumps, 1); } catch (e) { return e; } })(), "ESEM_RELEASED");
      await bridge.shutdown();
      expectBridgeError((() => { try { callSync(op.add, 1, 2); } catch (e) { return e; } })(), "ESEM_SHUTDOWN");
    });
  });
});

describe.skipIf(skipReason("native"))("a JS function called during callSync() with plain values", () => {
  it("gets every argument and gives every result as the general path does", async () => {
    await withBridge("native", async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const echo = (...args: unknown[]) => args;
      const args = [null, true, false, 0, -1, 2 ** 53 - 1, 0.5, -0, NaN, Infinity, "", "héllo 😀", "a\u0000b"];
      // Plain arguments (up to 8), then ones that go the wire's way: more than 8, an unsafe int, a lone surrogate, keywords.
      expect(callSync(cb.call, echo, ...args.slice(0, 8))).toEqual(args.slice(0, 8));
      expect(callSync(cb.call, echo, ...args.slice(8))).toEqual(args.slice(8));
      expect(callSync(cb.call, echo, ...args)).toEqual(args);
      expect(callSync(cb.call, echo, 2 ** 60)).toEqual([2n ** 60n]);
      expect(callSync(cb.call, echo, "\ud800")).toEqual(["\ud800"]);
      expect(callSync(cb.call, echo, 1, kw({ k: 2 }))).toEqual([1, { k: 2 }]);
      const results: [unknown, [string, unknown]][] = [
        [undefined, ["NoneType", null]], [null, ["NoneType", null]], [true, ["bool", true]], [7, ["int", 7]], [-0, ["float", -0]],
        [0.25, ["float", 0.25]], [2 ** 60, ["int", 2n ** 60n]], [2n ** 70n, ["int", 2n ** 70n]], ["😀", ["str", "😀"]],
        ["\ud800", ["str", "\ud800"]], [[1, 2], ["list", [1, 2]]], [{ a: 1 }, ["dict", { a: 1 }]],
      ];
      for (const [value, expected] of results) expect(callSync(cb.call_and_type, () => value, 1)).toEqual(expected);
      // Arguments that are not plain (wire bytes), a plain answer, and the reverse.
      expect(callSync(cb.call_and_type, (xs: number[]) => xs.length, [1, 2])).toEqual(["int", 2]);
      expect(callSync(cb.call_and_type, (s: string) => [s], "a")).toEqual(["list", ["a"]]);
    });
  });

  it("lets the JS function call Python again, synchronously (nested) or not, during the sync call", async () => {
    await withBridge("native", async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const op = (await bridge.python("operator")) as any;
      expect(callSync(cb.call, (x: number) => callSync(op.add, x, 1), 41)).toBe(42); // plain arguments
      expect(callSync(cb.call, (o: { v: number }) => callSync(op.add, o.v, 1), { v: 1 })).toBe(2); // wire arguments
      expect(callSync(cb.call, (x: number) => callSync(cb.call, (y: number) => callSync(op.mul, y, 2), x + 1), 1)).toBe(4);
      let later: Promise<unknown> | undefined;
      expect(callSync(cb.call, (x: number) => ((later = op.add(x, 1)), x), 5)).toBe(5);
      expect(await later).toBe(6);
      expect(await cb.on_thread((x: number) => x + 1, 1)).toBe(2); // Python threads still get the GIL
    });
  });

  it("turns a throw into JSError and refuses a promise, and keeps working", async () => {
    await withBridge("native", async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const [type, name, message] = callSync(cb.catch_js, () => { throw new RangeError("nope"); }) as string[];
      expect([type, name, message]).toEqual(["JSError", "RangeError", "nope"]);
      expect((callSync(cb.catch_js, async () => 1) as string[])[2]).toMatch(/returned a promise/);
      expect(callSync(cb.call, (a: number, b: number) => a + b, 2, 3)).toBe(5);
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
