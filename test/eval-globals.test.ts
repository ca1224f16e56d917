// builtins.eval and builtins.exec called through the bridge without globals
// run in a fresh namespace ({"__builtins__": builtins}), as a plain Python
// call at a module's top level would, never in the bridge's own globals
// (issue 7, defect 12). The native half is the lead's: skipped there until then.
import { describe, expect, it } from "vitest";
import { BACKENDS, skipReason, withBridge } from "./helpers.ts";

type Builtins = {
  eval(code: string, globals?: unknown, locals?: unknown): Promise<unknown>;
  exec(code: string, globals?: unknown): Promise<unknown>;
};

describe.each(BACKENDS)("builtins.eval and exec through the bridge (%s)", (mode) => {
  const skip = skipReason(mode);

  it.skipIf(skip)("evaluate an expression without globals", async () => {
    await withBridge(mode, async (bridge) => {
      const builtins = (await bridge.python("builtins")) as unknown as Builtins;
      expect(await builtins.eval("1+1")).toBe(2);
      expect(await builtins.eval("len([1, 2, 3])")).toBe(3);
    });
  });

  it.skipIf(skip)("see a fresh namespace holding only __builtins__, not the bridge's globals", async () => {
    await withBridge(mode, async (bridge) => {
      const builtins = (await bridge.python("builtins")) as unknown as Builtins;
      expect(await builtins.eval("sorted(globals())")).toEqual(["__builtins__"]);
      expect(await builtins.eval("__name__ if '__name__' in globals() else None")).toBe(null);
      expect(await builtins.exec("assert sorted(globals()) == ['__builtins__'], sorted(globals())")).toBe(null);
    });
  });

  it.skipIf(skip)("give each call its own namespace: exec's names do not leak into later calls", async () => {
    await withBridge(mode, async (bridge) => {
      const builtins = (await bridge.python("builtins")) as unknown as Builtins;
      await builtins.exec("leaked = 1");
      expect(await builtins.eval("'leaked' in globals()")).toBe(false);
    });
  });

  it.skipIf(skip)("use the globals given, positionally or as None meaning none given", async () => {
    await withBridge(mode, async (bridge) => {
      const builtins = (await bridge.python("builtins")) as unknown as Builtins;
      expect(await builtins.eval("x * 2", { x: 21 })).toBe(42);
      expect(await builtins.eval("sorted(globals())", null)).toEqual(["__builtins__"]);
      expect(await builtins.eval("x + y", null, { x: 1, y: 2 })).toBe(3);
    });
  });
});
