// A seeded mutation fuzzer of the subprocess frame reader (src/framing.ts,
// issue 7, defect 6): valid reply streams, mutated (bytes flipped, cut,
// inserted, length fields replaced) and fed in random chunks. Whatever the
// bytes, the reader returns payloads that hold a reply header or throws the
// documented ProtocolError (ESEM_PROTOCOL); nothing else escapes, nothing hangs.
import { describe, expect, it } from "vitest";
import { FrameReader, ProtocolError, REPLY_HEADER, replyHeader } from "../src/framing.ts";
import { payloadsOf } from "./helpers.ts";

const SEED = 0x5eed_0007;
const CASES = 4000;

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function frameOf(payload: Buffer): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

function validStream(rand: () => number, int: (n: number) => number): { stream: Buffer; payloads: Buffer[] } {
  const payloads: Buffer[] = [];
  for (let i = 0, n = 1 + int(6); i < n; i++) {
    const body = Buffer.alloc(int(rand() < 0.1 ? 3000 : 40));
    for (let j = 0; j < body.length; j++) body[j] = int(256);
    const header = Buffer.alloc(REPLY_HEADER);
    header[0] = int(3);
    header.writeUInt32LE(i + 1, 1);
    payloads.push(Buffer.concat([header, body]));
  }
  return { stream: Buffer.concat(payloads.map(frameOf)), payloads };
}

function mutate(stream: Buffer, rand: () => number, int: (n: number) => number): Buffer {
  let out = Buffer.from(stream);
  for (let m = 0, n = 1 + int(4); m < n; m++) {
    const at = int(out.length + 1);
    switch (int(6)) {
      case 0: // flip a byte
        if (out.length) out[Math.min(at, out.length - 1)] ^= 1 + int(255);
        break;
      case 1: // cut the stream short
        out = out.subarray(0, at);
        break;
      case 2: // insert garbage
        out = Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), out.subarray(at)]);
        break;
      case 3: // a length field: tiny, huge or random
        if (at + 4 <= out.length) out.writeUInt32LE([0, 1, 4, 0xffffffff, 2 ** 31, int(2 ** 32)][int(6)], at);
        break;
      case 4: // the first length field too small for a header
        if (out.length >= 4) out.writeUInt32LE(int(REPLY_HEADER), 0);
        break;
      default: // drop a slice
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(10))]);
    }
  }
  return out;
}

/** Feeds the stream in random chunks; payloads read and the error thrown, if any. */
function feed(stream: Buffer, int: (n: number) => number): { payloads: Buffer[]; error: unknown } {
  const reader = new FrameReader({ minPayload: REPLY_HEADER });
  const payloads: Buffer[] = [];
  try {
    for (let i = 0; i < stream.length; ) {
      const step = 1 + int(64);
      for (const p of payloadsOf(reader, stream.subarray(i, i + step))) {
        payloads.push(p);
        replyHeader(p);
      }
      i += step;
    }
  } catch (error) {
    return { payloads, error };
  }
  return { payloads, error: undefined };
}

describe("the subprocess frame reader under mutated input", () => {
  it(`reads unmutated reply streams back exactly, in any chunking (seed ${SEED})`, () => {
    const rand = prng(SEED);
    const int = (n: number) => Math.floor(rand() * n);
    for (let i = 0; i < 200; i++) {
      const { stream, payloads } = validStream(rand, int);
      const result = feed(stream, int);
      expect(result.error).toBeUndefined();
      expect(result.payloads.map((p) => p.toString("hex"))).toEqual(payloads.map((p) => p.toString("hex")));
    }
  });

  it(`yields only payloads with a reply header, or throws ProtocolError, for ${CASES} mutated streams (seed ${SEED})`, () => {
    const rand = prng(SEED + 1);
    const int = (n: number) => Math.floor(rand() * n);
    const started = performance.now();
    let rejected = 0;
    for (let i = 0; i < CASES; i++) {
      const { stream } = validStream(rand, int);
      const { payloads, error } = feed(mutate(stream, rand, int), int);
      for (const p of payloads) expect(p.length).toBeGreaterThanOrEqual(REPLY_HEADER);
      if (error !== undefined) {
        rejected++;
        expect(error).toBeInstanceOf(ProtocolError);
        expect((error as ProtocolError).code).toBe("ESEM_PROTOCOL");
        expect((error as Error).message).toMatch(/^Malformed frame from the Python worker: /);
      }
    }
    // The mutations must reach the error paths, and the run stays quick.
    expect(rejected).toBeGreaterThan(CASES / 10);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("keeps throwing the same ProtocolError once the stream was malformed", () => {
    const reader = new FrameReader({ minPayload: REPLY_HEADER });
    const bad = Buffer.from([2, 0, 0, 0, 9, 9]);
    const first = (() => {
      try {
        payloadsOf(reader, bad);
      } catch (error) {
        return error;
      }
    })();
    expect(first).toBeInstanceOf(ProtocolError);
    expect(() => payloadsOf(reader, frameOf(Buffer.alloc(REPLY_HEADER)))).toThrow(first as Error);
  });
});
