// Exact types (issue 8 items 3 and 4, docs/types.md): values that are not
// exact builtins convert by esem_bridge.ops.plain_form in both modes, and
// toJs() makes any Python object plain. The same cases on every backend.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createBridge, toJs, PythonError } from "../src/index.ts";
import { rootOf } from "../src/proxy.ts";
import { BACKENDS, skipReason, fixture, rejectionOf, expectPythonError } from "./helpers.ts";

/**
 * A value with its JS kinds spelled out, so toEqual tells a Buffer from a
 * Uint8Array and a proxy from an object, and a failure message never reads
 * a proxy's Python attributes.
 */
function shown(x: unknown): unknown {
  if (rootOf(x)) return "<proxy>";
  if (Buffer.isBuffer(x)) return { buffer: [...x] };
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
    const t = x as unknown as ArrayLike<unknown> & { shape?: number[]; dtype?: string };
    return { typed: Object.prototype.toString.call(x).slice(8, -1), values: Array.from(t), shape: t.shape, dtype: t.dtype };
  }
  if (x instanceof Date) return { date: x.getTime() };
  if (x instanceof Map) return { map: [...x].map(([k, v]) => [shown(k), shown(v)]) };
  if (x instanceof Set) return { set: [...x].map(shown) };
  if (Array.isArray(x)) return x.map(shown);
  if (x !== null && typeof x === "object") {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, shown(v)]));
  }
  return x;
}

function typed(kind: string, values: unknown[], shape: number[], dtype: string) {
  return { typed: kind, values, shape, dtype };
}

describe.each(BACKENDS)("exact types on the %s backend", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`are not tested: ${reason}`, () => {});
    return;
  }

  let bridge: ReturnType<typeof createBridge>;
  let t: any;

  beforeAll(async () => {
    bridge = createBridge({ mode });
    t = await bridge.python(fixture("exact_types.py"));
  });

  afterAll(async () => {
    await bridge?.shutdown();
  });

  describe("results", () => {
    it("returns Enum members of every kind as their values", async () => {
      expect(shown(await t.enums())).toEqual(["red", [1, 2], 3, "fast", 6]);
    });

    it("returns Enum dict keys as their values", async () => {
      expect(shown(await t.enum_keys())).toEqual({ map: [["fast", 1], [3, 2]] });
    });

    it("returns subclasses of builtins as their base, ignoring their overrides", async () => {
      expect(shown(await t.subclasses())).toEqual({
        tags: ["a", "b"],
        name: "n",
        ordered: { z: 1, a: 2 },
        counter: { a: 2, b: 1 },
        frozen: { set: [1] },
      });
    });

    it("returns a Decimal as the string of its exact digits", async () => {
      expect(shown(await t.decimals())).toEqual(["0.1", "-1.500", "1E+30", "12345678901234567890.123456789", "NaN"]);
    });

    it("returns a complex as an object of real and imag", async () => {
      expect(shown(await t.complexes())).toEqual([{ real: 3, imag: 4 }, { real: -0, imag: Infinity }]);
    });

    it("returns datetimes as Dates, dates and times as ISO strings and timedeltas as milliseconds", async () => {
      const ms = Date.UTC(2024, 4, 6, 7, 8, 9, 123);
      expect(shown(await t.dates())).toEqual({
        datetime: { date: ms },
        naive: { date: ms },
        date: "2024-01-02",
        time: "03:04:05.000600",
        aware_time: "03:04:00-05:00",
        timedelta: 86_400_001.5,
        negative: -2000,
      });
    });

    it("returns memoryviews as bytes or as the TypedArray of their format and shape", async () => {
      expect(shown(await t.memoryviews())).toEqual({
        bytes: { buffer: [97, 98] },
        ints: typed("Int32Array", [1, -2, 3, 4, 5, 6], [2, 3], "int32"),
        doubles: typed("Float64Array", [1.5, 2.5], [2], "float64"),
        strided: typed("Int16Array", [1, 3], [2], "int16"),
      });
    });

    it("returns array.array as the TypedArray of its typecode", async () => {
      expect(shown(await t.arrays())).toEqual({
        d: typed("Float64Array", [0.5], [1], "float64"),
        q: typed("BigInt64Array", [-(2n ** 40n)], [1], "int64"),
        B: { buffer: [7, 8] },
        u: "hé",
      });
    });

    it("returns named tuples and dataclass instances as proxies", async () => {
      const [point, pair] = await t.named_tuples();
      expect(shown([point, pair])).toEqual(["<proxy>", "<proxy>"]);
      expect(await point.x).toBe(1);
      expect(await pair.right).toBe(4);
      const item = await t.item();
      expect(shown(item)).toBe("<proxy>");
      expect(await item.name).toBe("pen");
    });

    it("returns numeric numpy arrays as TypedArrays, contiguous and in native order", async () => {
      expect(shown(await t.ndarrays())).toEqual({
        grid: typed("Int32Array", [0, 1, 2, 3, 4, 5], [2, 3], "int32"),
        flags: typed("Uint8Array", [1, 0, 1], [3], "bool"),
        half: typed("Float32Array", [1.5, -2], [2], "float16"),
        transposed: typed("Float64Array", [0, 3, 1, 4, 2, 5], [3, 2], "float64"),
        big_endian: typed("Uint16Array", [1, 2], [2], "uint16"),
        scalar: typed("Float64Array", [2.5], [], "float64"),
      });
    });

    it("returns numpy scalars as their item and other numpy arrays as proxies", async () => {
      expect(shown(await t.numpy_scalars())).toEqual([-3, 2n ** 64n - 1n, 0.5, true, "s"]);
      expect(shown(await t.other_ndarrays())).toEqual(["<proxy>", "<proxy>"]);
    });
  });

  describe("arrays sent back", () => {
    it("sends a TypedArray with a shape (a returned 2-D array, or one made in JS) to Python as an ndarray of that shape", async () => {
      const { grid } = await t.ndarrays();
      expect(await t.describe(grid)).toEqual({ type: "ndarray", dtype: "int32", shape: [2, 3], values: [[0, 1, 2], [3, 4, 5]] });
      const made = Object.assign(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] });
      expect(await t.describe(made)).toEqual({ type: "ndarray", dtype: "float64", shape: [2, 2], values: [[1, 2], [3, 4]] });
      const joined = await t.concatenate(grid, grid);
      expect(shown(joined)).toEqual(typed("Int32Array", [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5], [2, 6], "int32"));
    });
  });

  describe("toJs()", () => {
    it("makes a dataclass, its named tuples and its Decimals plain", async () => {
      expect(shown(await toJs(await t.item()))).toEqual({ name: "pen", tags: ["a", "b"], price: "1.10", point: { x: 1, y: 2 } });
    });

    it("makes an object with a __dict__ its public attributes", async () => {
      expect(shown(await toJs(await t.account()))).toEqual({ owner: "ada", opened: "2020-02-29" });
    });

    it("makes an iterable an array", async () => {
      expect(await toJs(await t.generator())).toEqual([0, 1, 4, 9]);
    });

    it("converts as many levels as depth says and leaves the rest as proxies", async () => {
      const chain = await t.chain();
      const one = (await toJs(chain, { depth: 1 })) as { name: string; child: any };
      expect(one.name).toBe("a");
      expect(shown(one.child)).toBe("<proxy>");
      expect(await one.child.name).toBe("b");
      expect(shown(await toJs(chain, { depth: 2 }))).toEqual({ name: "a", child: { name: "b", child: "<proxy>" } });
      expect(shown(await toJs(chain))).toEqual({ name: "a", child: { name: "b", child: { name: "c", child: null } } });
    });

    it("leaves a value that contains itself as a proxy instead of looping", async () => {
      const out = (await toJs(await t.cycle())) as { child: { child: any } };
      expect(shown(out)).toEqual({ name: "a", child: { name: "b", child: "<proxy>" } });
      expect(await out.child.child.name).toBe("a");
    });

    it("rejects with a TypeError naming the path under the error policy", async () => {
      const error = expectPythonError(await rejectionOf(toJs(await t.mixed(), { policy: "error" })), "TypeError");
      expect(error.message).toContain("value.fn");
    });

    it("gives str() of what it cannot make plain under the string policy", async () => {
      expect(shown(await toJs(await t.mixed(), { policy: "string" }))).toEqual({
        items: [{ name: "x", tags: [3], price: "0", point: null }],
        when: "2021-03-04",
        fn: "<built-in function len>",
      });
    });

    it("converts the attribute a member proxy names", async () => {
      const item = await t.item();
      expect(await toJs(item.point)).toEqual({ x: 1, y: 2 });
    });

    it("returns a value that is not a proxy as it is", async () => {
      const plain = { a: 1 };
      expect(await toJs(plain)).toBe(plain);
      expect(await toJs(5)).toBe(5);
    });

    it("rejects options it does not know before calling Python", async () => {
      const item = await t.item();
      await expect(toJs(item, { depth: -1 })).rejects.toThrow(TypeError);
      await expect(toJs(item, { policy: "drop" as never })).rejects.toThrow(TypeError);
      expect(await rejectionOf(toJs(item, { depth: 1.5 }))).not.toBeInstanceOf(PythonError);
    });
  });
});
