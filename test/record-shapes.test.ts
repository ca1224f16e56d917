// Records decoded by the key-list builders (src/record-shapes.ts) are the
// same objects the key-by-key path makes: same keys in the same order, same
// values, plain prototype, ordinary data properties; and the decoder still
// works where code generation from strings is disallowed.
import { describe, expect, it } from "vitest";
import { Decoder, Encoder } from "../src/codec.ts";
import { BACKENDS, childScript, runNode, skipReason } from "./helpers.ts";

const encoder = new Encoder(() => undefined);
function roundTrip(value: unknown): unknown {
  const bytes = encoder.encode([value], ["value"]).slice();
  return new Decoder(bytes, () => {
    throw new Error("no refs here");
  }).value();
}

/** n records with these keys; record i's value of key j is `${i}:${j}`. */
function records(keys: string[], n = 12): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const row: Record<string, unknown> = {};
    keys.forEach((k, j) => {
      if (k === "__proto__") Object.defineProperty(row, k, { value: `${i}:${j}`, writable: true, enumerable: true, configurable: true });
      else row[k] = `${i}:${j}`;
    });
    return row;
  });
}

function expectSameRecords(back: unknown, rows: Record<string, unknown>[]): void {
  expect(Array.isArray(back)).toBe(true);
  const out = back as Record<string, unknown>[];
  expect(out.length).toBe(rows.length);
  out.forEach((row, i) => {
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row)).toEqual(Object.keys(rows[i]));
    for (const k of Object.keys(rows[i])) {
      expect(Object.getOwnPropertyDescriptor(row, k)).toEqual({ value: rows[i][k], writable: true, enumerable: true, configurable: true });
    }
  });
}

describe("records decoded through key-list builders", () => {
  const keyLists: [string, string[]][] = [
    ["plain names", ["id", "name", "score"]],
    ["names of Object.prototype members", ["constructor", "toString", "hasOwnProperty", "valueOf"]],
    ["integer-like keys (which JS orders first)", ["b", "10", "a", "2", "0"]],
    ["quotes, backslashes, line separators and NUL", ['say "hi"', "back\\slash", "line\u2028sep", "nul\0", "new\nline", ""]],
    ["non-ASCII and astral text", ["é", "中文", "😀"]],
    ["a lone surrogate", ["\uD800x", "ok"]],
    ["__proto__ among the keys", ["a", "__proto__", "b"]],
    ["the most keys a builder takes (32)", Array.from({ length: 32 }, (_, i) => `k${i}`)],
    ["one key more than that (33)", Array.from({ length: 33 }, (_, i) => `k${i}`)],
    ["keys too long in all for a builder", ["x".repeat(600), "y".repeat(600)]],
    ["no keys", []],
  ];
  for (const [what, keys] of keyLists) {
    it(`gives the same objects for ${what}`, () => {
      const rows = records(keys);
      expectSameRecords(roundTrip(rows), rows);
    });
  }

  it("keeps shapes apart when records of several key lists interleave and nest", () => {
    const rows = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 0 ? { id: i, meta: { x: i, y: [i] } } : i % 3 === 1 ? { meta: { y: i }, id: i } : { id: i, meta: { x: i, y: i, z: i } },
    );
    expect(roundTrip(rows)).toEqual(rows);
    const deep = Array.from({ length: 10 }, (_, i) => ({ a: { a: { a: { a: i } } } }));
    expect(roundTrip(deep)).toEqual(deep);
  });

  it("gives each record its own object, writable and extensible", () => {
    const back = roundTrip(records(["a", "b"], 8)) as Record<string, unknown>[];
    back[5].a = "changed";
    back[5].extra = 1;
    expect(back[6].a).toBe("6:0");
    expect(back[6].extra).toBeUndefined();
    expect(new Set(back).size).toBe(8);
  });
});

describe("records the encoder reads ahead, and values on the decoders' shared stack", () => {
  it("keeps none of them once the frame is written or the value decoded, or either has failed", async () => {
    const child = await runNode(childScript("encoder-retention.mjs"), [], 30_000, { nodeArgs: ["--expose-gc"] });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout.trim())).toEqual({ normal: true, failed: true, decoded: true, decodeFailed: true });
  });
});

describe.each(BACKENDS)("records where code generation is disallowed (%s)", (mode) => {
  it.skipIf(skipReason(mode) !== null)("decodes them key by key, the same", async () => {
    const child = await runNode(childScript("record-shapes.mjs"), [mode], 30_000, {
      nodeArgs: ["--disallow-code-generation-from-strings"],
    });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout.trim())).toEqual({ codegen: false, same: true, keys: ["7", "id", "name", 'quote"d'] });
  });
});
