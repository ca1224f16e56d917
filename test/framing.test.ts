// Length-prefixed frames (the subprocess socket): payloads come out whole
// and in order however the stream splits them.
import { describe, expect, it } from "vitest";
import { FrameReader, frame } from "../src/framing.ts";

describe("frames", () => {
  it("come out whole and in order from any split of the stream, empty payloads included", () => {
    const payloads = [Buffer.from("a"), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from("last")];
    const stream = Buffer.concat(payloads.map((p) => frame(p.subarray(0, 1), p.subarray(1))));
    for (const step of [1, 3, 4, 5, 1000, stream.length]) {
      const reader = new FrameReader();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...reader.push(stream.subarray(i, i + step)));
      expect(out.map((b) => b.toString("hex"))).toEqual(payloads.map((b) => b.toString("hex")));
    }
  });
});
