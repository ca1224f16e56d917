// Length-prefixed frames over a byte stream (the subprocess mode's socket):
// a u32 little-endian payload length, then the payload; and the request and
// reply headers of docs/protocol.md. A stream that cannot be frames (a
// payload shorter than its header, one larger than Node can hold, a reply
// header that is not one) is a ProtocolError: the only error anything here
// throws.
import { constants } from "node:buffer";
import { BridgeError } from "./errors.js";

/** Thrown for a malformed frame stream; the reader that threw is done. */
export class ProtocolError extends BridgeError {
  constructor(problem: string) {
    super("ESEM_PROTOCOL", `Malformed frame from the Python worker: ${problem}.`);
  }
}

export interface FrameLimits {
  /** Bytes every payload must hold (its header); default 0. */
  minPayload?: number;
  /** The largest payload accepted; default and most: what one Buffer can hold. */
  maxPayload?: number;
}

/** Collects stream chunks and yields whole payloads. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private needed = 4; // bytes the next frame needs before it can be read
  private failure: ProtocolError | undefined;
  private readonly minPayload: number;
  private readonly maxPayload: number;

  constructor(limits: FrameLimits = {}) {
    this.minPayload = limits.minPayload ?? 0;
    this.maxPayload = Math.min(limits.maxPayload ?? Infinity, constants.MAX_LENGTH - 4);
  }

  /**
   * Appends a chunk and visits each payload it completed, in order, as the
   * range [start, end) of a buffer (no Buffer made per payload: a burst of
   * small replies reads them in place). A visit that returns true stops: the
   * rest of the chunk is dropped (the stream is given up). Throws a ProtocolError at the first malformed frame
   * (after visiting the payloads before it), and again at every later read.
   */
  read(chunk: Buffer, visit: (buffer: Buffer, start: number, end: number) => boolean | void): void {
    if (this.failure) throw this.failure;
    // Chunks of a large frame are only joined once it is complete (joining
    // at every chunk would copy a 16 MiB frame hundreds of times).
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return;
    const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    let offset = 0;
    this.needed = 4;
    while (buffer.length - offset >= 4) {
      const size = buffer.readUInt32LE(offset);
      if (size < this.minPayload || size > this.maxPayload) {
        this.failure = new ProtocolError(
          size < this.minPayload
            ? `a ${size}-byte payload is shorter than its ${this.minPayload}-byte header`
            : `a payload length of ${size} bytes is over the ${this.maxPayload}-byte limit`,
        );
        throw this.failure;
      }
      if (buffer.length - offset - 4 < size) {
        this.needed = 4 + size;
        break;
      }
      const start = offset + 4;
      offset = start + size;
      if (visit(buffer, start, offset) === true) return;
    }
    if (offset < buffer.length) {
      const rest = buffer.subarray(offset);
      this.buffered = rest.length;
      this.chunks.push(rest);
    }
  }
}

/** Request ops (docs/protocol.md). */
export const enum Op {
  Call = 1,
  GetAttr = 2,
  SetAttr = 3,
  Import = 4,
  Release = 5,
  Helper = 6,
  /** A Call whose result comes back as a proxy whatever it is (opts({ result: "proxy" })). */
  CallProxy = 7,
  /** The outcome of a Callback: seq = its call id, ref 1 ok (the value) or 0 thrown (name, message, stack). */
  CallbackReply = 8,
  /** Cancels call `seq` (no values, no reply of its own). */
  Cancel = 9,
}

/** Bytes of a request payload's header: u8 op, u32 seq, f64 ref. */
export const REQUEST_HEADER = 13;

/** Writes a request header at the start of `header`. */
export function writeRequestHeader(header: DataView, op: Op, seq: number, ref: number): void {
  header.setUint8(0, op);
  header.setUint32(1, seq, true);
  header.setFloat64(5, ref, true);
}

/** Reply statuses (docs/protocol.md). */
export const enum Status {
  Ok = 0,
  PythonError = 1,
  BridgeError = 2,
  Ready = 3,
  /** Python calls a JS function: seq = the callback call's id; Float fn id, List args, Dict kwargs or None. */
  Callback = 4,
  /** Python let go of a JS function: Float fn id, Int times received. */
  ReleaseCallback = 5,
}

/** Bytes of a reply payload's header: u8 status, u32 seq. */
export const REPLY_HEADER = 5;

/** A reply payload's status and seq; a ProtocolError when it has no valid header. */
export function replyHeader(payload: Buffer): { status: Status; seq: number } {
  if (payload.length < REPLY_HEADER) {
    throw new ProtocolError(`a ${payload.length}-byte reply is shorter than its ${REPLY_HEADER}-byte header`);
  }
  const status = payload[0];
  if (status > Status.ReleaseCallback) throw new ProtocolError(`unknown reply status ${status}`);
  return { status, seq: payload.readUInt32LE(1) };
}
