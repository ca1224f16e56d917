// Request frames on their way to the worker: encoded straight into one
// buffer, written once a tick (or in 64 KiB steps during a long burst), and
// kept whole and in order when encoding a value runs a getter that sends a
// call of its own. Each call is queued as pending in the order its frame
// goes out. JS thread.
import type { CallbackIds } from "./callbacks.js";
import { Encoder, type RefAnswer } from "./codec.js";
import { REQUEST_HEADER, writeRequestHeader, type Op } from "./framing.js";
import { exitedError } from "./subprocess-lifecycle.js";
import type { Pending } from "./subprocess-pending.js";
import type { WorkerProcess } from "./subprocess-worker.js";

const BURST = 65536;

/** A frame encoded while another was being encoded (from a getter), sent right after it. */
interface NestedFrame {
  worker: WorkerProcess;
  bytes: Buffer;
  pending: Pending | undefined;
}

export class FrameSender {
  private readonly encoder: Encoder;
  private readonly headerBytes = new Uint8Array(REQUEST_HEADER);
  private readonly header = new DataView(this.headerBytes.buffer);
  /** The encoder is filling a frame; a frame asked for meanwhile (from a getter) is a NestedFrame. */
  private encoding = false;
  private nested: NestedFrame[] = [];
  private flushQueued = false;

  /**
   * `refOf`: a proxy argument's ref (see RefAnswer); `target`: the worker
   * frames go to now; `callbacks`: where a JS function argument gets its id.
   */
  constructor(
    private readonly refOf: (f: Function) => RefAnswer,
    private readonly target: () => WorkerProcess | undefined,
    private readonly callbacks: CallbackIds,
  ) {
    this.encoder = new Encoder(refOf, false, callbacks);
  }

  /**
   * Encodes a frame and queues its call, in wire order. Re-entered (a
   * getter of a value being encoded calls Python), the nested frame gets an
   * encoder of its own and is sent whole right after the frame being
   * encoded, its call queued after that frame's: frames never interleave.
   * Throws (and sends nothing) when a value cannot be encoded.
   */
  append(worker: WorkerProcess, op: Op, seq: number, ref: number, values: unknown[], roots: string[], pending: Pending | undefined): void {
    if (this.encoding) {
      const header = new DataView(new ArrayBuffer(REQUEST_HEADER));
      writeRequestHeader(header, op, seq, ref);
      const encoder = new Encoder(this.refOf, false, this.callbacks);
      encoder.appendFrame(new Uint8Array(header.buffer), values, roots);
      this.nested.push({ worker, bytes: encoder.take(), pending });
      return;
    }
    writeRequestHeader(this.header, op, seq, ref);
    this.encoding = true;
    try {
      this.encoder.appendFrame(this.headerBytes, values, roots);
      if (pending) worker.pending.push(pending);
    } finally {
      this.encoding = false;
      if (this.nested.length) this.sendNested();
    }
  }

  /** Writes the frames gathered so far, then the nested ones, and queues their calls. */
  private sendNested(): void {
    const nested = this.nested;
    this.nested = [];
    const gathered = this.encoder.take();
    const worker = this.target();
    if (worker && !worker.exited && gathered.length) worker.socket.write(gathered);
    for (const frame of nested) {
      if (frame.worker !== this.target() || frame.worker.exited) {
        frame.pending?.reject(exitedError());
        continue;
      }
      frame.worker.socket.write(frame.bytes);
      if (frame.pending) frame.worker.pending.push(frame.pending);
    }
  }

  /** Frames made in one tick go out in one write; a long burst is written in 64 KiB steps so that the worker starts on it while JS still sends. */
  flush(): void {
    if (this.encoding) return; // the frame being encoded is not whole yet; its end flushes
    if (this.encoder.size >= BURST) {
      const worker = this.target();
      if (worker && !worker.exited) worker.socket.write(this.encoder.take());
    }
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      const out = this.encoder.take();
      const worker = this.target();
      if (worker && !worker.exited && out.length) worker.socket.write(out);
    });
  }

  /**
   * Writes one frame of already encoded values now, after the frames
   * gathered so far (a callback's outcome: its Python caller is waiting).
   */
  sendNow(worker: WorkerProcess, op: Op, seq: number, ref: number, values: Uint8Array): void {
    if (worker.exited || worker !== this.target()) return;
    const frame = Buffer.allocUnsafe(4 + REQUEST_HEADER + values.length);
    frame.writeUInt32LE(REQUEST_HEADER + values.length, 0);
    writeRequestHeader(new DataView(frame.buffer, frame.byteOffset + 4, REQUEST_HEADER), op, seq, ref);
    frame.set(values, 4 + REQUEST_HEADER);
    if (!this.encoding) {
      const gathered = this.encoder.take();
      if (gathered.length) worker.socket.write(gathered);
    }
    worker.socket.write(frame);
  }

  /** The worker frames went to is gone: the frames gathered for it are dropped. */
  drop(): void {
    if (!this.encoding) this.encoder.take();
  }
}
