// shared(x) (issue 8, item 2): in native mode Python gets a writable
// memoryview over the JS memory itself, with the element format, item size
// and shape of the JS view; writes on either side are seen on the other;
// the JS memory lives while Python holds it (GC cases in a --expose-gc
// child). In subprocess mode the same calls work on a copy.
import { describe, it, expect } from "vitest";
import { shared, Shared } from "../src/index.ts";
import { BACKENDS, skipReason, childScript, fixture, runNode, withBridge } from "./helpers.ts";

type Fixture = Record<string, (...args: unknown[]) => Promise<any>>;
const fixturePath = fixture("shared_buffers.py");

describe("shared() itself", () => {
  it("throws a TypeError at once for a value that is not JS memory", () => {
    for (const bad of [42, "text", null, undefined, {}, [1, 2], new Map()]) {
      expect(() => shared(bad as never)).toThrow(TypeError);
    }
  });

  it("refuses a resizable ArrayBuffer, whose memory could shrink under Python", () => {
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
    const ab = new Resizable(8, { maxByteLength: 16 });
    if ((ab as { resizable?: boolean }).resizable !== true) return; // this runtime has none
    expect(() => shared(ab)).toThrow(/resizable/);
  });

  it("cannot be bypassed with new Shared()", () => {
    expect(() => new (Shared as unknown as new (v: unknown) => Shared)(new Uint8Array(1))).toThrow(TypeError);
  });

  it("accepts every Typed view, an ArrayBuffer and a SharedArrayBuffer", () => {
    for (const x of [Buffer.alloc(2), new Float64Array(1), new BigInt64Array(1), new DataView(new ArrayBuffer(4)), new ArrayBuffer(3), new SharedArrayBuffer(4)]) {
      expect(shared(x)).toBeInstanceOf(Shared);
    }
  });
});

describe("shared() on the native backend", () => {
  const reason = skipReason("native");

  it.skipIf(reason !== null)("gives Python a writable memoryview with the format, item size and shape of the JS view", async () => {
    await withBridge("native", async (bridge) => {
      const py = (await bridge.python(fixturePath)) as unknown as Fixture;
      const cases: [ArrayBufferView | ArrayBuffer | SharedArrayBuffer, string, number, number[]][] = [
        [new Float64Array(3), "d", 8, [3]],
        [new Float32Array(5), "f", 4, [5]],
        [new Int32Array(4), "i", 4, [4]],
        [new Uint32Array(4), "I", 4, [4]],
        [new Int16Array(2), "h", 2, [2]],
        [new Uint16Array(2), "H", 2, [2]],
        [new Int8Array(6), "b", 1, [6]],
        [new BigInt64Array(2), "q", 8, [2]],
        [new BigUint64Array(2), "Q", 8, [2]],
        [new Uint8Array(7), "B", 1, [7]],
        [Buffer.from("hello"), "B", 1, [5]],
        [new Uint8ClampedArray(3), "B", 1, [3]],
        [new DataView(new ArrayBuffer(12), 2, 8), "B", 1, [8]],
        [new ArrayBuffer(10), "B", 1, [10]],
        [new SharedArrayBuffer(6), "B", 1, [6]],
        [new Uint8Array(0), "B", 1, [0]],
      ];
      for (const [x, format, itemsize, shape] of cases) {
        const d = await py.describe(shared(x));
        expect(d, `${x.constructor.name}`).toEqual({ type: "memoryview", format, itemsize, shape, readonly: false, nbytes: itemsize * shape.reduce((a, b) => a * b, 1), exporter: "JsBuffer" });
      }
      const grid = Object.assign(new Int32Array(6), { shape: [2, 3] });
      expect(await py.describe(shared(grid))).toMatchObject({ format: "i", shape: [2, 3], readonly: false });
    });
  });

  it.skipIf(reason !== null)("shows JS writes made after the call to Python, and Python writes to JS: one memory", async () => {
    await withBridge("native", async (bridge) => {
      const py = (await bridge.python(fixturePath)) as unknown as Fixture;
      const a = new Float64Array([1, 2, 3]);
      await py.keep(shared(a));
      a[0] = 42; // after the call: Python reads it later
      expect(await py.kept_list()).toEqual([42, 2, 3]);
      expect(await py.write_kept(2, 7.5)).toBe(7.5);
      expect(Array.from(a)).toEqual([42, 2, 7.5]);
      // A slice of a larger buffer: only its own bytes, at its offset.
      const whole = new Uint8Array(16);
      await py.keep(shared(whole.subarray(4, 8)));
      await py.fill_kept(0xab, 1);
      expect(Array.from(whole)).toEqual([0, 0, 0, 0, 0xab, 0xab, 0xab, 0xab, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(await py.drop()).toBe(2);
    });
  });

  it.skipIf(reason !== null)("gives JS its own memory back when Python returns a view of it: the same ArrayBuffer, at its offset, with its type", async () => {
    await withBridge("native", async (bridge) => {
      const py = (await bridge.python(fixturePath)) as unknown as Fixture;
      const buf = Buffer.alloc(1 << 16, 3);
      const back = await py.give_back(shared(buf));
      expect([Buffer.isBuffer(back), back.buffer === buf.buffer, back.byteOffset, back.length]).toEqual([true, true, buf.byteOffset, buf.length]);
      const part = await py.give_back(shared(buf), 100, 100 + 8192);
      expect([part.buffer === buf.buffer, part.byteOffset, part.length]).toEqual([true, buf.byteOffset + 100, 8192]);
      const floats = new Float64Array(4096).fill(0.5);
      const f = await py.give_back(shared(floats), 0, null, "d");
      expect([f instanceof Float64Array, f.buffer === floats.buffer, f.length, f.shape]).toEqual([true, true, 4096, [4096]]);
      // Misaligned for its item size: a view of other memory over the same bytes, equal values.
      const odd = await py.give_back(shared(buf), 3, 3 + 8 * 1024, "d");
      expect([odd instanceof Float64Array, odd.buffer === buf.buffer, odd.length]).toEqual([true, false, 1024]);
      expect(Buffer.from(odd.buffer, odd.byteOffset, odd.byteLength).equals(buf.subarray(3, 3 + 8192))).toBe(true);
      // Kept by Python and returned by a later call: still JS's own memory, and one memory both ways.
      await py.keep(shared(buf));
      const later = await py.kept_view();
      expect(later.buffer === buf.buffer).toBe(true);
      await py.fill_kept(9);
      expect([later[0], buf[0]]).toEqual([9, 9]);
      expect(await py.drop()).toBe(1);
      expect((await py.give_back(buf)).buffer === buf.buffer).toBe(false); // not shared: a copy
      const sab = new SharedArrayBuffer(8192);
      const s = await py.give_back(shared(sab)); // a SharedArrayBuffer's memory: an ArrayBuffer of its own over it
      new Uint8Array(sab)[5] = 77;
      expect([s.buffer instanceof ArrayBuffer, s.length, s[5]]).toEqual([true, 8192, 77]);
    });
  });

  it.skipIf(reason !== null)("lets numpy.frombuffer read it with the right dtype and no copy, writes seen both ways", async () => {
    await withBridge("native", async (bridge) => {
      const py = (await bridge.python(fixturePath)) as unknown as Fixture;
      const a = new Float64Array(1000).fill(1);
      expect(await py.numpy_keep(shared(a), "float64")).toEqual({ dtype: "float64", shares: true, writeable: true, size: 1000 });
      a[10] = 101;
      expect(await py.numpy_kept_sum()).toBe(1100);
      expect(await py.numpy_kept_set(3, -5)).toBe(-5);
      expect(a[3]).toBe(-5);
      const arr = await py.numpy_give_back(shared(a), "float64"); // an ndarray over JS memory comes back as that memory
      expect([arr instanceof Float64Array, arr.buffer === a.buffer, arr.shape, arr.dtype]).toEqual([true, true, [1000], "float64"]);
      const ints = new Int32Array(8);
      expect(await py.numpy_keep(shared(ints), "int32")).toMatchObject({ dtype: "int32", shares: true });
      // A TypedArray with a shape: numpy.asarray gives that shape, C order.
      const grid = Object.assign(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
      expect(await py.numpy_asarray(shared(grid))).toEqual({ dtype: "float32", shape: [3, 2], sum: 21, c: true });
      await py.drop();
    });
  });

  it.skipIf(reason !== null)("costs len() about the same for 1 MiB and 64 MiB (times printed, not asserted)", async () => {
    await withBridge("native", async (bridge) => {
      const py = (await bridge.python(fixturePath)) as unknown as Fixture;
      const median = async (x: Uint8Array, copy: boolean) => {
        const times: number[] = [];
        for (let i = 0; i < 21; i++) {
          const t = process.hrtime.bigint();
          expect(await py.size(copy ? x : shared(x))).toBe(x.length);
          times.push(Number(process.hrtime.bigint() - t) / 1000);
        }
        return times.sort((p, q) => p - q)[10];
      };
      const small = new Uint8Array(1 << 20);
      const big = new Uint8Array(64 << 20);
      const row = { sharedSmallUs: await median(small, false), sharedBigUs: await median(big, false), copyBigUs: await median(big, true) };
      console.log(`len() medians: shared 1 MiB ${row.sharedSmallUs.toFixed(1)} µs, shared 64 MiB ${row.sharedBigUs.toFixed(1)} µs, copied 64 MiB ${row.copyBigUs.toFixed(1)} µs`);
    });
  }, 60_000);

  for (const kind of ["numpy", "memoryview"]) {
    it.skipIf(reason !== null)(`keeps the JS memory alive through many collections while Python holds a ${kind} of it, and lets JS collect it after`, async () => {
      const result = await runNode(childScript("shared-lifetime.mjs"), [fixture(), kind], 60_000, { nodeArgs: ["--expose-gc"] });
      expect(result.timedOut, result.stderr).toBe(false);
      expect(result.code, result.stderr).toBe(0);
      const r = JSON.parse(result.stdout.trim().split("\n").pop()!);
      expect(r).toEqual({ kind, collectedWhileHeld: false, intact: true, collectedAfterDrop: true });
    }, 70_000);
  }

  it.skipIf(reason !== null)("warns when a worker_thread ends while Python holds a view of memory it shared (V8 frees it with the worker)", async () => {
    const result = await runNode(childScript("shared-worker-ends.mjs"), [fixture()], 30_000);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").pop()!)).toEqual({ dropped: 1, stillWorks: true });
    expect(result.stderr).toContain("esem-bridge: a JS environment (a worker_thread) ended while Python held 1 view(s) of memory it passed with shared()");
  });

  it.skipIf(reason !== null)("turns a transfer of a shared ArrayBuffer into a copy, so Python's memory is never detached", async () => {
    const result = await runNode(childScript("shared-detach.mjs"), [fixture()], 30_000);
    expect(result.code, result.stderr).toBe(0);
    const r = JSON.parse(result.stdout.trim().split("\n").pop()!);
    expect(r).toMatchObject({ cloneByteLength: 16, cloneIsCopy: true, originalStillShared: true, postMessageByteLength: 16 });
    expect(r.unmarkedByteLength).toBe(0); // the control: an unshared buffer is detached by the same call
    if (r.transferMethod === "present") console.log(`ArrayBuffer.prototype.transfer on a shared buffer: ${r.transferMethodResult}`);
  });
});

describe.each(BACKENDS)("shared() arguments on the %s backend", (mode) => {
  const reason = skipReason(mode);

  it.skipIf(reason !== null)("pass the buffer's contents (a copy in subprocess mode), among other arguments and as keyword values", async () => {
    await withBridge(mode, async (bridge) => {
      const py = (await bridge.python(fixturePath)) as unknown as Fixture;
      const a = new Float64Array([1.5, 2.5, 3]);
      const d = await py.describe(shared(a));
      expect(d).toMatchObject({ format: "d", itemsize: 8, shape: [3], readonly: mode === "subprocess" });
      expect(await py.size(shared(Buffer.from("abcd")))).toBe(4);
      expect(await py.describe_in({ k: [shared(new Int16Array(4)), "x"] })).toMatchObject({ format: "h", shape: [4] });
      const big = new Int32Array(100_000).fill(3);
      expect(await py.numpy_asarray(shared(big))).toMatchObject({ shape: [100_000], sum: 300_000 });
      const json = (await bridge.python("json")) as unknown as Fixture;
      expect(await json.dumps([1, "x"])).toBe('[1, "x"]');
    });
  });

  it.skipIf(reason !== null)("keep working after shared() threw on a bad value", async () => {
    await withBridge(mode, async (bridge) => {
      const py = (await bridge.python(fixturePath)) as unknown as Fixture;
      expect(() => shared(42 as never)).toThrow(TypeError);
      expect(await py.size(shared(new Uint16Array(9)))).toBe(9);
    });
  });
});
