// The golden fixtures (test/golden/values.json) against src/codec.ts: the
// Encoder writes exactly the fixture's bytes for every JS -> Python case,
// and the Decoder reads every Python -> JS case's bytes as the fixture's JS
// value, types included. The same file holds codec.py and the native codec
// to the same bytes (test/golden/README.md).
import { readFileSync } from "node:fs";
import { describe, it, expect } from "vitest";
import { Decoder, Encoder } from "../src/codec.ts";
import { build, REF, RefMarker, sameValue } from "./golden/forms.ts";

interface Case {
  name: string;
  dir: "js-to-py" | "py-to-js";
  hex: string;
  js: never;
  py: string;
}

const cases = JSON.parse(readFileSync(new URL("./golden/values.json", import.meta.url), "utf8")) as Case[];
// After each value: a Str "end", so a decoder that reads too few or too many bytes is caught.
const END = Buffer.from("0503000000656e64", "hex");

describe("the golden fixtures", () => {
  it("cover both directions", () => {
    expect(cases.filter((c) => c.dir === "js-to-py").length).toBeGreaterThan(50);
    expect(cases.filter((c) => c.dir === "py-to-js").length).toBeGreaterThan(50);
  });

  describe("the Encoder writes each JS value as its fixture's bytes", () => {
    const encoder = new Encoder((f) => (f as unknown as Record<symbol, number | unknown[]>)[REF]);
    it.each(cases.filter((c) => c.dir === "js-to-py").map((c) => [c.name, c] as const))("%s", (_, c) => {
      expect(Buffer.from(encoder.encode([build(c.js)], ["value"])).toString("hex")).toBe(c.hex);
    });
  });

  describe("the Decoder reads each fixture's bytes as its JS value", () => {
    it.each(cases.filter((c) => c.dir === "py-to-js").map((c) => [c.name, c] as const))("%s", (_, c) => {
      const decoder = new Decoder(Buffer.concat([Buffer.from(c.hex, "hex"), END]), (id, typeIndex, desc) =>
        new RefMarker(desc ? { id, typeIndex, desc } : { id, typeIndex }),
      );
      const value = decoder.value();
      expect(decoder.value(), "the bytes after the value").toBe("end");
      expect(sameValue(value, build(c.js))).toBeNull();
    });
  });
});
