// Nesting limits (issue 8, item 5; docs/types.md): 256 levels of containers
// cross both ways in both modes; deeper values reject with a clear error,
// never a stack overflow, and the bridge keeps working.
import { describe, expect, it } from "vitest";
import { BACKENDS, expectBridgeError, fixture, rejectionOf, skipReason, withBridge } from "./helpers.ts";
import { PythonError } from "../src/index.ts";

const lists = (levels: number): unknown => {
  let v: unknown = 7;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
};
const dicts = (levels: number): unknown => {
  let v: unknown = 7;
  for (let i = 0; i < levels; i++) v = { k: v };
  return v;
};

describe.each(BACKENDS)("nesting limits on the %s backend", (mode) => {
  it.skipIf(skipReason(mode))("sends 50 and 256 levels of lists and dicts to Python and back", async () => {
    await withBridge(mode, async (bridge) => {
      const n = (await bridge.python(fixture("nesting.py"))) as Record<string, (...a: unknown[]) => Promise<unknown>>;
      for (const levels of [50, 256]) {
        expect(await n.depth(lists(levels))).toBe(levels);
        expect(await n.depth(dicts(levels))).toBe(levels);
        expect(await n.nested_lists(levels)).toEqual(lists(levels));
        expect(await n.nested_dicts(levels)).toEqual(dicts(levels));
      }
    });
  });

  it.skipIf(skipReason(mode))("rejects 257 levels from JS with ESEM_UNSUPPORTED_VALUE naming the path, and the next call works", async () => {
    await withBridge(mode, async (bridge) => {
      const n = (await bridge.python(fixture("nesting.py"))) as Record<string, (...a: unknown[]) => Promise<unknown>>;
      for (const value of [lists(257), dicts(257), lists(100_000)]) {
        const error = expectBridgeError(await rejectionOf(n.depth(value)), "ESEM_UNSUPPORTED_VALUE");
        expect(error.message).toMatch(/^args\[0\]\S* is a structure nested too deeply, which cannot be passed to Python$/);
      }
      expect(await n.depth(lists(3))).toBe(3);
    });
  });

  it.skipIf(skipReason(mode))("rejects 257 levels from Python with PythonError(ValueError), and the next call works", async () => {
    await withBridge(mode, async (bridge) => {
      const n = (await bridge.python(fixture("nesting.py"))) as Record<string, (...a: unknown[]) => Promise<unknown>>;
      for (const make of [n.nested_lists, n.nested_dicts]) {
        for (const levels of [257, 100_000]) {
          const error = await rejectionOf(make(levels));
          expect(error).toBeInstanceOf(PythonError);
          expect((error as PythonError).pythonType).toBe("ValueError");
          expect((error as Error).message).toMatch(/nested too deeply/);
        }
      }
      expect(await n.nested_lists(2)).toEqual([[7]]);
    });
  });
});
