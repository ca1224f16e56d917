// The wire format (src/codec.ts) on its own: what the encoder writes, the
// decoder reads back the same, for every plain value kind; bad values name
// their path. (Both backends' use of it is covered by the behaviour suite;
// test/golden.test.ts holds it to the fixtures the other languages read.)
import { describe, expect, it } from "vitest";
import { Decoder, Encoder } from "../src/codec.ts";
import { BridgeError } from "../src/errors.ts";

const encoder = new Encoder(() => undefined);
function roundTrip(value: unknown): unknown {
  const bytes = encoder.encode([value], ["value"]).slice();
  const decoder = new Decoder(bytes, () => {
    throw new Error("no refs here");
  });
  const out = decoder.value();
  expect(decoder.offset).toBe(bytes.length);
  return out;
}

describe("the wire format", () => {
  it("round-trips scalars exactly, with -0 and integers at the safe limit", () => {
    for (const v of [null, true, false, 0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 1.5, NaN, Infinity, -Infinity]) {
      expect(Object.is(roundTrip(v), v)).toBe(true);
    }
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(roundTrip(undefined)).toBe(null);
  });

  it("round-trips integers past 2^53 as BigInt, and huge BigInts through hex", () => {
    expect(roundTrip(2 ** 60)).toBe(2n ** 60n);
    expect(roundTrip(2n ** 100n)).toBe(2n ** 100n);
    expect(roundTrip(-(2n ** 100n) + 7n)).toBe(-(2n ** 100n) + 7n);
    expect(roundTrip(1e300)).toBe(BigInt(1e300));
  });

  it("round-trips text: ASCII, astral characters, NUL and lone surrogates", () => {
    for (const s of ["", "plain", "é and 中文", "😀𝄞", "a\0b", "\uD800 lone", "end \uDFFF", "x".repeat(70000)]) {
      expect(roundTrip(s)).toBe(s);
    }
  });

  it("round-trips every string of two ASCII characters and many of three, each where the table of short strings has another", () => {
    const two: string[] = [];
    for (let a = 0; a < 128; a++) for (let b = 0; b < 128; b++) two.push(String.fromCharCode(a, b));
    const three = Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(i % 128, (i >> 7) % 128, (i * 7) % 128));
    expect(roundTrip(two)).toEqual(two);
    expect(roundTrip(three)).toEqual(three);
    expect(roundTrip([...two].reverse())).toEqual([...two].reverse()); // the table holds other strings by now
  });

  it("round-trips containers: arrays, plain objects with repeated keys, Map, Set, Date and bytes", () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `n${i}`, tags: ["a", i] }));
    expect(roundTrip(records)).toEqual(records);
    const map = new Map<unknown, unknown>([[1, "one"], ["k", [1, 2]]]);
    expect(roundTrip(map)).toEqual(map);
    expect(roundTrip(new Set([1, "x"]))).toEqual(new Set([1, "x"]));
    expect(roundTrip(new Date(1234567890123))).toEqual(new Date(1234567890123));
    expect(roundTrip(Buffer.from([1, 2, 255]))).toEqual(Buffer.from([1, 2, 255]));
    const proto = roundTrip(JSON.parse('{"__proto__": 5, "a": 1}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(["__proto__", "a"]);
  });

  it("round-trips lists of every short length, nested in lists and records, as plain arrays", () => {
    // Lists of up to 8 items are made from the decoder's value stack by one literal.
    const lists = Array.from({ length: 11 }, (_, n) =>
      Array.from({ length: n }, (_, i) => (i % 3 === 0 ? { k: i, inner: Array.from({ length: i }, (_, j) => [j, `s${j}`]) } : i % 3 === 1 ? `x${i}` : [i, [i]])),
    );
    const back = roundTrip({ lists, deep: [[[[[1, 2], [3]]]]], records: lists.map((l, n) => ({ n, l })) }) as { lists: unknown[][] };
    expect(back).toEqual({ lists, deep: [[[[[1, 2], [3]]]]], records: lists.map((l, n) => ({ n, l })) });
    for (const l of back.lists) expect(Array.isArray(l) && Object.getPrototypeOf(l) === Array.prototype).toBe(true);
  });

  it("writes each record's own keys, whatever the record before had: order, fewer, null prototype, a polluted Object.prototype", () => {
    const bare = Object.assign(Object.create(null), { a: 1, b: 2 });
    const rows = [{ a: 1, b: 2 }, { b: 2, a: 1 }, { a: 1 }, { a: 1, b: 2, c: 3 }, bare, { a: 1, b: 2 }, { 2: "x", 1: "y" }];
    expect(roundTrip(rows)).toEqual(rows.map((r) => ({ ...r })));
    // An enumerable property on Object.prototype: for-in would list it, Object.keys does not.
    Object.defineProperty(Object.prototype, "b", { value: 9, enumerable: true, configurable: true, writable: true });
    try {
      const out = roundTrip([{ a: 1, b: 2 }, { a: 1 }, { a: 1 }]) as object[];
      expect(out.map((r) => Object.keys(r))).toEqual([["a", "b"], ["a"], ["a"]]);
    } finally {
      delete (Object.prototype as Record<string, unknown>).b;
    }
  });

  it("reads repeated records by name and still names the path of a bad field, a getter that throws, at any depth", () => {
    // From the fifth record in a row with one key list, its fields are read by a generated function.
    const rows = (bad: (i: number) => unknown) =>
      Array.from({ length: 12 }, (_, i) => ({ id: i, inner: { x: i, y: i === 9 ? bad(i) : [i] }, name: `r${i}` }));
    expect(roundTrip(rows(() => "fine"))).toEqual(rows(() => "fine"));
    const fail = (value: unknown): string => {
      try {
        encoder.encode([value], ["value"]);
      } catch (e) {
        return (e as Error).message;
      }
      return "no error";
    };
    expect(fail(rows(() => Symbol("s")))).toMatch(/value\[9\]\.inner\.y is a Symbol/);
    const getters = Array.from({ length: 8 }, (_, i) => ({
      a: i,
      get b(): number {
        if (i === 6) throw new Error("getter b broke");
        return i;
      },
    }));
    expect(fail(getters)).toMatch(/getter b broke/);
    expect(roundTrip([1, { a: 1 }])).toEqual([1, { a: 1 }]); // fine after
    // "__proto__" as a key never goes through generated code.
    const protoRows = Array.from({ length: 6 }, (_, i) => JSON.parse(`{"__proto__": ${i}, "k": ${i}}`));
    expect((roundTrip(protoRows) as object[]).map((r) => Object.keys(r))).toEqual(protoRows.map(() => ["__proto__", "k"]));
  });

  it("rejects a Symbol, a function and a circular structure, naming the path", () => {
    const circular: Record<string, unknown> = { a: [1, 2] };
    (circular.a as unknown[]).push(circular);
    const cases: [unknown, RegExp][] = [
      [{ user: { tags: [1, Symbol("s")] } }, /value\.user\.tags\[1\] is a Symbol/],
      [[() => 1], /value\[0\] is a JS function/],
      [circular, /value\.a\[2\] is a circular reference/],
    ];
    for (const [value, message] of cases) {
      let error: unknown;
      try {
        encoder.encode([value], ["value"]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BridgeError);
      expect((error as BridgeError).code).toBe("ESEM_UNSUPPORTED_VALUE");
      expect((error as Error).message).toMatch(message);
    }
    expect(roundTrip([1, 2])).toEqual([1, 2]); // the encoder is fine after a failure
  });

  it("reports corrupt input instead of reading past it", () => {
    expect(() => new Decoder(Uint8Array.of(99), () => null).value()).toThrow(/corrupt wire data: tag 99/);
  });
});

describe("encoding that re-enters itself", () => {
  // A getter in an argument may start another call while the argument is
  // encoded (issue 7, defect 9).
  const frames = (bytes: Buffer) => {
    const out: string[] = [];
    for (let pos = 0; pos < bytes.length; ) {
      const length = bytes.readUInt32LE(pos);
      const payload = bytes.subarray(pos + 4, pos + 4 + length);
      const values = [];
      const decoder = new Decoder(payload.subarray(1), () => null);
      while (decoder.offset < length - 1) values.push(decoder.value());
      out.push(`${payload[0]}:${JSON.stringify(values)}`);
      pos += 4 + length;
    }
    return out;
  };

  it("puts a frame appended from a getter before the frame whose value ran it", () => {
    const enc = new Encoder(() => undefined);
    enc.appendFrame(Uint8Array.of(1), ["first"], ["a"]);
    const arg = {
      get x() {
        enc.appendFrame(Uint8Array.of(3), [{ inner: true }], ["a"]);
        return "x";
      },
    };
    enc.appendFrame(Uint8Array.of(2), [arg, "tail"], ["a", "b"]);
    expect(frames(enc.take())).toEqual(['1:["first"]', '3:[{"inner":true}]', '2:[{"x":"x"},"tail"]']);
  });

  it("takes only whole frames while one is half written, and keeps the rest", () => {
    const enc = new Encoder(() => undefined);
    let early: Buffer | undefined;
    const arg = {
      get x() {
        enc.appendFrame(Uint8Array.of(3), ["inner"], ["a"]);
        early = enc.take();
        return 1;
      },
    };
    enc.appendFrame(Uint8Array.of(2), [arg], ["a"]);
    expect(frames(early!)).toEqual(['3:["inner"]']);
    expect(frames(enc.take())).toEqual(['2:[{"x":1}]']);
  });

  it("gives encode() called from a getter a fresh buffer, leaving the outer result intact", () => {
    const enc = new Encoder(() => undefined);
    let inner: Uint8Array | undefined;
    const arg = {
      get x() {
        inner = enc.encode(["inner"], ["a"]).slice();
        return 1;
      },
    };
    const outer = enc.encode([arg], ["a"]).slice();
    expect(new Decoder(outer, () => null).value()).toEqual({ x: 1 });
    expect(new Decoder(inner!, () => null).value()).toBe("inner");
  });
});

describe("large payloads", () => {
  it("do not keep the frame encoder's buffer large: it shrinks after 64 small frames in a row, and frames stay whole", () => {
    const enc = new Encoder(() => undefined);
    const big = Buffer.alloc(3 << 20, 5);
    enc.appendFrame(Uint8Array.of(1), [big], ["a"]);
    const first = enc.take();
    expect(first.readUInt32LE(0)).toBe(first.length - 4);
    const grown = enc.capacity;
    expect(grown).toBeGreaterThan(3 << 20);
    for (let i = 0; i < 63; i++) {
      enc.appendFrame(Uint8Array.of(1), [i], ["a"]);
      enc.take();
    }
    expect(enc.capacity).toBe(grown); // not yet: a burst of big calls keeps its buffer
    enc.appendFrame(Uint8Array.of(1), ["last small one"], ["a"]);
    const last = enc.take();
    expect(enc.capacity).toBeLessThan(1 << 20);
    expect(new Decoder(last.subarray(5), () => null).value()).toBe("last small one");
    enc.appendFrame(Uint8Array.of(1), [big], ["a"]); // and grows again when it must
    expect(enc.take().length).toBe(first.length);
  });

  it("do not keep encode()'s buffer large either, past 64 small encodes in a row", () => {
    const enc = new Encoder(() => undefined);
    const big = Buffer.alloc(3 << 20, 5);
    enc.encode([big], ["a"]);
    const grown = enc.capacity;
    for (let i = 0; i < 63; i++) enc.encode([i], ["a"]);
    expect(enc.capacity).toBe(grown);
    const last = enc.encode(["last small one"], ["a"]);
    expect(enc.capacity).toBeLessThan(1 << 20);
    expect(new Decoder(last, () => null).value()).toBe("last small one"); // valid after the shrink
  });

  it("lend encode()'s buffer to a call that reads it in place: the next encode writes elsewhere, and giveBack() takes it back", () => {
    const enc = new Encoder(() => undefined);
    const first = enc.encode([Buffer.alloc(2 << 20, 1)], ["a"]);
    const lent = enc.lend(first)!;
    expect(lent.buffer).toBe(first.buffer);
    expect(enc.capacity).toBe(4096);
    const second = enc.encode([Buffer.alloc(2 << 20, 2)], ["a"]);
    expect(second.buffer).not.toBe(first.buffer);
    expect((new Decoder(first, () => null).value() as Uint8Array)[0]).toBe(1); // untouched
    expect(enc.lend(second)).toBeDefined();
    enc.giveBack(lent);
    expect(enc.capacity).toBe(lent.length);
    enc.giveBack(new Uint8Array(4096)); // not larger: kept out
    expect(enc.capacity).toBe(lent.length);
  });

  it("lend nothing for bytes an encode inside a getter wrote (a throwaway encoder's), and keep the outer frame whole", () => {
    const enc = new Encoder(() => undefined);
    let inner: Uint8Array | undefined;
    let lentInside: Uint8Array | undefined | null = null;
    const arg = {
      get x() {
        inner = enc.encode(["inner"], ["a"]);
        lentInside = enc.lend(inner);
        return 1;
      },
    };
    const outer = enc.encode([arg], ["a"]);
    expect(lentInside).toBeUndefined();
    expect(new Decoder(outer, () => null).value()).toEqual({ x: 1 });
    expect(new Decoder(inner!, () => null).value()).toBe("inner");
  });

  it("are read as views of a decoder's own bytes, each its own range, and copied otherwise", () => {
    const a = Buffer.alloc(2 << 20, 1);
    const b = Buffer.alloc(2 << 20, 2);
    const bytes = new Encoder(() => undefined).encode([[a, "between", b, "after"]], ["a"]).slice();
    const owned = new Decoder(bytes, () => null, [], undefined, true).value() as [Buffer, string, Buffer, string];
    expect(owned[1]).toBe("between");
    expect(owned[3]).toBe("after");
    expect(owned[0].equals(a) && owned[2].equals(b)).toBe(true);
    expect(owned[0].buffer).toBe(bytes.buffer); // no copy
    owned[0].fill(9); // writing one leaves the other and the rest intact
    expect(owned[2].equals(b)).toBe(true);
    const copied = new Decoder(bytes, () => null).value() as [Buffer];
    expect(copied[0].buffer).not.toBe(bytes.buffer);
  });

  it("that claim more bytes than the data has are an error, not a short Buffer", () => {
    const bytes = new Encoder(() => undefined).encode([Buffer.alloc(10, 1)], ["a"]).slice();
    expect(() => new Decoder(bytes.subarray(0, bytes.length - 3), () => null).value()).toThrow(/corrupt wire data/);
  });
});
