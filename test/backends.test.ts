// The behaviour suite's entry: the SPEC's opening example on every backend,
// and the same calls giving the same results on both backends (SPEC §3).
// Topic suites: values, errors, proxy, lifecycle (*.test.ts next to this file).
import { describe, it, expect } from "vitest";
import { createBridge, kw, python } from "../src/index.ts";
import { BACKENDS, skipReason, fixture, withBridge, rejectionOf, expectBridgeError, type Mode } from "./helpers.ts";

describe.each(BACKENDS)("the quickstart on the %s backend", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }

  it("runs the README example from start to finish", async () => {
    await withBridge(mode, async (bridge) => {
      const { add, Calculator } = await bridge.python(fixture("calculator.py"));
      expect(await add(2, 3)).toBe(5);
      const calc = await Calculator(2);
      expect(await calc.add(1.234, 2.345)).toBe(3.58);
      await calc.release();
      const calc2 = await new Calculator(2);
      expect(await calc2.add(1.234, 2.345)).toBe(3.58);
      await calc2.release();
    });
  });

  it("keeps working when Python writes to stdout and stderr, through print() and raw fd writes", async () => {
    // Invariant: frames travel on a channel of their own; output never reaches it.
    await withBridge(mode, async (bridge) => {
      const io = await bridge.python(fixture("printing.py"));
      expect(await io.noisy({ ok: [1, 2] })).toEqual({ ok: [1, 2] });
      expect(await io.noisy("again")).toBe("again");
    });
  });

  it("describes its interpreter in info() once started", async () => {
    await withBridge(mode, async (bridge) => {
      await bridge.python("math");
      const info = bridge.info() as any;
      expect(info.mode).toBe(mode);
      expect(info).toHaveProperty("reason");
      expect(typeof info.python.executable).toBe("string");
      expect(info.python.version).toMatch(/^3\.\d+/);
      expect(info).toHaveProperty("python.libpython");
      expect(info).toHaveProperty("addon");
      if (mode === "native") expect(typeof info.addon.path).toBe("string");
    });
  });

  it("creates a bridge whose mode is the one asked for", () => {
    const bridge = createBridge({ mode });
    expect(bridge.mode).toBe(mode);
    return bridge.shutdown();
  });
});

/** A fixed set of calls whose results both backends must agree on. */
async function sampleResults(mode: Mode): Promise<unknown[]> {
  return withBridge(mode, async (bridge) => {
    const v = await bridge.python(fixture("values.py"));
    const calc = await bridge.python(fixture("calculator.py"));
    const json = await bridge.python("json");
    const c = await calc.Calculator(kw({ precision: 3 }));
    const results = [
      await v.echo(null),
      await v.echo([true, false, 0, -1, 1.5]),
      await v.max_safe(),
      await v.just_past_safe(),
      await v.big(),
      await v.echo(2n ** 100n),
      await v.special_floats(),
      await v.echo(-0),
      await v.astral(),
      await v.with_nul(),
      [...(await v.some_bytes())],
      await v.some_tuple(),
      await v.nested(),
      await v.type_names(1, 1.5, -0, 5n, "s", null, [1], { a: 1 }, new Uint8Array([1])),
      await json.dumps({ a: [1, 2], b: "é" }),
      await calc.scale(2, kw({ factor: 3, offset: 1 })),
      await c.add(1.23456, 1),
      await calc.VERSION,
    ];
    await c.release();
    return results;
  });
}

describe("the two backends", () => {
  const reasons = BACKENDS.map(skipReason).filter((r): r is string => r !== null);
  if (reasons.length > 0) {
    it.skip(`are not compared: ${reasons.join("; ")}`, () => {});
    return;
  }

  it("give the same results for the same calls", async () => {
    const [first, ...others] = await Promise.all(BACKENDS.map(sampleResults));
    for (const other of others) expect(other).toEqual(first);
  });
});

describe("choosing the mode", () => {
  it("rejects python() (never throws) when ESEM_MODE names no mode, and says which modes exist", async () => {
    const saved = process.env.ESEM_MODE;
    process.env.ESEM_MODE = "bogus";
    try {
      // The default bridge is made on this first python() call of the file.
      const error = await rejectionOf(python("math"));
      expectBridgeError(error, "ESEM_UNSUPPORTED_MODE");
      expect((error as Error).message).toContain('"auto", "native" or "subprocess"');
    } finally {
      if (saved === undefined) delete process.env.ESEM_MODE;
      else process.env.ESEM_MODE = saved;
    }
  });
});

describe.skipIf(skipReason("native") !== null || skipReason("subprocess") !== null)("a native and a subprocess bridge side by side", () => {
  it("each runs its own Python and keeps its own objects", async () => {
    await withBridge("native", async (native) => {
      await withBridge("subprocess", async (sub) => {
        const os1 = await native.python("os");
        const os2 = await sub.python("os");
        const [pid1, pid2] = await Promise.all([os1.getpid(), os2.getpid()]);
        expect(pid1).toBe(process.pid); // the native mode runs in this process
        expect(pid2).not.toBe(process.pid); // the subprocess mode in its worker
        const a = await (await native.python(fixture("calculator.py"))).Calculator(2);
        const b = await (await sub.python(fixture("calculator.py"))).Calculator(3);
        expect(await a.add(1.234, 2.345)).toBe(3.58);
        expect(await b.add(1.234, 2.345)).toBe(3.579);
        expect(native.info().mode).toBe("native");
        expect(sub.info().mode).toBe("subprocess");
      });
    });
  });
});

// ~1.2 ms of every start (docs/architecture.md, "Start-up"): codec.py and
// its `array` are the pure-Python codec's, which a worker on esem_wire never uses.
describe("the subprocess worker on the C++ codec", () => {
  const reason = skipReason("subprocess") ?? (process.env.ESEM_SUBPROCESS_CODEC ? `ESEM_SUBPROCESS_CODEC=${process.env.ESEM_SUBPROCESS_CODEC} chooses its codec` : null);
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }

  it("starts and calls without importing codec.py", async () => {
    const bridge = createBridge({ mode: "subprocess" });
    try {
      const sys = await bridge.python("sys");
      const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, tags: ["a"] }));
      const builtins = await bridge.python("builtins");
      expect(await builtins.len(rows)).toBe(100);
      expect(await sys.modules.__contains__("esem_bridge.native_codec")).toBe(true);
      expect(await sys.modules.__contains__("esem_bridge.codec")).toBe(false);
    } finally {
      await bridge.shutdown();
    }
  });
});
