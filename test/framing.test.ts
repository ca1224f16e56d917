// Length-prefixed frames (the subprocess socket): payloads come out whole
// and in order however the stream splits them.
import { describe, expect, it } from "vitest";
import { FrameReader } from "../src/framing.ts";
import { payloadsOf } from "./helpers.ts";

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
      for (let i = 0; i < stream.length; i += step) out.push(...payloadsOf(reader, stream.subarray(i, i + step)));
      expect(out.map((b) => b.toString("hex"))).toEqual(payloads.map((b) => b.toString("hex")));
    }
  });

  it("are visited in place as ranges of the chunk, the same payloads as a whole read gives", () => {
    const payloads = [Buffer.from("one"), Buffer.alloc(0), Buffer.alloc(5000, 9), Buffer.from("two")];
    const stream = Buffer.concat(payloads.map(frame));
    for (const step of [1, 7, stream.length]) {
      const reader = new FrameReader();
      const seen: string[] = [];
      for (let i = 0; i < stream.length; i += step) {
        reader.read(stream.subarray(i, i + step), (buffer, start, end) => {
          seen.push(buffer.subarray(start, end).toString("hex"));
        });
      }
      expect(seen).toEqual(payloads.map((b) => b.toString("hex")));
    }
  });

  it("stop when a visit returns true: the rest of that chunk is dropped", () => {
    const reader = new FrameReader();
    const seen: string[] = [];
    const visit = (buffer: Buffer, start: number, end: number) => {
      seen.push(buffer.toString("utf8", start, end));
      return seen.length === 1;
    };
    reader.read(Buffer.concat([frame(Buffer.from("a")), frame(Buffer.from("b")), frame(Buffer.from("c")).subarray(0, 3)]), visit);
    expect(seen).toEqual(["a"]);
    reader.read(frame(Buffer.from("d")), visit);
    expect(seen).toEqual(["a", "d"]);
  });
});
