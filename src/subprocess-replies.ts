// Replies from the worker: socket bytes to frames, each frame to the result
// or error of the pending call it answers, and refs to proxies (the type
// descriptions a worker sent once, module proxies recorded for reloading).
// A reply that cannot be one is a protocol error for the whole worker.
// JS thread.
import type { RefDescription } from "./backend.js";
import { decodeCallArgs, type CallbackIds } from "./callbacks.js";
import { Decoder, Tag } from "./codec.js";
import { BridgeError, makeError, type ErrorLink } from "./errors.js";
import { ProtocolError, Status, replyHeader } from "./framing.js";
import type { ModuleSource, Pending } from "./subprocess-pending.js";
import type { WorkerProcess } from "./subprocess-worker.js";

export interface ReplyHandlers {
  /** The proxy (or other JS value) for a Python object a reply carries. */
  wrap(id: number, desc: RefDescription | undefined): unknown;
  /** A ref id a reply carried (any worker's). */
  saw(id: number): void;
  /** An import's reply carried module `id`, loaded from `source`. */
  imported(id: number, source: ModuleSource): void;
  /** Calls were answered (once per chunk of socket data that answered any). */
  answered(worker: WorkerProcess): void;
  /** The worker sent bytes that are not a reply: it must be stopped. */
  protocolError(worker: WorkerProcess, error: unknown): void;
  /** Python calls JS function `id` (callback call `seq`); `failure`: the call's values did not decode. */
  callback(worker: WorkerProcess, seq: number, id: number, args: unknown[], kwargs: Record<string, unknown> | null, failure?: unknown): void;
  /** Python let go of JS function `id` after receiving it `count` times. */
  releaseCallback(id: number, count: number): void;
  /** The ref ids a cancelled call's reply carried: nobody gets them, the worker may let them go. */
  unclaimed(ids: number[]): void;
}

export class ReplyReader {
  /** The import whose reply is being decoded: its module ref is recorded. */
  private decodingImport: Pending["importOf"];

  /** `fns`: the JS functions the bridge sent (a reply may carry one back). */
  constructor(private readonly handlers: ReplyHandlers, private readonly fns: CallbackIds) {}

  /** Socket data: whole replies, or a protocol error, never an exception out of the handler. */
  onData(worker: WorkerProcess, chunk: Buffer): void {
    if (worker.broken) return;
    const before = worker.pending.size;
    try {
      worker.reader.read(chunk, (buffer, start, end) => {
        if (!this.scalarReply(worker, buffer, start, end)) this.onFrame(worker, buffer.subarray(start, end));
        return worker.broken;
      });
    } catch (error) {
      this.handlers.protocolError(worker, error);
    }
    if (worker.pending.size !== before) this.handlers.answered(worker);
  }

  /**
   * Most replies are one small number or None answering a pending call:
   * read in place, without a payload Buffer or a Decoder. False (nothing
   * done) for any other frame.
   */
  private scalarReply(worker: WorkerProcess, buffer: Buffer, start: number, end: number): boolean {
    const size = end - start;
    if ((size !== 14 && size !== 6) || buffer[start] !== Status.Ok) return false;
    const tag = buffer[start + 5];
    let value: number | null;
    if (size === 6) {
      if (tag !== Tag.None) return false;
      value = null;
    } else if (tag === Tag.Float) {
      value = buffer.readDoubleLE(start + 6);
    } else if (tag === Tag.Int) {
      value = buffer.readInt32LE(start + 10) * 4294967296 + buffer.readUInt32LE(start + 6);
      if (!Number.isSafeInteger(value)) return false;
    } else {
      return false;
    }
    const pending = worker.pending.take(buffer.readUInt32LE(start + 1));
    if (!pending) return false; // a cancelled call's, or a protocol error: onFrame says which
    if (worker.pending.size === 0) worker.setReferenced(false);
    pending.resolve(value);
    return true;
  }

  /** One reply; throws a ProtocolError when it cannot be one. */
  private onFrame(worker: WorkerProcess, payload: Buffer): void {
    const { status, seq } = replyHeader(payload);
    if (status === Status.Ready) {
      if (worker.started) throw new ProtocolError("a second Ready frame");
      const ready = this.decoder(worker, payload);
      worker.readyWith(ready.value() as string, ready.value() as string);
      return;
    }
    if (status === Status.Callback) return this.onCallback(worker, seq, payload);
    if (status === Status.ReleaseCallback) {
      const values = this.decoder(worker, payload);
      const id = values.value();
      const count = values.value();
      if (typeof id !== "number" || typeof count !== "number") throw new ProtocolError("a ReleaseCallback frame without an id and a count");
      this.handlers.releaseCallback(id, count);
      return;
    }
    const pending = worker.pending.take(seq);
    if (!pending) {
      if (worker.pending.dropCancelled(seq)) return this.dropReply(worker, status, payload); // a cancelled call's reply
      const expected = worker.pending.expected;
      throw new ProtocolError(`a reply to call #${seq}, ${expected === undefined ? "with no call pending" : `expected #${expected}`}`);
    }
    if (worker.pending.size === 0) worker.setReferenced(false);
    try {
      const decoder = this.decoder(worker, payload);
      if (status === Status.Ok) {
        this.decodingImport = pending.importOf;
        const value = decoder.value();
        this.decodingImport = undefined;
        pending.resolve(value);
      } else {
        const python = status === Status.PythonError;
        const [kind, message, traceback, links] = [decoder.value(), decoder.value(), python ? decoder.value() : "", python ? decoder.value() : undefined];
        pending.reject(makeError(python, kind as string, message as string, traceback as string, links as ErrorLink[] | undefined));
      }
    } catch (error) {
      this.decodingImport = undefined;
      pending.reject(error);
    }
  }

  // A cancelled call's late reply: no proxy is made for its objects (they
  // are released at once), but the types it describes are learnt, since
  // later replies send only their index.
  private dropReply(worker: WorkerProcess, status: Status, payload: Buffer): void {
    const ids: number[] = [];
    const decoder = new Decoder(payload.subarray(5), (id, typeIndex, desc) => {
      if (desc && typeIndex) worker.descs.set(typeIndex, desc);
      this.handlers.saw(id);
      ids.push(id);
      return null;
    }, [], this.fns);
    const count = status === Status.Ok ? 1 : status === Status.PythonError ? 4 : 2;
    for (let i = 0; i < count; i++) decoder.value();
    if (ids.length) this.handlers.unclaimed(ids);
  }

  private onCallback(worker: WorkerProcess, seq: number, payload: Buffer): void {
    let id = 0;
    let args: unknown[] = [];
    let kwargs: Record<string, unknown> | null = null;
    let failure: unknown;
    try {
      const decoder = this.decoder(worker, payload);
      id = decoder.value() as number;
      [args, kwargs] = decodeCallArgs(decoder);
      if (!Array.isArray(args)) throw new BridgeError("ESEM_PROTOCOL", "a Callback frame without its argument list");
    } catch (error) {
      failure = error;
    }
    this.handlers.callback(worker, seq, id, args, kwargs, failure);
  }

  private decoder(worker: WorkerProcess, payload: Buffer): Decoder {
    // Owned: each socket read is a fresh buffer of Node's, and so is a frame joined from several.
    return new Decoder(payload.subarray(5), (id, typeIndex, desc) => this.wrapRef(worker, id, typeIndex, desc), [], this.fns, true);
  }

  /** A worker describes a type once (typeIndex > 0) and sends only its index after that. */
  private wrapRef(worker: WorkerProcess, id: number, typeIndex: number, desc: RefDescription | undefined): unknown {
    if (desc && typeIndex) worker.descs.set(typeIndex, desc);
    const found = desc ?? worker.descs.get(typeIndex);
    this.handlers.saw(id);
    const importOf = this.decodingImport;
    if (importOf && found?.kind === "module") {
      this.decodingImport = undefined;
      this.handlers.imported(id, importOf.source);
      // A reload's reply gives the bare id: no proxy of its own, which would release the module when collected.
      if (importOf.bare) return id;
    }
    return this.handlers.wrap(id, found);
  }
}
