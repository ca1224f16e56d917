// Value conversions (SPEC §3, §9), the same cases on every backend.
import { createHash } from "node:crypto";
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createBridge, kw, opts } from "../src/index.ts";
import { BACKENDS, skipReason, fixture, rejectionOf, expectBridgeError } from "./helpers.ts";

describe.each(BACKENDS)("values on the %s backend", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`are not tested: ${reason}`, () => {});
    return;
  }

  let bridge: ReturnType<typeof createBridge>;
  let v: any;

  beforeAll(async () => {
    bridge = createBridge({ mode });
    v = await bridge.python(fixture("values.py"));
  });

  afterAll(async () => {
    await bridge?.shutdown();
  });

  describe("lists of ints and of floats (16 or more cross as one packed block: docs/protocol.md)", () => {
    it("keep every value and type both ways, at and around the edges", async () => {
      const packed = Array.from({ length: 16 }, (_, i) => i - 8);
      expect(await v.echo(packed)).toEqual(packed);
      expect(await v.item_types(packed)).toEqual(Array(16).fill("int"));
      const extremes = [-2147483648, 2147483647, 2147483648, -2147483649, 2 ** 53 - 1, 0.5, -0, NaN, 1, 2, 3, 4, 5, 6, 7, 8];
      const back = await v.echo(extremes);
      expect(back.map((x: number) => (Object.is(x, -0) ? "-0" : x))).toEqual(extremes.map((x) => (Object.is(x, -0) ? "-0" : x)));
      expect(await v.item_types(extremes)).toEqual(["int", "int", "int", "int", "int", "float", "float", "float", ...Array(8).fill("int")]);
      expect(await v.item_types([...packed.slice(0, 15), true])).toEqual([...Array(15).fill("int"), "bool"]);
      const holes = new Array(20).fill(1);
      delete holes[3];
      expect(await v.item_types(holes)).toEqual([...Array(3).fill("int"), "NoneType", ...Array(16).fill("int")]);
      const lists = await v.int_lists();
      expect(lists.packed).toEqual(packed);
      expect(lists.extremes).toEqual(Array(8).fill([-2147483648, 2147483647]).flat());
      expect(lists.short).toEqual(Array.from({ length: 15 }, (_, i) => i));
      expect(lists.wide.at(-1)).toBe(2147483648);
      expect(lists.bool.at(-1)).toBe(true);
      expect(lists.tuple).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(lists.big.length).toBe(200000);
      expect(lists.big[199999]).toBe(199999);
      const floats = Array.from({ length: 16 }, (_, i) => i + 0.5);
      expect(await v.echo(floats)).toEqual(floats);
      expect(await v.item_types(floats)).toEqual(Array(16).fill("float"));
      const special = [NaN, Infinity, -Infinity, -0, ...floats.slice(4)];
      const specialBack = await v.echo(special);
      expect([Number.isNaN(specialBack[0]), specialBack[1], specialBack[2], Object.is(specialBack[3], -0)]).toEqual([true, Infinity, -Infinity, true]);
      expect(await v.item_types(special)).toEqual(Array(16).fill("float"));
      expect(await v.item_types([...floats.slice(0, 15), 1])).toEqual([...Array(15).fill("float"), "int"]);
      const fl = await v.float_lists();
      expect(fl.packed).toEqual(floats);
      expect(fl.integral).toEqual(Array.from({ length: 16 }, (_, i) => i));
      expect(Object.is(fl.special[3], -0) && Number.isNaN(fl.special[4])).toBe(true);
      expect(fl.with_int.at(-1)).toBe(1);
      const big = Array.from({ length: 300000 }, (_, i) => (i % 2 ? i : -i));
      expect(await v.echo(big)).toEqual(big);
      expect(await v.echo({ xs: packed, nested: [packed, [packed]] })).toEqual({ xs: packed, nested: [packed, [packed]] });
    });
  });

  describe("None and booleans", () => {
    it("returns null for None", async () => {
      expect(await v.echo(null)).toBeNull();
    });

    it("sends null and undefined as None", async () => {
      expect(await v.type_name(null)).toBe("NoneType");
      expect(await v.type_name(undefined)).toBe("NoneType");
    });

    it("keeps booleans as booleans both ways", async () => {
      expect(await v.echo(true)).toBe(true);
      expect(await v.echo(false)).toBe(false);
      expect(await v.type_name(true)).toBe("bool");
    });
  });

  describe("integers", () => {
    it("sends an integral JS number as a Python int", async () => {
      expect(await v.type_name(3)).toBe("int");
      expect(await v.type_name(-42)).toBe("int");
      expect(await v.type_name(0)).toBe("int");
    });

    it("sends a fractional JS number as a Python float", async () => {
      expect(await v.type_name(1.5)).toBe("float");
    });

    it("sends -0 as a float negative zero, not as the int 0", async () => {
      expect(await v.type_name(-0)).toBe("float");
      expect(await v.is_negative_zero(-0)).toBe(true);
    });

    it("returns ints within ±(2^53−1) as numbers", async () => {
      expect(await v.max_safe()).toBe(Number.MAX_SAFE_INTEGER);
      expect(await v.min_safe()).toBe(Number.MIN_SAFE_INTEGER);
      expect(await v.echo(7)).toBe(7);
    });

    it("returns ints beyond 2^53−1 as exact bigints", async () => {
      expect(await v.just_past_safe()).toBe(2n ** 53n);
      expect(await v.big()).toBe(2n ** 100n);
      expect(await v.negative_big()).toBe(-(2n ** 70n));
    });

    it("sends a bigint as an exact Python int", async () => {
      expect(await v.type_name(5n)).toBe("int");
      expect(await v.int_text(2n ** 100n)).toBe(String(2n ** 100n));
      expect(await v.int_text(-(2n ** 70n))).toBe(String(-(2n ** 70n)));
    });

    it("round-trips large bigints without losing precision", async () => {
      expect(await v.echo(2n ** 100n)).toBe(2n ** 100n);
      expect(await v.echo(-(2n ** 70n))).toBe(-(2n ** 70n));
    });

    it("returns a small bigint as a number, because Python ints carry no JS type", async () => {
      expect(await v.echo(5n)).toBe(5);
    });
  });

  describe("floats", () => {
    it("returns NaN, ±Infinity and −0 from Python", async () => {
      const [nan, inf, negInf, negZero] = await v.special_floats();
      expect(Number.isNaN(nan)).toBe(true);
      expect(inf).toBe(Infinity);
      expect(negInf).toBe(-Infinity);
      expect(Object.is(negZero, -0)).toBe(true);
    });

    it("sends NaN and ±Infinity to Python as floats", async () => {
      expect(await v.is_nan(NaN)).toBe(true);
      expect(await v.type_name(Infinity)).toBe("float");
      expect(await v.echo(Infinity)).toBe(Infinity);
      expect(await v.echo(-Infinity)).toBe(-Infinity);
    });

    it("round-trips NaN and −0", async () => {
      expect(Number.isNaN(await v.echo(NaN))).toBe(true);
      expect(Object.is(await v.echo(-0), -0)).toBe(true);
    });

    it("round-trips an ordinary float exactly", async () => {
      expect(await v.echo(0.1 + 0.2)).toBe(0.1 + 0.2);
      expect(await v.echo(1.5)).toBe(1.5);
    });
  });

  describe("strings", () => {
    it("round-trips astral characters as one code point each in Python", async () => {
      const text = "😀𝄞";
      expect(await v.echo(text)).toBe(text);
      expect(await v.py_len(text)).toBe(2);
      expect(await v.astral()).toBe(text);
    });

    it("round-trips strings that contain NUL", async () => {
      expect(await v.echo("a\0b")).toBe("a\0b");
      expect(await v.py_len("a\0b")).toBe(3);
      expect(await v.with_nul()).toBe("a\0b");
    });

    it("round-trips the empty string", async () => {
      expect(await v.echo("")).toBe("");
    });
  });

  describe("bytes", () => {
    it("returns bytes as a Buffer with the same content", async () => {
      const result = await v.some_bytes();
      expect(result).toBeInstanceOf(Uint8Array);
      expect(Buffer.isBuffer(result)).toBe(true);
      expect([...result]).toEqual([0, 1, 0xfe, 0xff]);
    });

    it("returns a bytearray as a Buffer", async () => {
      const result = await v.some_bytearray();
      expect(result).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(result).toString("latin1")).toBe("xyz");
    });

    it("sends a Buffer and a Uint8Array as bytes", async () => {
      expect(await v.type_name(Buffer.from([1, 2, 3]))).toBe("bytes");
      expect(await v.type_name(new Uint8Array([1, 2, 3]))).toBe("bytes");
      expect(await v.byte_list(new Uint8Array([0, 128, 255]))).toEqual([0, 128, 255]);
    });

    it("round-trips a Uint8Array's content", async () => {
      const result = await v.echo(new Uint8Array([9, 0, 255]));
      expect(result).toBeInstanceOf(Uint8Array);
      expect([...result]).toEqual([9, 0, 255]);
    });
  });

  describe("containers", () => {
    it("returns lists and tuples as arrays, nested ones included", async () => {
      expect(await v.echo([1, "two", null])).toEqual([1, "two", null]);
      expect(await v.some_tuple()).toEqual([1, "two", [3.5, null]]);
    });

    it("sends an array as a list", async () => {
      expect(await v.type_name([1, 2])).toBe("list");
      expect(await v.py_len([1, 2, 3])).toBe(3);
    });

    it("returns a str-keyed dict as a plain object", async () => {
      const result = await v.nested();
      expect(result).toEqual({ name: "x", items: [1, 2, { deep: true }], none: null });
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(result.items[2])).toBe(Object.prototype);
    });

    it("sends a plain object as a dict with the same keys", async () => {
      expect(await v.type_name({ a: 1 })).toBe("dict");
      expect(await v.dict_keys({ b: 1, a: 2 })).toEqual(["a", "b"]);
      expect(await v.echo({ a: [1, { b: "c" }] })).toEqual({ a: [1, { b: "c" }] });
    });
  });

  describe("numpy scalars", () => {
    it("become numbers and booleans", async (ctx) => {
      const hasNumpy = await v.has_numpy();
      if (!hasNumpy) ctx.skip("numpy is not installed for the bridge's interpreter");
      const [i64, f32, flag] = await v.numpy_scalars();
      expect(i64).toBe(5);
      expect(f32).toBe(1.5);
      expect(flag).toBe(true);
    });
  });

  describe("standard library modules", () => {
    it("calls json.dumps, math.sqrt and os.path.join by module name", async () => {
      const json = await bridge.python("json");
      const math = await bridge.python("math");
      const osPath = await bridge.python("os.path");
      expect(await json.dumps({ a: [1, 2] })).toBe('{"a": [1, 2]}');
      expect(await math.sqrt(16)).toBe(4);
      expect(await osPath.join("a", "b")).toBe("a/b");
    });

    it("reads a module constant lazily by awaiting it", async () => {
      const math = await bridge.python("math");
      expect(await math.pi).toBeCloseTo(Math.PI, 12);
    });
  });

  describe("many concurrent calls", () => {
    // Module functions may run side by side on the bridge's spare threads
    // when the one running looks stuck (docs/concurrency.md), which a busy
    // machine can make happen mid-burst: the settle order is checked on a
    // bridge with threads: 1, where calls run strictly one at a time.
    it.each([
      ["the default threads", undefined],
      ["threads: 1, in the order they were made", 1],
    ])("resolves 10 000 concurrent calls, each with its own result (%s)", async (_name, threads) => {
      const own = threads === undefined ? undefined : createBridge({ mode, threads });
      try {
        const target = own ? await own.python(fixture("values.py")) : v;
        const count = 10_000;
        const settleOrder: number[] = [];
        const results = await Promise.all(
          Array.from({ length: count }, (_, i) =>
            target.add_one(i).then((value: number) => {
              settleOrder.push(i);
              return value;
            }),
          ),
        );
        expect(results).toHaveLength(count);
        if (own) expect(settleOrder.every((n, index) => n === index), "calls settle in the order they were made").toBe(true);
        for (let i = 0; i < count; i++) {
          if (results[i] !== i + 1) expect(results[i], `result ${i}`).toBe(i + 1);
        }
      } finally {
        await own?.shutdown();
      }
    });
  });

  describe("unsupported values", () => {
    // Invariant: a value that cannot be converted is rejected on the JS side,
    // before anything reaches Python, and the bridge stays usable.

    it("rejects a Symbol argument with ESEM_UNSUPPORTED_VALUE and sends nothing", async () => {
      const before = await v.calls();
      const error = await rejectionOf(v.echo(Symbol("nope")));
      expectBridgeError(error, "ESEM_UNSUPPORTED_VALUE");
      expect((error as Error).message).toContain("args[0]");
      expect(await v.calls()).toBe(before);
      expect(await v.echo("still works")).toBe("still works");
    });

    it("rejects a circular object argument with ESEM_UNSUPPORTED_VALUE and sends nothing", async () => {
      const before = await v.calls();
      const circular: Record<string, unknown> = { name: "loop" };
      circular.self = circular;
      const error = await rejectionOf(v.echo(circular));
      expectBridgeError(error, "ESEM_UNSUPPORTED_VALUE");
      expect(await v.calls()).toBe(before);
      expect(await v.echo({ name: "fine" })).toEqual({ name: "fine" });
    });

    it("names the path of a bad value nested deep in an argument", async () => {
      const before = await v.calls();
      const error = await rejectionOf(v.record(1, { user: { tags: ["a", "b", Symbol("bad")] } }));
      expectBridgeError(error, "ESEM_UNSUPPORTED_VALUE");
      expect((error as Error).message).toContain("args[1].user.tags[2]");
      expect(await v.calls()).toBe(before);
      expect(await v.record(1, { user: { tags: ["a"] } })).toBe(2);
    });
  });

  describe("byte-order marks", () => {
    // A U+FEFF at the start of a string is a character like any other: no
    // decoder may strip it (issue 7, defect 10).
    const samples = ["\uFEFFx", "\uFEFF", "a\uFEFFb", "\uFEFF\uFEFF", "\uFEFF" + "y".repeat(60), "\uFEFF\u00e9"];

    it("round-trips strings that begin with, are, or contain U+FEFF", async () => {
      for (const s of samples) {
        expect(await v.echo(s)).toBe(s);
        expect(await v.py_len(s)).toBe(s.length);
      }
    });

    it("keeps U+FEFF in strings nested in arrays, object values and object keys", async () => {
      const nested = { list: samples, map: new Map([["\uFEFFk", "\uFEFFv"]]), "\uFEFFkey": "\uFEFF" };
      const back = await v.echo(nested);
      expect(back.list).toEqual(samples);
      expect(back["\uFEFFkey"]).toBe("\uFEFF");
      expect(back.map).toEqual({ "\uFEFFk": "\uFEFFv" });
      expect(await v.dict_keys({ "\uFEFFa": 1 })).toEqual(["\uFEFFa"]);
    });
  });

  describe("values that are not plain data", () => {
    // SPEC §3: they reject with ESEM_UNSUPPORTED_VALUE naming the path, the
    // same in both modes and on both native value paths (issue 7, defect 12).
    class Point {
      constructor(public x = 1) {}
    }
    const kinds: [string, () => unknown, RegExp][] = [
      ["a class instance", () => new Point(), /an instance of class Point/],
      ["an object whose prototype is another object", () => Object.create({ inherited: 1 }), /an object with a custom prototype/],
      ["a RegExp", () => /ab+c/g, /a RegExp/],
      ["an Error", () => new Error("boom"), /an Error/],
      ["an Error subclass", () => new TypeError("boom"), /an Error/],
      ["a Promise", () => Promise.resolve(1), /a Promise/],
      ["a WeakMap", () => new WeakMap(), /a WeakMap/],
      ["a WeakSet", () => new WeakSet(), /a WeakSet/],
      ["a WeakRef", () => new WeakRef({}), /an instance of class WeakRef/],
      ["a boxed number", () => new Number(1), /a boxed primitive/],
      ["a boxed string", () => new String("s"), /a boxed primitive/],
      ["a boxed boolean", () => new Boolean(false), /a boxed primitive/],
      ["a boxed bigint", () => Object(1n), /a boxed primitive/],
      ["a SharedArrayBuffer", () => new SharedArrayBuffer(8), /a SharedArrayBuffer/],
    ];

    it.each(kinds)("rejects %s at the top level, naming args[i]", async (_name, make, what) => {
      const before = await v.calls();
      const error = expectBridgeError(await rejectionOf(v.record(1, make())), "ESEM_UNSUPPORTED_VALUE");
      expect(error.message).toMatch(/^args\[1\] is /);
      expect(error.message).toMatch(what);
      expect(await v.calls()).toBe(before);
      expect(await v.echo(2)).toBe(2);
    });

    it.each(kinds)("rejects %s nested in arrays and objects, naming its path", async (_name, make, what) => {
      const before = await v.calls();
      const error = expectBridgeError(await rejectionOf(v.record(0, { user: { tags: ["a", "b", make()] } })), "ESEM_UNSUPPORTED_VALUE");
      expect(error.message).toMatch(/^args\[1\]\.user\.tags\[2\] is /);
      expect(error.message).toMatch(what);
      const inKw = expectBridgeError(await rejectionOf(v.record(kw({ deep: [make()] }))), "ESEM_UNSUPPORTED_VALUE");
      expect(inKw.message).toMatch(/^kwargs\.deep\[0\] is /);
      expect(await v.calls()).toBe(before);
      expect(await v.echo([3])).toEqual([3]);
    });

    it("still sends null-prototype objects, Map and Set subclasses, and TypedArrays over shared memory", async () => {
      const bare = Object.assign(Object.create(null), { a: 1 });
      expect(await v.echo(bare)).toEqual({ a: 1 });
      class Registry extends Map<string, number> {}
      expect(await v.echo(new Registry([["k", 1]]))).toEqual({ k: 1 });
      const view = new Uint8Array(new SharedArrayBuffer(3));
      view.set([1, 2, 3]);
      expect([...(await v.echo(view))]).toEqual([1, 2, 3]);
    });
  });

  describe("keyword arguments from a Map", () => {
    it("passes kw(new Map(...)) as keyword arguments, the same in both modes", async () => {
      expect(await v.kwargs_of(kw(new Map([["a", 1], ["b", "two"]])))).toEqual({ a: 1, b: "two" });
      expect(await v.kwargs_of(5, kw(new Map([["c", [1]]])))).toEqual({ c: [1] });
      expect(await v.kwargs_of(kw({ d: 4 }))).toEqual({ d: 4 });
    });

    it("refuses kw() of anything but a plain object or a Map with string keys", () => {
      expect(() => kw(new Map([[1, 2]]) as any)).toThrow(TypeError);
      expect(() => kw([1] as any)).toThrow(TypeError);
      expect(() => kw(new Date() as any)).toThrow(TypeError);
    });
  });

  describe("a getter that calls Python while its argument is encoded", () => {
    // Encoding must be re-entrant (issue 7, defect 9): the getter's own call
    // and the outer call both settle with their own results.
    it("settles both the outer call and the call made inside the getter", async () => {
      let inner: Promise<unknown> | undefined;
      const arg = {
        get x() {
          inner = v.echo({ nested: "inner" });
          return 2;
        },
        y: ["after the getter"],
      };
      expect(await v.echo(arg)).toEqual({ x: 2, y: ["after the getter"] });
      expect(await inner).toEqual({ nested: "inner" });
      expect(await v.echo([1, { z: 3 }])).toEqual([1, { z: 3 }]);
    });
  });

  describe("large arguments (1 MiB of wire bytes or more: read in place in native mode, docs/architecture.md)", () => {
    const records = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ id: i, name: `${tag}-${i}`, tags: [tag, `t${i % 7}`] }));

    it("keep each call's own values when several are in flight at once", async () => {
      const sent = ["a", "b", "c"].map((tag) => records(40_000, tag));
      const back = await Promise.all(sent.map((rows) => v.echo(rows)));
      back.forEach((rows, k) => expect(rows).toEqual(sent[k]));
      expect(await v.echo(sent[0].slice(0, 3))).toEqual(sent[0].slice(0, 3)); // and the next small call
    });

    it("keep both when a getter inside a large argument makes a large call", async () => {
      let inner: Promise<unknown> | undefined;
      const innerRows = records(40_000, "inner");
      const outerRows: unknown[] = records(40_000, "outer");
      outerRows.push({
        get x() {
          inner = v.echo(innerRows);
          return "getter";
        },
      });
      const back = (await v.echo(outerRows)) as unknown[];
      expect(back.slice(0, -1)).toEqual(outerRows.slice(0, -1));
      expect(back.at(-1)).toEqual({ x: "getter" });
      expect(await inner).toEqual(innerRows);
    });

    it("keep a timed-out call's own values while Python still reads them, whatever the next call sends", async () => {
      // The timeout rejects at once; list.extend (C code) reads the argument
      // and keeps it all the same. The next large call must not be encoded
      // into the buffer that argument is still being read from.
      const mine = records(200_000, "mine");
      const next = records(200_000, "next");
      let read = 0; // rounds where the call ran (a cancel may also land before it starts)
      for (let round = 0; round < 4 && read < 2; round++) {
        const error = await rejectionOf(v.kept_rows.extend(mine, opts({ timeout: 1 })));
        expect(error).toMatchObject({ code: "ESEM_TIMEOUT" });
        expect(await v.type_name(next)).toBe("list");
        let kept: number[] = [0, 0];
        for (let i = 0; i < 50 && kept[0] === 0; i++) {
          kept = (await v.rows_kept_with("mine")) as number[];
          if (kept[0] === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        if (kept[0] === 0) continue;
        expect(kept).toEqual([200_000, 0]);
        read++;
      }
      // Native mode reads the argument before the timer fires: the rounds
      // must have run. The subprocess worker may get the cancel first (its
      // pure-Python codec reads 200 000 records for longer than 1 ms).
      if (mode === "native") expect(read).toBeGreaterThan(0);
    });

    it("keep working after a large call Python rejects", async () => {
      const rows = records(40_000, "r");
      const error = await rejectionOf(v.add_one(rows)); // list + 1
      expect(error).toMatchObject({ name: "PythonError(TypeError)" });
      expect(await v.echo(rows)).toEqual(rows);
    });
  });

  describe("more value kinds from the SPEC §3 table", () => {
    it("returns set and frozenset as Set, and sends a Set as set", async () => {
      expect(await v.some_set()).toEqual(new Set([1, 2, 3]));
      expect(await v.some_frozenset()).toEqual(new Set(["a"]));
      expect(await v.type_name(new Set([1]))).toBe("set");
    });

    it("returns a dict with non-str keys as a Map, and sends a Map as dict", async () => {
      expect(await v.int_keyed()).toEqual(new Map([[1, "one"], [2, "two"]]));
      expect(await v.type_name(new Map([["a", 1]]))).toBe("dict");
    });

    it("converts datetime and Date both ways as the same instant", async () => {
      const aware = await v.aware_datetime();
      expect(aware).toBeInstanceOf(Date);
      expect(aware.toISOString()).toBe("2020-01-02T03:04:05.006Z");
      const naive = await v.naive_datetime();
      expect(naive.toISOString()).toBe("2020-01-02T03:04:05.000Z");
      const when = new Date("2021-06-07T08:09:10.500Z");
      expect(await v.datetime_info(when)).toEqual(["datetime", true, when.getTime() / 1000]);
    });

    it("returns a memoryview as a Buffer, and sends an ArrayBuffer as bytes", async () => {
      const view = await v.some_memoryview();
      expect(view).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(view).toString()).toBe("mv");
      expect(await v.type_name(new Uint8Array([1, 2]).buffer)).toBe("bytes");
    });

    it("sends other TypedArrays as a memoryview with their element format", async () => {
      expect(await v.view_info(new Float64Array([1.5, 2]))).toEqual(["memoryview", "d", 8, [1.5, 2]]);
      expect(await v.view_info(new Int32Array([-1, 7]))).toEqual(["memoryview", "i", 4, [-1, 7]]);
    });

    it("returns numeric numpy arrays as TypedArrays with shape and dtype", async (ctx) => {
      if (!(await v.has_numpy())) ctx.skip("numpy is not installed for the bridge's interpreter");
      const [floats, int64s, int32s] = await v.numpy_arrays();
      // Checked by tag first: printing a proxy in a failure message would read Python attributes.
      expect(Object.prototype.toString.call(floats)).toBe("[object Float64Array]");
      expect(Object.prototype.toString.call(int64s)).toBe("[object BigInt64Array]");
      expect(Object.prototype.toString.call(int32s)).toBe("[object Int32Array]");
      expect([...floats]).toEqual([0, 1, 2, 3, 4, 5]);
      expect(floats.shape).toEqual([2, 3]);
      expect(floats.dtype).toBe("float64");
      expect([...int64s]).toEqual([1n, -2n]);
      expect(int32s.shape).toEqual([3]);
    });

    it("returns large arrays and bytes intact (the native mode hands them over without a copy)", async (ctx) => {
      const bytes = (await v.big_bytes(256 * 1024)) as Buffer;
      expect(Buffer.isBuffer(bytes)).toBe(true);
      expect(bytes.length).toBe(256 * 1024);
      expect(bytes[255]).toBe(255);
      expect(bytes[256 * 1024 - 1]).toBe(255);
      expect(Buffer.compare(await v.echo(bytes), bytes)).toBe(0);
      if (!(await v.has_numpy())) ctx.skip("numpy is not installed for the bridge's interpreter");
      const arr = (await v.big_array(100_000)) as Float64Array & { shape: number[] };
      expect(Object.prototype.toString.call(arr)).toBe("[object Float64Array]");
      expect(arr.length).toBe(100_000);
      expect(arr[99_999]).toBe(99_999);
      expect(arr.shape).toEqual([100_000]);
    });

    it("awaits an async def function and resolves with its result", async () => {
      expect(await v.async_double(21)).toBe(42);
    });

    // Payloads of 8 MiB or more are copied with streaming stores (native/copy_large.h): its head and tail are copied apart.
    it("copies 9 MiB payloads into Python byte for byte, from odd offsets and of odd lengths: a Buffer, a TypedArray, a shaped array", async (ctx) => {
      const sha = (view: ArrayBufferView) => createHash("sha256").update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).digest("hex");
      const whole = Buffer.alloc((9 << 20) + 64);
      for (let i = 0; i < whole.length; i++) whole[i] = (i * 131 + (i >> 12)) & 255;
      const buf = whole.subarray(5, 5 + (9 << 20) + 13);
      expect(await v.digest(buf)).toEqual(["bytes", sha(buf)]);
      const floats = new Float64Array(whole.buffer, whole.byteOffset + 24, (9 << 17) + 3);
      const [floatType, floatSum] = (await v.digest(floats)) as [string, string];
      expect(floatSum).toBe(sha(floats));
      expect(floatType).not.toBe("bytes");
      if (!(await v.has_numpy())) ctx.skip("numpy is not installed for the bridge's interpreter");
      const shaped = Object.assign(new Float32Array(whole.buffer, whole.byteOffset + 12, (9 << 18) + 6), { shape: [(9 << 17) + 3, 2] });
      expect(await v.digest(shaped)).toEqual(["ndarray", sha(shaped)]);
    });

    it("carries several large Buffers in one call, both ways, each whole and separate, and small calls after them", async () => {
      const a = Buffer.alloc(3 << 20, 0xa1);
      a[a.length - 1] = 1;
      const b = Buffer.alloc(5 << 20, 0xb2);
      expect(await v.type_names(a, "mid", b)).toEqual(["bytes", "str", "bytes"]);
      const back = (await v.echo([a, "mid", b, 7])) as [Buffer, string, Buffer, number];
      expect(back[1]).toBe("mid");
      expect(back[3]).toBe(7);
      expect(Buffer.isBuffer(back[0]) && Buffer.isBuffer(back[2])).toBe(true);
      expect(Buffer.compare(back[0], a)).toBe(0);
      expect(Buffer.compare(back[2], b)).toBe(0);
      back[0].fill(0); // the results are the caller's: writing one changes nothing else
      expect(Buffer.compare(back[2], b)).toBe(0);
      expect(a[0]).toBe(0xa1);
      expect(await v.py_len(b)).toBe(5 << 20);
      expect(await v.echo("small after")).toBe("small after");
    });
  });
});
