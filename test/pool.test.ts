// createPool() (docs/concurrency.md#pools): one API over several bridges;
// module functions go to the least busy member, objects stay with the
// member that made them.
import { describe, expect, it } from "vitest";
import { createPool, kw } from "../src/index.ts";
import { fixture, skipReason } from "./helpers.ts";

describe.skipIf(skipReason("subprocess"))("createPool() with subprocess members", () => {
  it("spreads concurrent calls over its members and keeps an object with the member that made it", async () => {
    const pool = createPool({ size: 2 });
    try {
      expect(pool.size).toBe(2);
      const work = (await pool.python(fixture("pool_work.py"))) as any;
      const pids = await Promise.all([work.burn(300_000), work.burn(300_000), work.burn(300_000), work.burn(300_000)]);
      expect(new Set(pids).size).toBe(2);
      const counter = await work.Counter(kw({ start: 10 }));
      const home = await counter.pid;
      for (let i = 1; i <= 5; i++) expect(await counter.add(1)).toEqual([10 + i, home]);
      const viaNew = await new work.Counter(1);
      expect((await viaNew.add(1))[0]).toBe(2);
      expect(await work.VERSION).toBe("pool-1");
      const { pid } = work; // destructuring works
      expect(typeof (await pid())).toBe("number");
      expect(pool.info().size).toBe(2);
      expect(pool.mode).toBe("subprocess");
    } finally {
      await pool.shutdown();
    }
  });

  it("evaluates on the member that owns the namespace, so exec's variables stay readable", async () => {
    const pool = createPool({ size: 2 });
    try {
      const ns = await pool.exec("import os\npid = os.getpid()\nn = 1");
      for (let i = 0; i < 4; i++) await pool.exec("n += 1", ns);
      expect(await pool.eval("(n, os.getpid() == pid)", ns)).toEqual([5, true]);
      expect(await pool.eval("a * b", { a: 6, b: 7 })).toBe(42);
    } finally {
      await pool.shutdown();
    }
  });

  it("throws a TypeError for a size that is not 1 to 64", () => {
    for (const size of [0, 65, 2.5]) expect(() => createPool({ size })).toThrow(/size must be a whole number from 1 to 64/);
  });
});
