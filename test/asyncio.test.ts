// asyncio (docs/concurrency.md#asyncio), both modes: an `async def` call is
// a promise of its result; coroutines run together on the bridge's one
// event loop, plain calls are not held up by sleeping ones, async
// generators are `for await`-iterable, and a coroutine can await a JS
// function. Timing limits are generous (a loaded 2-core machine).
import { describe, expect, it } from "vitest";
import { PythonError } from "../src/index.ts";
import { BACKENDS, fixture, skipReason, withBridge } from "./helpers.ts";

describe.each(BACKENDS)("asyncio on the %s backend", (mode) => {
  const skip = skipReason(mode);

  it.skipIf(skip)("resolves an async def call with its result, for functions and methods", async () => {
    await withBridge(mode, async (bridge) => {
      const aio = (await bridge.python(fixture("aio.py"))) as any;
      expect(await aio.add_later(2, 3)).toBe(5);
      const service = await aio.Service(10);
      expect(await service.fetch(5)).toBe(15);
      expect(await aio.where()).toBe("esem-bridge-asyncio");
    });
  });

  it.skipIf(skip)("runs two asyncio.sleep(1) calls started together in about 1 s, and a plain call meanwhile at once", async () => {
    await withBridge(mode, async (bridge) => {
      const aio = (await bridge.python(fixture("aio.py"))) as any;
      await aio.add_later(0, 0); // the loop is started
      const start = performance.now();
      const both = Promise.all([aio.sleep_for(1), aio.sleep_for(1)]);
      await new Promise((r) => setTimeout(r, 50));
      const plainStart = performance.now();
      expect(await aio.plain(1)).toBe(2);
      expect(performance.now() - plainStart).toBeLessThan(500);
      const slept = await both;
      const elapsed = performance.now() - start;
      expect(slept[0]).toBeGreaterThanOrEqual(0.99);
      expect(elapsed).toBeGreaterThan(950);
      expect(elapsed).toBeLessThan(1800);
    });
  });

  it.skipIf(skip)("rejects with the coroutine's exception", async () => {
    await withBridge(mode, async (bridge) => {
      const aio = (await bridge.python(fixture("aio.py"))) as any;
      const error = await aio.fails("no luck").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PythonError);
      expect(error.pythonType).toBe("ValueError");
      expect(error.message).toBe("no luck");
      expect(await aio.add_later(1, 1)).toBe(2);
    });
  });

  it.skipIf(skip)("iterates an async generator with for await", async () => {
    await withBridge(mode, async (bridge) => {
      const aio = (await bridge.python(fixture("aio.py"))) as any;
      const items: unknown[] = [];
      for await (const x of await aio.ticker(6, 0.001)) items.push(x);
      expect(items).toEqual([0, 1, 4, 9, 16, 25]);
      const few: unknown[] = [];
      for await (const x of await aio.ticker(100)) {
        few.push(x);
        if (few.length === 3) break;
      }
      expect(few).toEqual([0, 1, 4]);
    });
  });

  it.skipIf(skip)("lets a coroutine await a JS function, also several at once", async () => {
    await withBridge(mode, async (bridge) => {
      const aio = (await bridge.python(fixture("aio.py"))) as any;
      expect(await aio.await_js(async (x: number) => x * 2, 21)).toBe(42);
      expect(await aio.await_js((x: number) => x + 1, 1)).toBe(2);
      const slow = async (x: number) => {
        await new Promise((r) => setTimeout(r, 100));
        return x * 10;
      };
      const start = performance.now();
      expect(await aio.await_js_twice(slow)).toEqual([10, 20]);
      expect(performance.now() - start).toBeLessThan(1500);
    });
  });

  it.skipIf(skip)("runs many concurrent coroutine calls", async () => {
    await withBridge(mode, async (bridge) => {
      const aio = (await bridge.python(fixture("aio.py"))) as any;
      const n = 500;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => aio.add_later(i, 1, 0.05)));
      expect(results).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    });
  });
});
