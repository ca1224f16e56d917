// Length-prefixed frames (the subprocess socket): payloads come out whole
// and in order however the stream splits them.
import { describe, expect, it } from "vitest";
import { FrameReader } from "../src/framing.ts";

function frame(payload: Buffer): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

describe("frames", () => {
  it("come out whole and in order from any split of the stream, empty payloads included", () => {
    const payloads = [Buffer.from("a"), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from("last")];
    const stream = Buffer.concat(payloads.map(frame));
    for (const step of [1, 3, 4, 5, 1000, stream.length]) {
      const reader = new FrameReader();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...reader.push(stream.subarray(i, i + step)));
      expect(out.map((b) => b.toString("hex"))).toEqual(payloads.map((b) => b.toString("hex")));
    }
  });
});
