// Python's object model from JS (issue 10, docs/objects.md): with blocks,
// expressions and statements, attribute deletion, list(), callables of
// every kind, and exceptions as objects with their cause chain. One suite,
// both backends.
import { EventEmitter, once } from "node:events";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import {
  createBridge, kw, withContext, pyEval, pyExec, delattr, isinstance, toArray, release, PythonError, shutdown,
} from "../src/index.ts";
import { BACKENDS, skipReason, fixture, rejectionOf, expectPythonError } from "./helpers.ts";

describe.each(BACKENDS)("the object model on the %s backend", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }

  let bridge: ReturnType<typeof createBridge>;
  let m: any;
  let builtins: any;

  beforeAll(async () => {
    bridge = createBridge({ mode });
    m = await bridge.python(fixture("objects.py"));
    builtins = await bridge.python("builtins");
  });

  afterAll(async () => {
    await bridge?.shutdown();
  });

  beforeEach(async () => {
    await m.take_events();
  });

  describe("withContext(cm, fn)", () => {
    it("gives fn the __enter__ value, runs __exit__ after it, and resolves with fn's result", async () => {
      const seen: string[] = [];
      const result = await withContext(m.Resource("r"), async (value: string) => {
        seen.push(value, JSON.stringify(await m.take_events()));
        return value + "!";
      });
      expect(result).toBe("R!");
      expect(seen).toEqual(["R", JSON.stringify([["enter", "r"]])]);
      expect(await m.take_events()).toEqual([["exit", "r", null, null]]);
    });

    it("passes a JS error to __exit__ as JSError and rejects with the callback's own error", async () => {
      const thrown = new TypeError("boom");
      const error = await rejectionOf(withContext(m.Resource("s"), () => { throw thrown; }));
      expect(error).toBe(thrown);
      expect(await m.take_events()).toEqual([["enter", "s"], ["exit", "s", "JSError", "TypeError: boom"]]);
    });

    it("passes a PythonError's own exception object to __exit__", async () => {
      const error = await rejectionOf(withContext(m.Resource("p"), async () => { await m.raise_app_error(); }));
      expect((error as PythonError).pythonType).toBe("objects.AppError");
      expect(await m.take_events()).toEqual([["enter", "p"], ["exit", "p", "AppError", "('bad thing', 418)"]]);
    });

    it("resolves with undefined when __exit__ suppresses the exception", async () => {
      expect(await withContext(m.Resource("t", true), async () => { throw new Error("x"); })).toBeUndefined();
      expect(await m.take_events()).toEqual([["enter", "t"], ["exit", "t", "JSError", "Error: x"]]);
    });

    it("runs async context managers (__aenter__/__aexit__) and contextlib generators", async () => {
      expect(await withContext(m.AsyncResource(), (v: number) => v + 1)).toBe(43);
      expect(await withContext(m.managed(4), (v: number) => v)).toBe(8);
      expect(await m.take_events()).toEqual([["aenter"], ["aexit", null], ["gen-enter", 4], ["gen-exit", 4]]);
    });

    it("closes a file opened with open(), also when the callback throws", async () => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), "esem-with-")), "data.txt");
      writeFileSync(file, "hello");
      let handle: any;
      expect(await withContext(builtins.open(file), async (f: any) => { handle = f; return f.read(); })).toBe("hello");
      expect(await handle.closed).toBe(true);
      await rejectionOf(withContext(builtins.open(file, "w"), async (f: any) => {
        handle = f;
        await f.write("partial");
        throw new Error("stop");
      }));
      expect(await handle.closed).toBe(true);
      expect(readFileSync(file, "utf8")).toBe("partial");
    });

    it("rejects with the PythonError of an __exit__ that raises, and with TypeError for what is no context manager", async () => {
      expectPythonError(await rejectionOf(withContext(m.FailingExit(), () => 1)), "RuntimeError");
      const notCm = expectPythonError(await rejectionOf(withContext(m.make_holder(), () => 1)), "TypeError");
      expect(notCm.message).toMatch(/context manager protocol/);
      await expect(withContext({}, () => 1)).rejects.toThrow(TypeError);
      await expect(withContext(m.Resource("x"), undefined as never)).rejects.toThrow(/fn must be a function/);
      expect(await withContext(m.Resource("after"), () => "still works")).toBe("still works");
    });
  });

  describe("eval and exec", () => {
    it("binds JS values as real names: strings stay strings, proxies stay the objects", async () => {
      expect(await bridge.eval("a + b", { a: 1, b: 2 })).toBe(3);
      const tricky = `it's "quoted" \\ ${"${x}"} ) + 1`;
      expect(await bridge.eval("s", { s: tricky })).toBe(tricky);
      expect(await bridge.eval`${tricky} + ${"!"}`).toBe(tricky + "!");
      const holder = await m.make_holder();
      expect(await bridge.eval("type(h).__name__ + str(h.a)", { h: holder })).toBe("Holder1");
      expect(await bridge.eval`${holder} is ${holder}`).toBe(true);
      const back = await bridge.eval("h", { h: holder });
      expect(await bridge.eval("a is b", { a: holder, b: back })).toBe(true);
    });

    it("evaluates what JS has no syntax for: operators, comprehensions, slices", async () => {
      expect(await bridge.eval("[x * k for x in xs if x % 2]", { xs: [1, 2, 3, 4, 5], k: 10 })).toEqual([10, 30, 50]);
      expect(await bridge.eval`${[1, 2, 3, 4, 5]}[1:4:2]`).toEqual([2, 4]);
      expect(await bridge.eval("2 ** 100")).toBe(2n ** 100n);
      expect(await bridge.eval("{1, 2} | {3}")).toEqual(new Set([1, 2, 3]));
      expect(await bridge.eval("(lambda f: f(3))(g)", { g: (n: number) => n * 2 })).toBe(6);
    });

    it("runs statements in a namespace that persists and can be read back", async () => {
      const ns = await bridge.exec(`
        total = 1
        def add(n):
            global total
            total += n * factor
      `, { factor: 2 });
      await bridge.exec("add(n)", ns, { n: 5 });
      expect(await ns.total).toBe(11);
      expect(await bridge.eval("total + factor", ns)).toBe(13);
      expect(await bridge.eval("total * k", ns, { k: 2 })).toBe(22);
      expect(await bridge.eval("'k' in globals()", ns)).toBe(false); // eval's bound names do not stay
      const fresh = await bridge.exec("y = 1");
      expect(await bridge.eval("'total' in globals()", fresh)).toBe(false);
    });

    it("reports a syntax error, a bad name and a bad namespace clearly, and keeps working", async () => {
      const syntax = expectPythonError(await rejectionOf(bridge.eval("1 +")), "SyntaxError");
      expect(syntax.pythonTraceback).toContain("<esem eval>");
      expectPythonError(await rejectionOf(bridge.eval("nope + 1")), "NameError");
      expectPythonError(await rejectionOf(bridge.eval("1", { "not a name": 1 })), "ValueError");
      expectPythonError(await rejectionOf(bridge.exec("x = 1", await m.make_holder())), "TypeError");
      await expect(bridge.eval(42 as never)).rejects.toThrow(TypeError);
      expect(await bridge.eval("1 + 1")).toBe(2);
    });

    it("builtins.eval and exec without globals get a fresh namespace, as in Python", async () => {
      await builtins.exec("leak = 1");
      expectPythonError(await rejectionOf(builtins.eval("leak")), "NameError");
      expect(await builtins.eval("1 + 2")).toBe(3);
    });

    it("pyEval/pyExec run on the bridge of the proxies they are given", async () => {
      const holder = await m.make_holder();
      expect(await pyEval("h.b * 2", { h: holder })).toBe(4);
      const ns = await pyExec("z = h.a + 1", { h: holder });
      expect(await pyEval("z", ns)).toBe(2);
    });
  });

  describe("attributes", () => {
    it("deletes attributes with delete obj.name and delattr(), nested too", async () => {
      const h = await m.make_holder();
      expect(delete h.a).toBe(true);
      expectPythonError(await rejectionOf(h.a), "AttributeError");
      delete h.child.c;
      expectPythonError(await rejectionOf(h.child.c), "AttributeError");
      await delattr(h, "b");
      expectPythonError(await rejectionOf(h.b), "AttributeError");
      expectPythonError(await rejectionOf(delattr(h, "b")), "AttributeError");
      await expect(delattr({}, "x")).rejects.toThrow(TypeError);
    });

    it("keeps a deletion in order behind a blocked call on the same object", async () => {
      const slow = await m.Slow();
      const running = slow.set_after(0.3, 2);
      const deleted = delattr(slow, "x");
      expect(await running).toBe("done");
      await deleted;
      expectPythonError(await rejectionOf(slow.x), "AttributeError");
    });

    it("reads and calls through nested modules and objects", async () => {
      const os = await bridge.python("os");
      expect(await os.path.join("a", "b")).toBe("a/b");
      expect(await os.path.sep).toBe("/");
      const h = await m.make_holder();
      expect(await h.child.c).toBe(3);
    });

    it("np.linalg.norm([3, 4]) is 5 when numpy is there", async (ctx) => {
      const np = await bridge.python("numpy").catch(() => undefined);
      if (!np) return ctx.skip("numpy is not installed for the bridge's interpreter");
      expect(await np.linalg.norm([3, 4])).toBe(5);
    });
  });

  describe("toArray(iterable) and isinstance()", () => {
    it("makes an array of any iterable, sync or async, with proxies for objects", async () => {
      expect(await toArray(await m.numbers(4))).toEqual([0, 1, 2, 3]);
      expect(await toArray(await m.anumbers(3))).toEqual([0, 1, 2]);
      expect(await toArray(await builtins.range(3))).toEqual([0, 1, 2]);
      const objs = await toArray(await bridge.eval("iter([h, h])", { h: await m.make_holder() }));
      expect(await objs[0].a).toBe(1);
      expectPythonError(await rejectionOf(toArray(await m.make_holder())), "TypeError");
    });

    it("checks isinstance against a class or several", async () => {
      const p = await m.Point(1, 2);
      expect(await isinstance(p, m.Point)).toBe(true);
      expect(await isinstance(p, [m.Holder, m.Point])).toBe(true);
      expect(await isinstance(p, m.Holder)).toBe(false);
    });
  });

  describe("callables", () => {
    it("calls bound methods, lambdas, __call__ objects, static and class methods", async () => {
      expect(await (await m.bound_method())(1)).toBe(6);
      const lam = await m.make_lambda();
      expect(await lam(2)).toBe(20);
      expect(await lam(2, kw({ b: 3 }))).toBe(6);
      const adder = await m.Adder(10);
      expect(await adder(5)).toBe(15);
      expect(await (await m.Point.origin()).norm2()).toBe(0);
      expect(await (await m.Point.unit()).x).toBe(1);
    });

    it("makes instances of classes returned from functions, with or without new, with kw()", async () => {
      const Local = await m.make_class();
      expect(await (await new Local(2)).value()).toBe(2);
      expect(await (await Local(kw({ v: 1, w: 5 }))).value()).toBe(6);
      expect(await (await m.Point(1, 2, kw({ scale: 3 }))).norm2()).toBe(45);
    });

    it("answers .call, .apply and .bind as JS functions do", async () => {
      const lam = await m.make_lambda();
      expect(await lam.call(null, 2)).toBe(20);
      expect(await lam.apply(null, [2, 3])).toBe(6);
      expect(await lam.bind(null, 4)()).toBe(40);
      expect(await m.Point.call(null, 3, 4).then((p: any) => p.norm2())).toBe(25);
      const { take_events: takeEvents } = m;
      expect(await takeEvents.apply(undefined, [])).toEqual([]);
      const adder = await m.Adder(1);
      expect(await adder.add.call(adder, 1)).toBe(2);
      expect(await adder.add.bind(adder)(2)).toBe(3);
      const table = await m.Table();
      expect([await table.apply(1), await table.call(), await table.bind(2)]).toEqual(["python apply", "python call", "python bind 2"]);
    });

    it("work as EventEmitter listeners", async () => {
      const emitter = new EventEmitter();
      const adder = await m.Adder(1);
      const calls: Promise<unknown>[] = [];
      const seen: unknown[] = [];
      const record = (p: Promise<unknown>) => calls.push(p.then((v) => seen.push(v)));
      emitter.on("n", (x: number) => record(adder(x)));
      // A Python function and a method as the listeners themselves (EventEmitter calls them with .apply / Reflect.apply).
      const viaModule = m.Adder;
      const viaMethod = adder.add;
      emitter.on("n", (...args: unknown[]) => record(viaModule.apply(null, args)));
      emitter.on("n", (...args: unknown[]) => record(viaMethod.call(adder, ...args)));
      emitter.on("n", viaMethod);
      const ok = once(emitter, "n");
      emitter.emit("n", 41);
      await ok;
      await Promise.all(calls);
      expect(typeof seen[1]).toBe("function"); // Adder(41): a proxy of the new object
      expect([seen[0], seen[2]]).toEqual([42, 42]);
    });
  });

  describe("exceptions as objects", () => {
    it("turns raise X from Y into a cause chain of PythonErrors", async () => {
      const error = (await rejectionOf(m.raise_three())) as PythonError;
      expect(error).toBeInstanceOf(PythonError);
      expect(error.pythonType).toBe("objects.AppError");
      const mid = error.cause as PythonError;
      expect(mid).toBeInstanceOf(PythonError);
      expect([mid.pythonType, mid.message]).toEqual(["ValueError", "mid level"]);
      const low = mid.cause as PythonError;
      expect([low.pythonType, low.message, low.cause]).toEqual(["KeyError", "'low level'", undefined]);
      expect(error.pythonTraceback).toContain("direct cause");
      expect(low.pythonTraceback).not.toContain("direct cause");
    });

    it("follows an implicit chain (raised while handling), not one cut with from None", async () => {
      const during = (await rejectionOf(m.raise_during())) as PythonError;
      expect((during.cause as PythonError).pythonType).toBe("KeyError");
      const cut = (await rejectionOf(m.raise_suppressed())) as PythonError;
      expect(cut.cause).toBeUndefined();
    });

    it("reaches the exception object: attributes, args, isinstance", async () => {
      const error = (await rejectionOf(m.raise_app_error())) as PythonError;
      expect(await error.pythonException.code).toBe(418);
      expect(await error.pythonException.args).toEqual(["bad thing", 418]);
      expect(await isinstance(error.pythonException, m.AppError)).toBe(true);
      expect(await isinstance(error.pythonException, builtins.Exception)).toBe(true);
      expect(await isinstance(error.pythonException, builtins.KeyError)).toBe(false);
      expect(Object.keys(error)).not.toContain("pythonException");
      await release(error.pythonException);
    });

    it("names user exceptions module-qualified, nested classes included", async () => {
      const error = (await rejectionOf(m.raise_nested())) as PythonError;
      expect(error.pythonType).toBe("objects.Outer.Inner");
      expect(error.name).toBe("PythonError(objects.Outer.Inner)");
    });

    it("leaves the bridge's own frames out of tracebacks", async () => {
      const error = (await rejectionOf(m.raise_from())) as PythonError;
      expect(error.pythonTraceback).toContain("objects.py");
      expect(error.pythonTraceback).not.toMatch(/esem_bridge/);
      const missing = (await rejectionOf(bridge.eval("{}['k']"))) as PythonError;
      expect(missing.pythonTraceback).not.toMatch(/esem_bridge/);
      expect(missing.pythonTraceback).toContain("<esem eval>");
    });
  });
});

describe("pyEval and pyExec on the default bridge", () => {
  afterAll(async () => {
    await shutdown();
  });

  it("evaluate plain values without a proxy to pick a bridge", async () => {
    expect(await pyEval("sum(xs)", { xs: [1, 2, 3] })).toBe(6);
    expect(await pyEval`${"a"} * ${3}`).toBe("aaa");
    const ns = await pyExec`greeting = ${"hi"} + " there"`;
    expect(await ns.greeting).toBe("hi there");
  });
});
