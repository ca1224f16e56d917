// JS functions as Python callables (docs/concurrency.md#callbacks), in both
// modes: wherever they are in the arguments, from any Python thread, during
// the call or after it, with errors both ways, identity and release.
import { describe, expect, it } from "vitest";
import { kw } from "../src/index.ts";
import { BACKENDS, childScript, fixture, runNode, skipReason, withBridge } from "./helpers.ts";

describe.each(BACKENDS)("callbacks on the %s backend", (mode) => {
  const skip = skipReason(mode);

  it.skipIf(skip)("calls a JS function given at the top level, in an array, in an object and as a keyword", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      expect(await cb.call((a: number, b: number) => a + b, 2, 3)).toBe(5);
      expect(await cb.apply_all([(x: number) => x + 1, (x: number) => x * 2], 10)).toEqual([11, 20]);
      expect(await cb.from_dict({ f: (s: string) => s.toUpperCase(), x: "abc" })).toBe("ABC");
      const builtins = (await bridge.python("builtins")) as any;
      expect(await builtins.sorted([3, 1, 2], kw({ key: (x: number) => -x }))).toEqual([3, 2, 1]);
    });
  });

  it.skipIf(skip)("gives plain arguments and results their exact types (the plain path and the wire's)", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const echo = (...args: unknown[]) => args;
      const args = [null, true, false, 0, -1, 2 ** 53 - 1, 0.5, -0, NaN, -Infinity, "", "héllo 😀", "a\u0000b"];
      expect(await cb.call(echo, ...args.slice(0, 8))).toEqual(args.slice(0, 8));
      expect(await cb.call(echo, ...args)).toEqual(args);
      expect(await cb.call(echo, 2 ** 60, "\ud800")).toEqual([2n ** 60n, "\ud800"]);
      const results: [unknown, [string, unknown]][] = [
        [undefined, ["NoneType", null]], [true, ["bool", true]], [7, ["int", 7]], [-0, ["float", -0]], [0.25, ["float", 0.25]],
        [2 ** 60, ["int", 2n ** 60n]], [2n ** 70n, ["int", 2n ** 70n]], ["😀", ["str", "😀"]], ["\ud800", ["str", "\ud800"]],
        [[1, 2], ["list", [1, 2]]], [{ a: 1 }, ["dict", { a: 1 }]],
      ];
      expect(await cb.call_and_type((xs: number[]) => xs.length, [1, 2])).toEqual(["int", 2]);
      expect(await cb.call_and_type((s: string) => [s], "a")).toEqual(["list", ["a"]]);
      for (const [value, expected] of results) {
        expect(await cb.call_and_type(() => value, 1)).toEqual(expected);
        expect(await cb.call_and_type(async () => value)).toEqual(expected);
      }
    });
  });

  it.skipIf(skip)("passes Python keyword arguments as one trailing object, and converts values both ways", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const seen: unknown[][] = [];
      const result = await cb.call((...args: unknown[]) => {
        seen.push(args);
        return { list: [1, 2n ** 70n], when: new Date(0), none: null };
      }, [1, "two"], kw({ flag: true }));
      expect(seen).toEqual([[[1, "two"], { flag: true }]]);
      expect(result).toEqual({ list: [1, 2n ** 70n], when: new Date(0), none: null });
    });
  });

  it.skipIf(skip)("reports progress from a Python loop, in order", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const steps: number[] = [];
      expect(await cb.progress(100, (i: number, n: number) => void steps.push(i / n))).toBe(4950);
      expect(steps).toHaveLength(100);
      expect(steps[99]).toBeCloseTo(0.99);
    });
  });

  it.skipIf(skip)("waits for the promise an async JS function returns", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const slow = async (x: number) => {
        await new Promise((r) => setTimeout(r, 20));
        return x * 3;
      };
      expect(await cb.call(slow, 7)).toBe(21);
    });
  });

  it.skipIf(skip)("raises JSError in Python for a throw and for a rejection, and rejects the call with it when uncaught", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      expect(await cb.catch_js(() => {
        throw new TypeError("bad input");
      })).toEqual(["JSError", "TypeError", "bad input", true]);
      expect(await cb.catch_js(async () => {
        throw new RangeError("too far");
      })).toEqual(["JSError", "RangeError", "too far", true]);
      const error = await cb.raises_through(() => {
        throw new Error("from JS");
      }).catch((e: unknown) => e);
      expect(error.pythonType).toBe("esem_bridge.callback.JSError");
      expect(error.message).toBe("Error: from JS");
      expect(await cb.call((x: number) => x, 1)).toBe(1); // still works
    });
  });

  it.skipIf(skip)("turns a result JS cannot send into a JSError naming it", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const [type, name, message] = await cb.catch_js(() => Symbol("nope"));
      expect([type, name]).toEqual(["JSError", "BridgeError"]);
      expect(message).toMatch(/Symbol/);
    });
  });

  it.skipIf(skip)("runs the JS function when Python calls it from a thread of its own", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      expect(await cb.on_thread((x: number) => x + 100, 1)).toBe(101);
    });
  });

  it.skipIf(skip)("calls an event handler Python kept, long after the call that registered it", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const events: unknown[] = [];
      await cb.on("data", (x: unknown) => {
        events.push(x);
        return events.length;
      });
      expect(await cb.emit("data", "a")).toBe(1);
      expect(await cb.emit("data", { b: 2 })).toBe(2);
      const fired = new Promise((resolve) => cb.later(resolve, "late", 0.05));
      expect(await fired).toBe("late");
      expect(events).toEqual(["a", { b: 2 }]);
    });
  });

  it.skipIf(skip)("lets a callback call Python again while Python waits for it", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      expect(await cb.nested_sum(async (i: number) => await cb.nested_leaf(i), 5)).toBe(100);
    });
  });

  it.skipIf(skip)("is the same Python object for the same JS function, and the same JS function back", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const f = () => 1;
      expect(await cb.same(f, f)).toBe(true);
      expect(await cb.same(f, () => 1)).toBe(false);
      expect(await cb.give_back(f)).toBe(f);
      await cb.on("keep", f);
      expect(await cb.give_back(f)).toBe(f);
      expect(await cb.emit("keep")).toBe(1);
    });
  });

  it.skipIf(skip)("behaves like a Python callable: callable(), repr, weakref, hash, map(), keywords, many arguments", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      const fn = (...args: any[]) => {
        const last = args.at(-1);
        if (last && typeof last === "object") return args[0] * last.scale;
        return args.length > 1 ? args.length : args[0] * 2;
      };
      expect(await cb.as_callable(fn)).toEqual({ callable: true, repr: true, weakref: true, hashable: true, mapped: [2, 4, 6], keyword: 10, many: 12 });
    });
  });

  it.skipIf(skip)("refuses a JsFunction built by hand from Python with a clear error, and keeps working", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      await cb.on("probe", () => 1);
      expect(await cb.make_js_function()).toMatch(/^TypeError: /);
      expect(await cb.make_js_function(1, {})).toBe("TypeError: JsFunction(id, table): the table must be an esem-bridge bridge's");
      expect(await cb.make_js_function(0, {})).toBe("ValueError: JsFunction(id, table): a JS function id out of range");
      expect(await cb.emit("probe")).toBe(1);
      await cb.forget("probe");
    });
  });

  it.skipIf(skip || mode !== "native")("raises CallbackGone in Python for a function whose bridge was shut down (native: one interpreter)", async () => {
    await withBridge(mode, async (bridge) => {
      const cb = (await bridge.python(fixture("callbacks.py"))) as any;
      await withBridge(mode, async (other) => {
        const same = (await other.python(fixture("callbacks.py"))) as any; // the same module in the one interpreter
        await same.on("gone", () => "never");
      });
      expect(await cb.call_gone_handler("gone")).toMatch(/^CallbackGone: /);
      expect(await cb.call((x: number) => x, 5)).toBe(5);
    });
  });
});

describe.each(BACKENDS)("the lifetime of JS functions passed to Python on the %s backend", (mode) => {
  it.skipIf(skipReason(mode))("collects them after Python drops them, keeps one Python holds, and (native) raises CallbackGone for an ended worker's", async () => {
    const child = await runNode(childScript("callback-lifetime.mjs"), [fixture(), mode], 60_000, { nodeArgs: ["--expose-gc"] });
    expect({ code: child.code, signal: child.signal }, child.stderr.slice(-2000)).toEqual({ code: 0, signal: null });
    const expected: Record<string, unknown> = { droppedCollected: true, keptAlive: true, keptCollectedAfterForget: true, stillWorks: true };
    if (mode === "native") Object.assign(expected, { workerCall: 42, afterWorkerEnded: "CallbackGone" });
    expect(JSON.parse(child.stdout.trim().split("\n").at(-1)!)).toEqual(expected);
  }, 90_000);
});
