// opts(): per-call options (docs/api.md#opts). result: "proxy" gives the
// live Python object instead of a copy, in both modes: a namespace dict
// made that way keeps what exec() defines in it.
import { describe, expect, it } from "vitest";
import { getitem, kw, len, opts, toJs } from "../src/index.ts";
import { BACKENDS, skipReason, withBridge } from "./helpers.ts";

describe("opts()", () => {
  it("throws a TypeError at once on an unknown option or value", () => {
    expect(() => opts({ retsult: "proxy" } as never)).toThrow(TypeError);
    expect(() => opts({ result: "copy" } as never)).toThrow(/result must be "value" or "proxy"/);
    expect(() => opts(null as never)).toThrow(TypeError);
  });
});

describe.each(BACKENDS)("opts({ result }) on the %s backend", (mode) => {
  it.skipIf(skipReason(mode))("keeps exec()'s definitions in a namespace asked for as a proxy, and reads them back", async () => {
    await withBridge(mode, async (bridge) => {
      const builtins = (await bridge.python("builtins")) as any;
      const ns = await builtins.dict(opts({ result: "proxy" }));
      expect(typeof ns).toBe("function"); // a proxy, not a plain object
      await builtins.exec("x = 40 + 2\ndef twice(v):\n    return 2 * v\n", ns);
      expect(await getitem(ns, "x")).toBe(42);
      expect(await (await getitem(ns, "twice"))(21)).toBe(42);
      expect(await len(ns)).toBeGreaterThanOrEqual(3); // x, twice, __builtins__
      const plain = (await toJs(ns)) as Record<string, unknown>;
      expect(plain.x).toBe(42);
    });
  });

  it.skipIf(skipReason(mode))("gives a proxy of a list, an int and a str, null for None, with kw() before or after", async () => {
    await withBridge(mode, async (bridge) => {
      const builtins = (await bridge.python("builtins")) as any;
      const list = await builtins.list([1, 2, 3], opts({ result: "proxy" }));
      expect(typeof list).toBe("function");
      expect(await len(list)).toBe(3);
      await list.append(4);
      expect(await toJs(list)).toEqual([1, 2, 3, 4]);
      const n = await builtins.int("7", kw({ base: 8 }), opts({ result: "proxy" }));
      expect(typeof n).toBe("function");
      expect(await n.bit_length()).toBe(3);
      const s = await builtins.str(opts({ result: "proxy" }), kw({ object: "abc" }));
      expect(await s.upper()).toBe("ABC");
      expect(await builtins.print(opts({ result: "proxy" }), kw({ end: "" }))).toBeNull();
      // The default is a copy, as before.
      expect(await builtins.list([1, 2], opts({ result: "value" }))).toEqual([1, 2]);
      expect(await builtins.list([1, 2])).toEqual([1, 2]);
    });
  });
});
