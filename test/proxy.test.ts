// Proxies (SPEC §2, §9): module and object proxies, keyword arguments,
// release, identity of objects passed back, and how files load as modules.
// The same cases on every backend.
import path from "node:path";
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createBridge, release, kw, iterate, ensureWorker, len, getitem } from "../src/index.ts";
import { BACKENDS, skipReason, fixture, rejectionOf, expectBridgeError, expectPythonError } from "./helpers.ts";

/** `./`-relative form of an absolute path, as a user would write it. */
function relativeToCwd(absolute: string): string {
  return "./" + path.relative(process.cwd(), absolute).split(path.sep).join("/");
}

describe.each(BACKENDS)("proxies on the %s backend", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`are not tested: ${reason}`, () => {});
    return;
  }

  let bridge: ReturnType<typeof createBridge>;
  let calc: any;
  let ident: any;

  beforeAll(async () => {
    bridge = createBridge({ mode });
    calc = await bridge.python(fixture("calculator.py"));
    ident = await bridge.python(fixture("identity.py"));
  });

  afterAll(async () => {
    await bridge?.shutdown();
  });

  describe("module proxies", () => {
    it("calls a module function and resolves with its result", async () => {
      expect(await calc.add(2, 3)).toBe(5);
    });

    it("supports destructuring functions and classes from the module", async () => {
      const { add, Calculator } = calc;
      expect(await add(2, 3)).toBe(5);
      const c = await Calculator(2);
      expect(await c.add(1.234, 2.345)).toBe(3.58);
      await c.release();
    });

    it("reads plain module values lazily when awaited", async () => {
      expect(await calc.VERSION).toBe("1.0.0");
      expect(await calc.PI).toBe(3.14159);
      const { VERSION } = calc;
      expect(await VERSION).toBe("1.0.0");
    });

    it("lists public names as properties and hides names starting with _", () => {
      const keys = Object.keys(calc);
      expect(keys).toEqual(expect.arrayContaining(["add", "scale", "Calculator", "VERSION", "PI"]));
      expect(keys).not.toContain("_private_note");
    });

    it("is not thenable, so awaiting python() gives the module itself", async () => {
      expect(calc.then).toBeUndefined();
      expect(await Promise.resolve(calc)).toBe(calc);
    });

    it("passes a Python TypeError back for a call with the wrong arguments", async () => {
      const error = expectPythonError(await rejectionOf(calc.add(1)), "TypeError");
      expect(error.message).toContain("add");
      expect(await calc.add(1, 1)).toBe(2);
    });
  });

  describe("constructors and object proxies", () => {
    it("constructs with or without `new`", async () => {
      const plain = await calc.Calculator(2);
      const withNew = await new calc.Calculator(2);
      expect(await plain.add(1.234, 2.345)).toBe(3.58);
      expect(await withNew.add(1.234, 2.345)).toBe(3.58);
      await release(plain);
      await release(withNew);
    });

    it("reads an attribute by awaiting it", async () => {
      const c = await calc.Calculator(4);
      expect(await c.precision).toBe(4);
      await c.release();
    });

    it("returns an object proxy when a function returns an object", async () => {
      const c = await calc.make_calculator(1);
      expect(await c.add(1.26, 0)).toBe(1.3);
      await c.release();
    });

    it("keeps state in an object across method calls", async () => {
      const tools = await bridge.python(fixture("counter", "tools.py"));
      const counter = await tools.Counter(10);
      expect(await counter.add()).toBe(11);
      expect(await counter.add(5)).toBe(16);
      expect(await counter.value).toBe(16);
      await counter.release();
    });

    it("turns into a string without starting Python calls that reject unhandled", async () => {
      // SPEC is silent on String(proxy); a user expects `"x" + obj` not to
      // crash Node with an unhandled rejection.
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      try {
        const c = await calc.Calculator(2);
        let text: unknown;
        try {
          text = String(c);
        } catch (error) {
          text = error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(unhandled.map(String)).toEqual([]);
        expect(typeof text).toBe("string");
        await release(c);
      } finally {
        process.off("unhandledRejection", onUnhandled);
      }
    });

    it("is not thenable, so awaiting an object proxy gives the proxy itself", async () => {
      const c = await calc.Calculator(2);
      expect(await Promise.resolve(c)).toBe(c);
      await c.release();
    });
  });

  describe("keyword arguments", () => {
    it("passes keywords after positional arguments to a function", async () => {
      expect(await calc.scale(2, kw({ factor: 3 }))).toBe(6);
      expect(await calc.scale(2, 3, kw({ offset: 1 }))).toBe(7);
    });

    it("passes keywords alone to a function", async () => {
      expect(await calc.scale(kw({ x: 2, factor: 3, offset: 1 }))).toBe(7);
    });

    it("passes keywords alone to a constructor, with and without `new`", async () => {
      const a = await calc.Calculator(kw({ precision: 3 }));
      const b = await new calc.Calculator(kw({ precision: 1 }));
      expect(await a.add(1.23456, 0)).toBe(1.235);
      expect(await b.add(1.23456, 0)).toBe(1.2);
      await release(a);
      await release(b);
    });

    it("passes positional arguments and keywords to a constructor", async () => {
      const tools = await bridge.python(fixture("counter", "tools.py"));
      const counter = await tools.Counter(10, kw({ step: 5 }));
      expect(await counter.add()).toBe(15);
      expect(await counter.add(kw({ amount: 2 }))).toBe(17);
      await counter.release();
    });

    it("passes keywords to a method, with and without positional arguments", async () => {
      const c = await calc.Calculator(2);
      expect(await c.add(kw({ a: 1.111, b: 2.222 }))).toBe(3.33);
      expect(await c.add(1, kw({ b: 2 }))).toBe(3);
      expect(await c.describe(kw({ prefix: "p" }))).toBe("p:2");
      await c.release();
    });

    it("rejects an unknown keyword with Python's TypeError, and the function still works", async () => {
      const error = expectPythonError(await rejectionOf(calc.scale(1, kw({ nope: 1 }))), "TypeError");
      expect(error.message).toContain("nope");
      expect(await calc.scale(1, kw({ factor: 2 }))).toBe(2);
    });
  });

  describe("release", () => {
    // Invariant: after release, every use of the proxy rejects with
    // ESEM_RELEASED, a second release is quiet, and other proxies still work.

    it("rejects calls and attribute reads on a proxy released with obj.release()", async () => {
      const c = await calc.Calculator(2);
      await c.release();
      const callError = expectBridgeError(await rejectionOf(c.add(1, 2)), "ESEM_RELEASED");
      expect(callError.message.length).toBeGreaterThan(0);
      expectBridgeError(await rejectionOf(c.precision), "ESEM_RELEASED");
      const other = await calc.Calculator(2);
      expect(await other.add(1, 2)).toBe(3);
      await other.release();
    });

    it("rejects calls on a proxy released with release(obj)", async () => {
      const c = await calc.Calculator(2);
      await release(c);
      expectBridgeError(await rejectionOf(c.add(1, 2)), "ESEM_RELEASED");
      expect(await calc.add(1, 2)).toBe(3);
    });

    it("resolves quietly when a proxy is released twice, by either form", async () => {
      const c = await calc.Calculator(2);
      await c.release();
      await expect(c.release()).resolves.toBeUndefined();
      await expect(release(c)).resolves.toBeUndefined();
    });

    it("releases through Symbol.asyncDispose", async () => {
      const c = await calc.Calculator(2);
      await c[Symbol.asyncDispose]();
      expectBridgeError(await rejectionOf(c.add(1, 2)), "ESEM_RELEASED");
    });

    it("rejects passing a released proxy back to Python", async () => {
      const box = await ident.Box("gone");
      await release(box);
      expectBridgeError(await rejectionOf(ident.label_of(box)), "ESEM_RELEASED");
      expect(await ident.is_same(1, 1)).toBe(true);
    });

    it("leaves obj.release to a Python attribute named release, while release(obj) stays the bridge's", async () => {
      const res = await ident.Resource();
      expect(await res.release()).toBe("python release");
      expect(await res.released_by_python).toBe(true);
      await release(res);
      expectBridgeError(await rejectionOf(res.released_by_python), "ESEM_RELEASED");
    });
  });

  describe("identity of objects passed back", () => {
    // Invariant: a proxy passed as an argument is the original Python object.

    it("gives Python the same object when a proxy is passed back", async () => {
      const a = await ident.Box("a");
      const b = await ident.Box("b");
      expect(await ident.is_same(a, a)).toBe(true);
      expect(await ident.is_same(a, b)).toBe(false);
      expect(await ident.label_of(b)).toBe("b");
      await release(a);
      await release(b);
    });

    it("lets Python mutate the original object through a proxy argument", async () => {
      const box = await ident.Box("m");
      expect(await ident.put_into(box, "x")).toBe(1);
      expect(await box.put("y")).toBe(2);
      expect(await box.items).toEqual(["x", "y"]);
      await release(box);
    });

    it("passes a proxy from one module to a function of another", async () => {
      const tools = await bridge.python(fixture("counter", "tools.py"));
      const counter = await tools.Counter(1);
      expect(await tools.bump(counter, 4)).toBe(5);
      expect(await counter.value).toBe(5);
      await release(counter);
    });

    it("passes a proxy nested inside an array or object as the original", async () => {
      const box = await ident.Box("n");
      const values = await bridge.python(fixture("values.py"));
      expect(await ident.is_box(box)).toBe(true);
      expect(await values.type_names([box], { box })).toEqual(["list", "dict"]);
      expect(await ident.is_same(box, (await values.echo([box]))[0])).toBe(true);
      await release(box);
    });

    it("does not let a plain object stand in for a Python object", async () => {
      expect(await ident.is_box({ label: "fake", items: [] })).toBe(false);
    });
  });

  describe("iteration", () => {
    it("iterates a Python iterable with for await", async () => {
      const r = await ident.make_range(3);
      const seen: unknown[] = [];
      for await (const x of r) seen.push(x);
      expect(seen).toEqual([0, 1, 2]);
    });

    it("iterates a generator with iterate()", async () => {
      const gen = await ident.count_up(4);
      const seen: unknown[] = [];
      for await (const x of iterate(gen)) seen.push(x);
      expect(seen).toEqual([0, 1, 2, 3]);
    });
  });

  describe("loading files and modules", () => {
    it("returns the same Python module when a spec is loaded twice", async () => {
      const token = `token-${mode}-${Math.random()}`;
      const first = await bridge.python(fixture("state.py"));
      const second = await bridge.python(fixture("state.py"));
      await first.set_value(token);
      expect(await second.get_value()).toBe(token);
    });

    it("treats ./x.py and its absolute path as the same module", async () => {
      const token = `relative-${mode}-${Math.random()}`;
      const absolute = await bridge.python(fixture("state.py"));
      const relative = await bridge.python(relativeToCwd(fixture("state.py")));
      await relative.set_value(token);
      expect(await absolute.get_value()).toBe(token);
    });

    it("loads two files with the same basename in different folders as different modules", async () => {
      const a = await bridge.python(fixture("a", "utils.py"));
      const b = await bridge.python(fixture("b", "utils.py"));
      expect(await a.which()).toBe("a");
      expect(await b.which()).toBe("b");
      expect(await a.which()).toBe("a");
    });

    it("lets a loaded file import its sibling modules", async () => {
      const main = await bridge.python(fixture("pkgdemo", "main.py"));
      expect(await main.greet("you")).toBe("HELLO YOU!");
    });
  });

  describe("bridge object", () => {
    it("reports the mode it was created with", async () => {
      expect(bridge.mode).toBe(mode);
      expect(bridge.info().mode).toBe(mode);
    });

    it("keeps ensureWorker() from 0.1 as an exported function", () => {
      expect(typeof ensureWorker).toBe("function");
    });
  });

  describe("what the bridge keeps for itself", () => {
    it("gives a class's own classmethod release when the Python class defines one", async () => {
      expect(await ident.Pool.release()).toBe("class release");
    });

    it("refuses release() on an attribute's proxy, which is not an object of its own, and keeps the object", async () => {
      const c = await calc.Calculator(2);
      await expect(release(c.add)).rejects.toThrow(/not one of its attributes \(add\)/);
      expect(await c.add(1, 2)).toBe(3);
      await release(c);
    });

    it("drops the Python object on release(), before any later call of the bridge runs", async () => {
      const tracked = await bridge.python(fixture("tracked.py"));
      const before = await tracked.live();
      const t = await tracked.Tracked(1);
      expect(await tracked.live()).toBe(before + 1);
      await release(t);
      expect(await tracked.live()).toBe(before);
    });

    it("names the helper the user called when its argument is not a proxy", async () => {
      await expect(len({} as any)).rejects.toThrow("len() takes a proxy of a Python object");
      await expect(getitem([] as any, 0)).rejects.toThrow("getitem() takes a proxy of a Python object");
    });
  });
});
