// Length-prefixed frames over a byte stream (the subprocess mode's socket):
// a u32 little-endian payload length, then the payload.

/** Collects stream chunks and yields whole payloads. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private needed = 4; // bytes the next frame needs before it can be read

  /** Appends a chunk; returns the payloads it completed, in order. */
  push(chunk: Buffer): Buffer[] {
    // Chunks of a large frame are only joined once it is complete (joining
    // at every chunk would copy a 16 MiB frame hundreds of times).
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return [];
    const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    const out: Buffer[] = [];
    let offset = 0;
    this.needed = 4;
    while (buffer.length - offset >= 4) {
      const size = buffer.readUInt32LE(offset);
      if (buffer.length - offset - 4 < size) {
        this.needed = 4 + size;
        break;
      }
      out.push(buffer.subarray(offset + 4, offset + 4 + size));
      offset += 4 + size;
    }
    const rest = buffer.subarray(offset);
    this.buffered = rest.length;
    if (rest.length) this.chunks.push(rest);
    return out;
  }
}
