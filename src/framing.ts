// Length-prefixed frames over a byte stream (the subprocess mode's socket):
// a u32 little-endian payload length, then the payload.

/** Collects stream chunks and yields whole payloads. */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  /** Appends a chunk; returns the payloads it completed, in order. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: Buffer[] = [];
    let offset = 0;
    while (this.buffer.length - offset >= 4) {
      const size = this.buffer.readUInt32LE(offset);
      if (this.buffer.length - offset - 4 < size) break;
      out.push(this.buffer.subarray(offset + 4, offset + 4 + size));
      offset += 4 + size;
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
    return out;
  }
}

/** One frame: the length prefix, a fixed header and the encoded values. */
export function frame(header: Uint8Array, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + header.length + body.length);
  out.writeUInt32LE(header.length + body.length, 0);
  out.set(header, 4);
  out.set(body, 4 + header.length);
  return out;
}
