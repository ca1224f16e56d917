// The wire format (docs/protocol.md): a compact binary form of values,
// little-endian, the one form values take between JS and Python in both
// modes. The native mode's C++ reads and writes it straight from and to
// PyObjects (native/py_wire_read.cc, py_wire_write.cc), the subprocess
// worker with python/esem_bridge/codec.py. Large binary payloads can travel
// beside the bytes (side buffers) instead of inside them.
import { types } from "node:util";
import type { RefDescription } from "./backend.js";
import { BridgeError, type BridgeErrorCode } from "./errors.js";
import { Shared } from "./shared.js";
import type { CallbackIds } from "./callbacks.js";
import { FieldError, type Fields, MAX_SHAPE_KEYS, Shape, fieldsFor } from "./record-shapes.js";

export const enum Tag {
  None = 0,
  Bool = 1,
  Int = 2, // i64
  BigInt = 3, // u32 length, ASCII hex digits with an optional leading '-'
  Float = 4, // f64
  Str = 5, // u32 length, UTF-8
  Bytes = 6, // u32 length, bytes
  List = 7, // u32 count, items
  Dict = 8, // u32 count, (key, value) pairs; keys are Str or KeyRef
  Map = 9, // u32 count, (key, value) pairs
  Set = 10, // u32 count, items
  Date = 11, // f64 epoch milliseconds
  Ref = 12, // JS->Py: f64 id, u32 n, n Str path names. Py->JS: f64 id, u32 typeIndex, u8 described, [description]
  Typed = 13, // u8 struct format char, u32 length, bytes (JS TypedArray -> memoryview)
  NdArray = 14, // Str code, Str dtype, u32 ndim, f64 dims, u32 length, bytes
  Str16 = 15, // u32 code units, UTF-16LE (strings with lone surrogates)
  KeyRef = 16, // u32 index of a dict key seen earlier in the same message
  JsFunction = 17, // f64 id: a JS function passed to Python (src/callbacks.ts), both ways
  IntList = 18, // u32 n, n i32: a list of ints that all fit in 32 bits
  FloatList = 19, // u32 n, n f64: a list of floats
  Json = 20, // u32 n, n bytes of UTF-8 JSON text of one value (the subprocess mode's cold lane, src/json-lane.ts)
}

/**
 * JSON text the encoder writes as one Json value: made only by the cold
 * lane (src/json-lane.ts), for values it checked mean the same in both forms.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * Arrays of at least this many ints, all within int32, go as one IntList,
 * and of that many numbers that are all floats to Python (not integers, or
 * -0) as one FloatList (not a message's argument list); any length is read.
 */
export const PACKED_MIN = 16;

/** Containers nest at most this deep in a value (docs/types.md); deeper rejects. */
const MAX_DEPTH = 256;
/** dict()'s levels: depth + 1, from -1 (the argument list) to MAX_DEPTH. */
const LEVELS = MAX_DEPTH + 2;
/** Scratch stack slots kept, cleared, between messages; past this (a dict of thousands of keys) the stack is let go. */
const MAX_KEPT_STACK = 1024;

/**
 * Drops what a scratch stack holds (nothing read or decoded stays
 * reachable from it: a dropped proxy must be collectable), keeping the
 * array: cut to length 0, the next message's stores went past its end and
 * threw away code V8 had optimized for the last one.
 */
function clearStack(stack: unknown[]): void {
  if (stack.length > MAX_KEPT_STACK) stack.length = 0;
  else for (let i = 0; i < stack.length; i++) stack[i] = undefined;
}
/** Roots whose items are the values (a call's argument list, its kwargs, an attribute path): not a level of their own. */
const WRAPPER_ROOTS = new Set(["args", "kwargs", "path"]);
const TWO32 = 4294967296;
/** A byte length of this value is followed by a u32 index: the payload is that side buffer. */
const SIDE_LENGTH = 0xffffffff;
/** An encoder buffer larger than this shrinks after SMALL_TAKES small takes in a row (see take). */
const SHRINK_FROM = 1 << 20;
/** From this size the encoder's buffer grows 4x instead of 2x (see room). */
const GROW_4X_FROM = 8 << 20;
const SMALL_TAKES = 64;
/** A key list gets a field reader (src/record-shapes.ts) once this many dicts in a row at one depth had it. */
const FIELDS_AFTER = 4;
/** Lists of at most this many items are made by one array literal (Decoder.smallList). */
const SMALL_LIST = 8;
/** An owned decoder returns inline Bytes payloads at least this long as views, not copies. */
const VIEW_FROM = 1 << 20;
/** Binary payloads at least this long go beside the bytes when the encoder keeps side buffers. */
export const SIDE_THRESHOLD = 4096;
const utf8 = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the string, not a byte-order mark.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The element code (docs/protocol.md, NdArray) and default dtype of each TypedArray. */
const ARRAY_CODES = new Map<Function, [string, string]>([
  [Float64Array, ["f64", "float64"]], [Float32Array, ["f32", "float32"]], [BigInt64Array, ["i64", "int64"]],
  [BigUint64Array, ["u64", "uint64"]], [Int32Array, ["i32", "int32"]], [Uint32Array, ["u32", "uint32"]],
  [Int16Array, ["i16", "int16"]], [Uint16Array, ["u16", "uint16"]], [Int8Array, ["i8", "int8"]],
  [Uint8Array, ["u8", "uint8"]], [Uint8ClampedArray, ["u8", "uint8"]],
]);

const TYPED_FORMATS = new Map<Function, number>([
  [Int8Array, 0x62], [Int16Array, 0x68], [Uint16Array, 0x48], [Int32Array, 0x69], [Uint32Array, 0x49],
  [Float32Array, 0x66], [Float64Array, 0x64], [BigInt64Array, 0x71], [BigUint64Array, 0x51],
]);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);

function isIdentifier(key: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(key);
}

/**
 * What a proxy answers its bridge's ref symbol with: its ref id, or
 * [id, ...path] for a member, or "CODE message" when it cannot be passed
 * (released, of another bridge, of a bridge that was shut down).
 */
export type RefAnswer = number | unknown[] | string | undefined;

// Map and Set are read through the built-in iterators, so a subclass that
// overrides its iterator cannot make the count disagree with the entries.
const mapEntries = Map.prototype.entries;
const setValues = Set.prototype.values;

/** The Map's entries as [k0, v0, k1, v1, ...] (or a Set's items), read with the built-in iterators. */
export function flatEntries(value: Map<unknown, unknown> | Set<unknown>): unknown[] {
  const flat: unknown[] = [];
  if (value instanceof Map) {
    for (const [k, v] of mapEntries.call(value) as IterableIterator<[unknown, unknown]>) flat.push(k, v);
  } else {
    for (const item of setValues.call(value) as IterableIterator<unknown>) flat.push(item);
  }
  return flat;
}

/** Whether for-in finds any key on o (for Object.prototype: an enumerable property someone added). */
function hasEnumerable(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * Why an object that is not plain data (not an array, plain object,
 * TypedArray, DataView, ArrayBuffer, Date, Map or Set) cannot be passed:
 * the one rule of both modes (docs/types.md, "Unsupported values").
 */
export function unsupportedObject(v: object): string {
  if (types.isPromise(v)) return "a Promise (await it and pass its value)";
  if (types.isNativeError(v)) return "an Error (pass its message, or a plain object of the fields you need)";
  if (v instanceof RegExp) return "a RegExp (pass its source string)";
  if (v instanceof WeakMap) return "a WeakMap (its entries cannot be read)";
  if (v instanceof WeakSet) return "a WeakSet (its items cannot be read)";
  if (v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt || v instanceof Symbol) {
    return "a boxed primitive (pass the primitive value itself)";
  }
  if (typeof SharedArrayBuffer === "function" && v instanceof SharedArrayBuffer) {
    return "a SharedArrayBuffer (pass a TypedArray over it to send a copy)";
  }
  let name: unknown;
  try {
    name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } }).constructor?.name;
  } catch {
    name = undefined;
  }
  return typeof name === "string" && name !== "" && Object.prototype.hasOwnProperty.call(Object.getPrototypeOf(v), "constructor")
    ? `an instance of class ${name} (only plain objects become dicts)`
    : "an object with a custom prototype (only plain objects become dicts)";
}

/** A path segment of a Map or Set entry: `<key 0>`, `<value 0>`, `<item 3>`. */
interface Entry {
  entry: string;
}
type Segment = string | number | Entry;

/**
 * A value that cannot be encoded, on its way out: each container it passes
 * adds its own segment, so the path costs nothing until something fails.
 */
class Unencodable {
  readonly path: Segment[] = [];
  constructor(readonly what: string, readonly code: BridgeErrorCode) {}

  error(): BridgeError {
    let where = "";
    for (const seg of this.path) {
      where +=
        typeof seg === "number" ? `[${seg}]`
        : typeof seg === "object" ? seg.entry
        : where === "" ? seg
        : isIdentifier(seg) ? `.${seg}`
        : `[${JSON.stringify(seg)}]`;
    }
    const tail = this.code === "ESEM_UNSUPPORTED_VALUE" ? ", which cannot be passed to Python" : "";
    return new BridgeError(this.code, `${where} is ${this.what}${tail}`);
  }
}

/** Rethrows `error` with `seg` in front of its path (when it is an Unencodable). */
function within(error: unknown, seg: Segment): never {
  if (error instanceof Unencodable) error.path.unshift(seg);
  throw error;
}

/** Encodes JS values; `refOf` tells a proxy's ref (see RefAnswer). */
export class Encoder {
  private buf: Uint8Array = new Uint8Array(4096);
  private view: DataView = new DataView(this.buf.buffer);
  private pos = 0;
  private keys = new Map<string, number>();
  /** Per depth: the key list of the last dict written there, and its key table indices. */
  // Made at full length (dict() reads them at any level) and cleared, not
  // cut, between frames: optimized code that finds an index past the end,
  // or must grow an array, is thrown away (the second large message of a
  // process ran in the interpreter again, as slow as the first).
  private readonly lastKeys = new Array<string[] | undefined>(LEVELS).fill(undefined);
  private readonly lastRefs = new Array<number[] | undefined>(LEVELS).fill(undefined);
  /** Per depth: dicts in a row with that key list, and its field reader once FIELDS_AFTER of them came. */
  private readonly lastRuns = new Array<number>(LEVELS).fill(0);
  private readonly lastFields = new Array<Fields | null | undefined>(LEVELS).fill(undefined);
  /** Levels below this may hold the last frame's key lists. */
  private levels = 0;
  /** Values read ahead of writing them (fields()); a dict among them uses the stack above. */
  private readonly stack: unknown[] = [];
  private top = 0;
  private readonly ancestors: object[] = []; // open containers: short, so a scan beats a Set
  // Encoding runs user code (getters, proxy traps), which may start another
  // call: `busy` says a value is being encoded, `frameStart` where the
  // frame being encoded begins.
  private busy = false;
  private frameStart = 0;
  /** take()s in a row that used little of a large buffer. */
  private smallTakes = 0;
  /** Buffers the last encode() put beside its bytes (when keepSide); a shared() one as its Shared marker. */
  side: ArrayBufferView[] = [];
  /** The Shared marker whose payload raw() writes next. */
  private sharing: Shared | undefined;
  /** Whether Object.prototype has no enumerable property (sameKeys), found once per frame (~7 ns). */
  private plainProto = true;

  /** Callback ids the value being encoded took (given back if it fails). */
  private fns: number[] = [];

  /**
   * keepSide: binary payloads of SIDE_THRESHOLD bytes or more go to `side`,
   * not into the bytes. callbacks: where a JS function that is not a proxy
   * gets its id (without it, functions are refused).
   */
  constructor(
    readonly refOf: (value: Function) => RefAnswer,
    private readonly keepSide = false,
    private readonly callbacks?: CallbackIds,
  ) {
    // The fields encoding writes, written once more: V8 takes a field
    // written only when its object was made for a constant, and the first
    // write after that (here, smallTakes at the end of the first large
    // message) threw away the optimized code of every method, so the
    // second large message ran interpreted again.
    this.pos = 0;
    this.busy = false;
    this.frameStart = 0;
    this.top = 0;
    this.levels = 0;
    this.plainProto = true;
    this.side = [];
    this.sharing = undefined;
    this.fns = [];
    this.replaceBuffer(this.buf); // buf, view, smallTakes
  }

  /**
   * Encodes each value in turn; the result is valid until the next encode.
   * Re-entrant: an encode started while this one runs (by a getter) gets a
   * fresh encoder.
   */
  encode(values: unknown[], roots: string[]): Uint8Array {
    if (this.busy) {
      const inner = new Encoder(this.refOf, this.keepSide, this.callbacks);
      const bytes = inner.encode(values, roots);
      this.side = inner.side;
      return bytes;
    }
    this.pos = 0;
    this.side = [];
    this.busy = true;
    try {
      this.values(values, roots);
    } finally {
      this.busy = false;
    }
    const bytes = this.buf.subarray(0, this.pos);
    // As take(): a large buffer little used SMALL_TAKES times in a row goes.
    if (this.buf.length > SHRINK_FROM && this.pos < this.buf.length / 64) {
      if (++this.smallTakes >= SMALL_TAKES) this.replaceBuffer(new Uint8Array(4096));
    } else {
      this.smallTakes = 0;
    }
    return bytes;
  }

  /**
   * Lets the caller keep `bytes`, what the last encode() returned, until
   * the call that reads them in place has settled (native mode: the addon
   * reads large arguments on the Python thread instead of copying them).
   * When they are in this encoder's buffer, it goes on in a small one and
   * the buffer is returned, for giveBack(); bytes an encode inside a
   * getter wrote are a throwaway encoder's already (undefined).
   */
  lend(bytes: Uint8Array): Uint8Array | undefined {
    if (this.busy || bytes.buffer !== this.buf.buffer) return undefined;
    const lent = this.buf;
    this.replaceBuffer(new Uint8Array(4096));
    return lent;
  }

  /** A lent buffer whose call was fulfilled (Python no longer reads it): used again when it is larger than the one in use (the next large message finds its pages already there). */
  giveBack(buf: Uint8Array): void {
    if (!this.busy && buf.length > this.buf.length) this.replaceBuffer(buf);
  }

  private replaceBuffer(buf: Uint8Array): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer);
    this.smallTakes = 0;
  }

  /**
   * Appends one frame (docs/protocol.md: u32 length, then `header` bytes,
   * then the values) to the frames gathered since the last take(). On a
   * value that cannot be encoded, the frame is dropped and the error thrown.
   * A frame appended while another is being encoded (a getter that calls
   * Python) goes before that one: its call was also sent first.
   */
  appendFrame(header: Uint8Array, values: unknown[], roots: string[]): void {
    if (this.busy) return this.insertFrame(header, values, roots);
    this.frameStart = this.pos;
    this.room(4 + header.length);
    this.pos += 4;
    this.buf.set(header, this.pos);
    this.pos += header.length;
    this.busy = true;
    try {
      this.values(values, roots);
    } catch (error) {
      this.pos = this.frameStart;
      throw error;
    } finally {
      this.busy = false;
    }
    this.view.setUint32(this.frameStart, this.pos - this.frameStart - 4, true);
  }

  private insertFrame(header: Uint8Array, values: unknown[], roots: string[]): void {
    const inner = new Encoder(this.refOf, false, this.callbacks);
    inner.appendFrame(header, values, roots);
    const frame = inner.buf.subarray(0, inner.pos);
    this.room(frame.length);
    this.buf.copyWithin(this.frameStart + frame.length, this.frameStart, this.pos);
    this.buf.set(frame, this.frameStart);
    this.pos += frame.length;
    this.frameStart += frame.length;
  }

  /** Bytes gathered by appendFrame() since the last take() (whole frames only). */
  get size(): number {
    return this.busy ? this.frameStart : this.pos;
  }

  /**
   * The whole frames gathered so far (a copy), and a fresh start. A buffer
   * grown past SHRINK_FROM by a big payload goes back to a small one once
   * SMALL_TAKES takes in a row used less than a 64th of it: no large
   * buffer stays with the encoder long after the call that needed it.
   * (Handing the large buffer itself out instead of copying it measured no
   * faster: the copy into a buffer already touched is cheaper than page
   * faults on a fresh one.)
   */
  take(): Buffer {
    const end = this.busy ? this.frameStart : this.pos;
    const out = Buffer.from(this.buf.subarray(0, end));
    const rest = this.buf.subarray(end, this.pos); // a frame half written (a getter called Python)
    if (this.buf.length > SHRINK_FROM && this.pos < this.buf.length / 64) {
      if (++this.smallTakes >= SMALL_TAKES) {
        const next = new Uint8Array(Math.max(4096, 2 * rest.length));
        next.set(rest);
        this.replaceBuffer(next);
      } else {
        this.buf.copyWithin(0, end, this.pos);
      }
    } else {
      this.smallTakes = 0;
      if (rest.length) this.buf.copyWithin(0, end, this.pos);
    }
    this.pos = rest.length;
    this.frameStart = 0;
    return out;
  }

  /** The size of the buffer frames are encoded into (for tests of its shrinking). */
  get capacity(): number {
    return this.buf.length;
  }

  private values(values: unknown[], roots: string[]): void {
    // Only what the last frame used: a clear() makes a new table, a length
    // write is a slow store, and most frames (mod.f(1, 2)) use none of them.
    if (this.keys.size !== 0) this.keys.clear();
    for (let i = 0; i < this.levels; i++) {
      this.lastKeys[i] = undefined;
      this.lastRefs[i] = undefined;
    }
    this.levels = 0;
    if (this.ancestors.length !== 0) this.ancestors.length = 0;
    if (this.fns.length !== 0) this.fns = [];
    this.plainProto = !hasEnumerable(Object.prototype);
    this.top = 0;
    try {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        // No kwargs: written here, so value() does not first meet a null
        // at the end of a large message, after V8 compiled it without one.
        if (v === null) {
          this.u8(Tag.None);
          continue;
        }
        try {
          this.value(v, WRAPPER_ROOTS.has(roots[i]) ? -1 : 0);
        } catch (error) {
          for (const id of this.fns) this.callbacks!.unsend(id);
          this.fns = [];
          if (!(error instanceof Unencodable)) throw error;
          error.path.unshift(roots[i]);
          throw error.error();
        }
      }
    } finally {
      // The fields read ahead and the containers open when a value failed
      // are the caller's: not kept past the frame.
      clearStack(this.stack);
      if (this.ancestors.length !== 0) this.ancestors.length = 0;
    }
  }

  private room(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  // Apart from room(), which every write inlines: V8 inlines a call made
  // this rarely into none of them, so their optimized code does not
  // depend on what making a buffer depends on.
  private grow(n: number): void {
    // Past 8 MiB it grows 4x: each buffer it outgrows was written whole and
    // copied, so fewer steps fault in and copy fewer pages (1 000 000
    // records, 66 MiB: the first encode ~15-20 % faster; the pages above
    // what a message uses are never touched).
    const factor = this.buf.length >= GROW_4X_FROM ? 4 : 2;
    let size = this.buf.length * factor;
    while (size < this.pos + n) size *= factor;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  private u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  private f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  private raw(bytes: Uint8Array, view?: ArrayBufferView): void {
    const sharing = this.sharing;
    this.sharing = undefined;
    // A shared() payload goes beside whatever its size: native/js_values.cc
    // (SideFromJs) knows the marker and lends its memory to Python.
    if (this.keepSide && (sharing !== undefined || bytes.length >= SIDE_THRESHOLD)) {
      this.u32(SIDE_LENGTH);
      this.u32(this.side.length);
      this.side.push(sharing !== undefined ? (sharing as unknown as ArrayBufferView) : view ?? bytes);
      return;
    }
    this.u32(bytes.length);
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private json(text: string): void {
    this.room(5 + text.length * 3);
    const len = utf8.encodeInto(text, this.buf.subarray(this.pos + 5)).written; // JSON.stringify's text is well formed
    this.buf[this.pos] = Tag.Json;
    this.view.setUint32(this.pos + 1, len, true);
    this.pos += 5 + len;
  }

  private str16(s: string): void {
    this.u8(Tag.Str16);
    this.u32(s.length);
    this.room(s.length * 2);
    for (let i = 0; i < s.length; i++) {
      this.view.setUint16(this.pos, s.charCodeAt(i), true);
      this.pos += 2;
    }
  }

  private str(s: string): void {
    const n = s.length;
    this.room(5 + n * 3);
    const start = this.pos + 5;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      this.buf[start + i] = c;
    }
    let len = i;
    if (i < n) {
      // UTF-8 cannot carry a lone surrogate; such strings go as UTF-16.
      if (!isWellFormed(s)) return this.str16(s);
      len = i + utf8.encodeInto(s.slice(i), this.buf.subarray(start + i)).written;
    }
    this.buf[this.pos] = Tag.Str;
    this.view.setUint32(this.pos + 1, len, true);
    this.pos = start + len;
  }

  /** Writes a dict key (in full the first time, then as a KeyRef); returns its index in the key table. */
  private key(k: string): number {
    const seen = this.keys.get(k);
    if (seen !== undefined) {
      this.keyRef(seen);
      return seen;
    }
    const index = this.keys.size;
    this.keys.set(k, index);
    this.str(k);
    return index;
  }

  private keyRef(index: number): void {
    this.room(5);
    this.buf[this.pos] = Tag.KeyRef;
    this.view.setUint32(this.pos + 1, index, true);
    this.pos += 5;
  }

  private fail(what: string, code: BridgeErrorCode = "ESEM_UNSUPPORTED_VALUE"): never {
    throw new Unencodable(what, code);
  }

  /**
   * `v` as one IntList (its n items all integers within int32, not -0) or
   * FloatList (all numbers Python gets as floats: not integers, or -0),
   * chosen by its first item; false, with nothing written, at the first
   * item that does not fit. A proxy is left to the List (its traps would
   * run twice).
   */
  private packed(v: unknown[], n: number): boolean {
    const first = v[0];
    if (typeof first !== "number" || types.isProxy(v)) return false; // most arrays: no room made for nothing
    const ints = (first | 0) === first && !Object.is(first, -0);
    const width = ints ? 4 : 8;
    this.room(5 + width * n);
    this.buf[this.pos] = ints ? Tag.IntList : Tag.FloatList;
    this.view.setUint32(this.pos + 1, n, true);
    const written = ints ? writeInts(this.view, this.pos + 5, v, n) : writeFloats(this.view, this.pos + 5, v, n);
    if (written !== n) return false; // pos has not moved: the List overwrites what was written
    this.pos += 5 + width * n;
    return true;
  }

  private enter(v: object, depth: number): void {
    if (depth >= MAX_DEPTH) this.fail("a structure nested too deeply");
    if (this.ancestors.includes(v)) this.fail("a circular reference (a value that contains itself)");
    this.ancestors.push(v);
  }

  // typeof compared with constants, not switched on: the JIT turns each
  // comparison into a type check, while a switch calls the Typeof builtin.
  private value(v: unknown, depth: number): void {
    if (typeof v === "string") return this.str(v);
    if (typeof v === "number") return this.number(v);
    if (typeof v === "object") return v === null ? this.u8(Tag.None) : this.object(v, depth);
    if (typeof v === "boolean") {
      this.u8(Tag.Bool);
      return this.u8(v ? 1 : 0);
    }
    if (typeof v === "undefined") return this.u8(Tag.None);
    if (typeof v === "bigint") return this.bigint(v);
    if (typeof v === "function") return this.func(v);
    if (typeof v === "symbol") return this.fail("a Symbol");
    this.fail("a value of unknown type");
  }

  // SPEC 9: an integral number (but -0) is a Python int, else a float.
  private number(n: number): void {
    if (Number.isInteger(n) && !Object.is(n, -0)) {
      if (Number.isSafeInteger(n)) {
        this.u8(Tag.Int);
        this.room(8);
        const hi = Math.floor(n / TWO32);
        this.view.setUint32(this.pos, n - hi * TWO32, true);
        this.view.setInt32(this.pos + 4, hi, true);
        this.pos += 8;
        return;
      }
      return this.bigint(BigInt(n));
    }
    this.u8(Tag.Float);
    this.f64(n);
  }

  private bigint(n: bigint): void {
    if (n >= -(2n ** 63n) && n < 2n ** 63n) {
      this.u8(Tag.Int);
      this.room(8);
      this.view.setBigInt64(this.pos, n, true);
      this.pos += 8;
      return;
    }
    this.u8(Tag.BigInt);
    this.raw(utf8.encode(n.toString(16)));
  }

  private func(f: Function): void {
    const ref = this.refOf(f);
    if (ref === undefined) {
      if (this.callbacks === undefined) this.fail("a JS function (callbacks are not available here)");
      const id = this.callbacks.idOf(f);
      this.fns.push(id);
      this.u8(Tag.JsFunction);
      return this.f64(id);
    }
    if (typeof ref === "string") {
      const space = ref.indexOf(" ");
      this.fail(ref.slice(space + 1), ref.slice(0, space) as BridgeErrorCode);
    }
    const [id, ...names] = typeof ref === "number" ? [ref] : (ref as [number, ...string[]]);
    this.u8(Tag.Ref);
    this.f64(id);
    this.u32(names.length);
    for (const name of names) this.str(name);
  }

  private object(v: object, depth: number): void {
    if (Array.isArray(v)) {
      this.enter(v, depth);
      const n = v.length; // once: a getter could change it
      if (n >= PACKED_MIN && depth >= 0 && this.packed(v, n)) {
        this.ancestors.pop();
        return;
      }
      this.u8(Tag.List);
      this.u32(n);
      let i = 0;
      try {
        for (; i < n; i++) this.value(v[i], depth + 1);
      } catch (error) {
        within(error, i);
      }
      this.ancestors.pop();
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) return this.dict(v as Record<string, unknown>, depth);
    if (v instanceof Shared) {
      // Its view's usual tag (Bytes, Typed or NdArray), the payload beside.
      this.sharing = v;
      try {
        return this.view_(v.view);
      } finally {
        this.sharing = undefined;
      }
    }
    if (ArrayBuffer.isView(v)) return this.view_(v);
    if (types.isDate(v)) {
      this.u8(Tag.Date);
      return this.f64(Date.prototype.getTime.call(v));
    }
    if (types.isArrayBuffer(v)) {
      this.u8(Tag.Bytes);
      return this.raw(new Uint8Array(v), v as unknown as ArrayBufferView);
    }
    if (v instanceof Map || v instanceof Set) return this.collection(v, depth);
    if (v instanceof JsonText) return this.json(v.text);
    this.fail(unsupportedObject(v));
  }

  /**
   * Whether v's own enumerable string keys are `keys`, in order. for-in
   * lists the same keys in the same order as Object.keys for an object
   * whose prototype is Object.prototype or null, once Object.prototype has
   * no enumerable property (checked once per frame; else always false).
   */
  private sameKeys(v: object, keys: string[]): boolean {
    if (!this.plainProto) return false;
    let n = 0;
    for (const k in v) {
      if (n >= keys.length || keys[n] !== k) return false;
      n++;
    }
    return n === keys.length;
  }

  private dict(v: Record<string, unknown>, depth: number): void {
    this.enter(v, depth);
    // Records of a list share their key list: the last one seen at this
    // depth, with its key table indices, spares a lookup per key, and
    // checking for it with for-in spares the array Object.keys makes.
    const level = depth + 1;
    const last = this.lastKeys[level];
    const same = last !== undefined && this.sameKeys(v, last);
    const keys = same ? last : Object.keys(v);
    this.u8(Tag.Dict);
    this.u32(keys.length);
    let refs = same ? this.lastRefs[level] : undefined;
    if (refs === undefined) {
      refs = [];
      if (level >= this.levels) this.levels = level + 1;
      this.lastKeys[level] = keys;
      this.lastRefs[level] = refs;
      this.lastRuns[level] = 0;
    } else if (++this.lastRuns[level] === FIELDS_AFTER) {
      this.lastFields[level] = fieldsFor(keys);
    }
    const fields = same && this.lastRuns[level] >= FIELDS_AFTER ? this.lastFields[level] : null;
    if (fields) return this.fields(v, keys, refs, fields, depth);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (same) this.keyRef(refs[i]);
      else refs.push(this.key(k));
      try {
        this.value(v[k], depth + 1);
      } catch (error) {
        within(error, k);
      }
    }
    this.ancestors.pop();
  }

  /** The rest of dict() for a key list with a field reader: its fields read onto the stack, then written. */
  private fields(v: object, keys: string[], refs: number[], read: Fields, depth: number): void {
    const s = this.stack;
    const b = this.top;
    const n = keys.length;
    this.top = b + n;
    // A failure ends the frame: values() starts the next one at the stack's bottom.
    try {
      read(v, s, b);
    } catch (error) {
      if (error instanceof FieldError) within(error.error, keys[error.index]);
      throw error;
    }
    for (let i = 0; i < n; i++) {
      this.keyRef(refs[i]);
      try {
        this.value(s[b + i], depth + 1);
      } catch (error) {
        within(error, keys[i]);
      }
    }
    this.top = b;
    this.ancestors.pop();
  }

  private collection(v: Map<unknown, unknown> | Set<unknown>, depth: number): void {
    this.enter(v, depth);
    const isMap = v instanceof Map;
    // A snapshot: encoding an entry may run a getter that changes the collection.
    const flat = flatEntries(v);
    this.u8(isMap ? Tag.Map : Tag.Set);
    this.u32(isMap ? flat.length / 2 : flat.length);
    for (let i = 0; i < flat.length; i++) {
      try {
        this.value(flat[i], depth + 1);
      } catch (error) {
        within(error, { entry: isMap ? (i % 2 ? `<value ${i >> 1}>` : `<key ${i >> 1}>`) : `<item ${i}>` });
      }
    }
    this.ancestors.pop();
  }

  private view_(v: ArrayBufferView): void {
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    const shape = (v as { shape?: unknown }).shape;
    if (shape !== undefined && !(v instanceof DataView)) return this.ndarray(v, bytes, shape);
    if (v instanceof Uint8Array || v instanceof Uint8ClampedArray || v instanceof DataView) {
      this.u8(Tag.Bytes);
      return this.raw(bytes, v);
    }
    const format = TYPED_FORMATS.get(v.constructor) ?? TYPED_FORMATS.get(Object.getPrototypeOf(Object.getPrototypeOf(v)).constructor);
    if (format === undefined) this.fail("a TypedArray of an unsupported element type");
    this.u8(Tag.Typed);
    this.u8(format!);
    this.raw(bytes, v);
  }

  /** A TypedArray with a `shape` (one that came back from numpy, or made so in JS): an ndarray in Python. */
  private ndarray(v: ArrayBufferView, bytes: Uint8Array, shape: unknown): void {
    const codes = ARRAY_CODES.get(v.constructor) ?? ARRAY_CODES.get(Object.getPrototypeOf(Object.getPrototypeOf(v)).constructor);
    if (codes === undefined) this.fail("a TypedArray of an unsupported element type");
    const [code, defaultType] = codes!;
    if (!Array.isArray(shape) || shape.length > 64 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      this.fail("a TypedArray whose shape is not an array of whole numbers");
    }
    const dims = shape as number[];
    const count = dims.reduce((a, b) => a * b, 1);
    const itemSize = (v as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    if (count * itemSize !== bytes.length) {
      this.fail(`a TypedArray of ${bytes.length / itemSize} elements whose shape [${dims.join(", ")}] holds ${count}`);
    }
    const dtype = (v as { dtype?: unknown }).dtype;
    this.u8(Tag.NdArray);
    this.str(code);
    this.str(typeof dtype === "string" ? dtype : defaultType);
    this.u32(dims.length);
    for (const d of dims) this.f64(d);
    this.raw(bytes, v);
  }
}

// Strings of 2 or 3 ASCII characters, by their bytes, in a small table
// shared by all decoders: a record's short values ("t3", "ok", "USD")
// repeat thousands of times in a message, and each would be a string of
// its own for the collector to copy. (V8 has its own table of strings of
// one character.) Medians of 11 fresh processes, calls 2-11 of a 10 000-
// record echo: 9.1 -> 8.0 ms; warm calls unchanged.
const TINY_SLOTS = 1024;
const tinyKeys = new Int32Array(TINY_SLOTS).fill(-1);
const tinyStrings: string[] = new Array<string>(TINY_SLOTS).fill("");

function tiny(b: Uint8Array, p: number, n: number): string {
  const key = n === 2 ? (b[p] << 8) | b[p + 1] : (1 << 24) | (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
  const slot = (key ^ (key >>> 10) ^ (key >>> 20)) & (TINY_SLOTS - 1);
  if (tinyKeys[slot] === key) return tinyStrings[slot];
  const s = n === 2 ? String.fromCharCode(b[p], b[p + 1]) : String.fromCharCode(b[p], b[p + 1], b[p + 2]);
  tinyKeys[slot] = key;
  tinyStrings[slot] = s;
  return s;
}

/** The ASCII text of b[p, p + n), n <= 16: one fromCharCode call with exactly n codes (no garbage). */
function shortAscii(b: Uint8Array, p: number, n: number): string {
  const f = String.fromCharCode;
  switch (n) {
    case 0: return "";
    case 1: return f(b[p]);
    case 2: return f(b[p], b[p + 1]);
    case 3: return f(b[p], b[p + 1], b[p + 2]);
    case 4: return f(b[p], b[p + 1], b[p + 2], b[p + 3]);
    case 5: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4]);
    case 6: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5]);
    case 7: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6]);
    case 8: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    case 9: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8]);
    case 10: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9]);
    case 11: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10]);
    case 12: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11]);
    case 13: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12]);
    case 14: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13]);
    case 15: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14]);
    case 16: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15]);
  }
  throw new RangeError("shortAscii takes at most 16 bytes");
}

export interface WrapRef {
  (id: number, typeIndex: number, desc: RefDescription | undefined): unknown;
}

// The packed lists' items, one loop each (a loop that tests its kind per
// item runs a third slower). The writers return how many items fit.
function writeInts(view: DataView, p: number, v: unknown[], n: number): number {
  let i = 0;
  for (; i < n; i++, p += 4) {
    const x = v[i];
    if (typeof x !== "number" || (x | 0) !== x || (x === 0 && 1 / x < 0)) break;
    view.setInt32(p, x, true);
  }
  return i;
}

function writeFloats(view: DataView, p: number, v: unknown[], n: number): number {
  let i = 0;
  for (; i < n; i++, p += 8) {
    const x = v[i];
    if (typeof x !== "number" || (Number.isInteger(x) && !Object.is(x, -0))) break;
    view.setFloat64(p, x, true);
  }
  return i;
}

// Made at full length and filled in order at once: V8 keeps it a fast array.
function readInts(view: DataView, p: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++, p += 4) out[i] = view.getInt32(p, true);
  return out;
}

function readFloats(view: DataView, p: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++, p += 8) out[i] = view.getFloat64(p, true);
  return out;
}

interface TypedArrayClass {
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
}

const TYPED_CODES: Record<string, TypedArrayClass> = {
  f64: Float64Array, f32: Float32Array, i64: BigInt64Array, u64: BigUint64Array, i32: Int32Array, u32: Uint32Array,
  i16: Int16Array, u16: Uint16Array, i8: Int8Array, u8: Uint8Array,
};

// Keys and values of the dicts and small lists being read
// (src/record-shapes.ts): one stack for every decoder, cleared when the
// outermost value() returns. A stack of each decoder's own was a fresh
// array for every message (the same trap as clearStack's).
const valueStack: unknown[] = [];
let stackTop = 0;

/**
 * An empty array already of the kind a key table becomes (strings): a `[]`
 * is made for small integers, so each decoder's first key changed its map,
 * and code V8 had optimized for the last message's table was thrown away
 * at the next message's first new key (calls 3 and 4 of a process).
 */
function keyTable(): string[] {
  const table = [""];
  table.length = 0;
  return table;
}

/** Decodes one value from `bytes` (a result), making proxies with `wrap`; `side`: the buffers beside the bytes. */
export class Decoder {
  private pos = 0;
  private readonly view: DataView;
  private readonly keys: string[] = keyTable();
  /** The key table index of the key read last. */
  private keyIndex = 0;
  private readonly shapes = new Shape();

  private readonly bytes: Uint8Array;

  /**
   * `owned`: nobody else writes or reuses `bytes`' memory (a reply frame
   * read from the worker's socket): an inline Bytes payload of
   * VIEW_FROM bytes or more is then returned as a Buffer over it, not a copy.
   */
  constructor(
    bytes: Uint8Array,
    private readonly wrap: WrapRef,
    private readonly side: readonly (ArrayBuffer | Uint8Array)[] = [],
    private readonly fns?: CallbackIds,
    private readonly owned = false,
  ) {
    // A plain Uint8Array whatever was passed (a Buffer, a subarray): one
    // object shape for the JIT, however the decoder is used.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.pos;
  }

  private u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  private f64(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  private text(n: number): string {
    const start = this.pos;
    const end = start + n;
    this.pos = end;
    const b = this.bytes;
    if (n <= 16) {
      // Short ASCII (most keys and names): one fromCharCode call beats any
      // decoder call and any concatenation.
      let bits = 0;
      for (let i = start; i < end; i++) bits |= b[i];
      if (bits >= 0x80) return utf8Decoder.decode(b.subarray(start, end));
      if (n === 2 || n === 3) return tiny(b, start, n);
      return shortAscii(b, start, n);
    }
    return utf8Decoder.decode(b.subarray(start, end));
  }

  private string(tag: number): string {
    if (tag === Tag.Str) return this.text(this.u32());
    const n = this.u32();
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.view.getUint16(this.pos + 2 * i, true));
    this.pos += 2 * n;
    return s;
  }

  /** Reads a dict key; its index in the message's key table goes to `keyIndex`. */
  private key(): string {
    const tag = this.bytes[this.pos++];
    if (tag === Tag.KeyRef) {
      const index = this.u32();
      const k = this.keys[index];
      if (k === undefined) throw new BridgeError("ESEM_INTERNAL", `corrupt wire data: key #${index} before it was sent`);
      this.keyIndex = index;
      return k;
    }
    const k = tag === Tag.Str ? this.keyText(this.u32()) : this.string(tag);
    this.keyIndex = this.keys.length;
    this.keys.push(k);
    return k;
  }

  /**
   * A key's text, sent in full: a few per message, all at its start, so
   * through the decoder builtin rather than text(), whose short-string
   * cases would each be first met there before V8 had feedback for them
   * (one deoptimization in each of a process's first large messages).
   */
  private keyText(n: number): string {
    const start = this.pos;
    this.pos = start + n;
    return utf8Decoder.decode(this.bytes.subarray(start, start + n));
  }

  /**
   * A dict of n keys: its keys and values go on the value stack, then one
   * object is made of them, by the key list's builder once the list repeats
   * (src/record-shapes.ts), else key by key.
   */
  private dict(n: number): Record<string, unknown> {
    const stack = valueStack;
    const base = stackTop;
    let shape = n <= MAX_SHAPE_KEYS ? this.shapes : undefined;
    for (let i = 0; i < n; i++) {
      const k = this.key();
      if (shape !== undefined) shape = shape.next(this.keyIndex, k);
      stack[stackTop++] = k;
      // A dict among the values uses the stack above and gives it back.
      const v = this.read();
      stack[stackTop++] = v;
    }
    const build = shape === undefined ? null : shape.builder();
    let out: Record<string, unknown>;
    if (build !== null) {
      out = build(stack, base);
    } else {
      out = {};
      for (let i = base; i < base + 2 * n; i += 2) {
        const k = stack[i] as string;
        if (k === "__proto__") Object.defineProperty(out, k, { value: stack[i + 1], writable: true, enumerable: true, configurable: true });
        else out[k] = stack[i + 1];
      }
    }
    stackTop = base;
    return out;
  }

  /**
   * A list of n <= SMALL_LIST items: read onto the value stack, then made
   * by one array literal of exactly n. (A push onto [] allocates room for
   * 17 items: for the three tags of a record, 5x the memory to fill and
   * for the collector to copy.)
   */
  private smallList(n: number): unknown[] {
    const s = valueStack;
    const b = stackTop;
    // The slot is claimed before the item is read: a dict or list among the items uses the stack above.
    for (let i = 0; i < n; i++) s[stackTop++] = this.read();
    stackTop = b;
    switch (n) {
      case 0: return [];
      case 1: return [s[b]];
      case 2: return [s[b], s[b + 1]];
      case 3: return [s[b], s[b + 1], s[b + 2]];
      case 4: return [s[b], s[b + 1], s[b + 2], s[b + 3]];
      case 5: return [s[b], s[b + 1], s[b + 2], s[b + 3], s[b + 4]];
      case 6: return [s[b], s[b + 1], s[b + 2], s[b + 3], s[b + 4], s[b + 5]];
      case 7: return [s[b], s[b + 1], s[b + 2], s[b + 3], s[b + 4], s[b + 5], s[b + 6]];
      default: return [s[b], s[b + 1], s[b + 2], s[b + 3], s[b + 4], s[b + 5], s[b + 6], s[b + 7]];
    }
  }

  /**
   * A binary payload: a copy of inline bytes (a fresh ArrayBuffer), or the
   * side buffer itself: an ArrayBuffer over Python's memory, or a
   * Uint8Array over JS memory lent through shared() (native/js_values.cc).
   */
  private payload(): ArrayBuffer | Uint8Array {
    const n = this.u32();
    if (n === SIDE_LENGTH) {
      const buffer = this.side[this.u32()];
      if (buffer === undefined) throw new BridgeError("ESEM_INTERNAL", "corrupt wire data: a side buffer that is not there");
      return buffer;
    }
    const copy = new ArrayBuffer(n);
    new Uint8Array(copy).set(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return copy;
  }

  /** The next value. */
  value(): unknown {
    const base = stackTop; // above another decoder's slots, were one reading (none does today)
    try {
      return this.read();
    } finally {
      stackTop = base;
      if (base === 0) clearStack(valueStack);
    }
  }

  private read(): unknown {
    const tag = this.bytes[this.pos++];
    switch (tag) {
      case Tag.None:
        return null;
      case Tag.Bool:
        return this.bytes[this.pos++] !== 0;
      case Tag.Int: {
        const b = this.bytes;
        const p = this.pos;
        const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 16777216;
        const hi = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
        this.pos = p + 8;
        // Within ±(2^53 - 1): a number; else a bigint (exact).
        if (hi >= -2097152 && hi < 2097152 && !(hi === -2097152 && lo === 0)) return hi * TWO32 + lo;
        return this.view.getBigInt64(p, true);
      }
      case Tag.BigInt: {
        const hex = this.text(this.u32());
        return hex.startsWith("-") ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
      }
      case Tag.Float:
        return this.f64();
      case Tag.Str:
      case Tag.Str16:
        return this.string(tag);
      case Tag.Bytes: {
        const n = this.view.getUint32(this.pos, true);
        if (n !== SIDE_LENGTH) {
          this.pos += 4;
          const b = this.bytes;
          if (this.pos + n > b.length) throw new BridgeError("ESEM_INTERNAL", "corrupt wire data: a payload past the end");
          const out = this.owned && n >= VIEW_FROM ? Buffer.from(b.buffer, b.byteOffset + this.pos, n) : Buffer.from(b.subarray(this.pos, this.pos + n));
          this.pos += n;
          return out;
        }
        const p = this.payload();
        return p instanceof ArrayBuffer ? Buffer.from(p) : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
      }
      case Tag.List: {
        const n = this.u32();
        if (n <= SMALL_LIST) return this.smallList(n);
        const out = [];
        for (let i = 0; i < n; i++) out.push(this.read());
        return out;
      }
      case Tag.IntList:
      case Tag.FloatList:
        return this.packed(tag);
      case Tag.Dict:
        return this.dict(this.u32());
      case Tag.Map: {
        const n = this.u32();
        const out = new Map();
        for (let i = 0; i < n; i++) {
          const k = this.read();
          out.set(k, this.read());
        }
        return out;
      }
      case Tag.Set: {
        const n = this.u32();
        const out = new Set();
        for (let i = 0; i < n; i++) out.add(this.read());
        return out;
      }
      case Tag.Date:
        return new Date(this.f64());
      case Tag.Ref:
        return this.ref();
      case Tag.JsFunction:
        return this.jsFunction();
      case Tag.NdArray:
        return this.ndarray();
      case Tag.Json:
        return this.json();
    }
    throw new BridgeError("ESEM_INTERNAL", `corrupt wire data: tag ${tag} at byte ${this.pos - 1}`);
  }

  private ref(): unknown {
    const id = this.f64();
    const typeIndex = this.u32();
    if (this.bytes[this.pos++] === 0) return this.wrap(id, typeIndex, undefined);
    const kind = this.string(this.bytes[this.pos++]);
    const typeName = this.string(this.bytes[this.pos++]);
    const members = new Array(this.u32());
    for (let i = 0; i < members.length; i++) members[i] = this.string(this.bytes[this.pos++]);
    const flags = this.bytes.subarray(this.pos, this.pos + 3);
    this.pos += 3;
    // A bitmap of the members that are methods (ops.describe).
    const callables: string[] = [];
    for (let i = 0; i < members.length; i++) {
      if (this.bytes[this.pos + (i >> 3)] & (1 << (i & 7))) callables.push(members[i]);
    }
    this.pos += (members.length + 7) >> 3;
    return this.wrap(id, typeIndex, {
      kind: kind as RefDescription["kind"], typeName, members, hasRelease: flags[0] !== 0, callable: flags[1] !== 0, iterable: flags[2] !== 0, callables,
    });
  }

  /** A Json value: its text parsed (the writer made it only of values that mean the same both ways). */
  private json(): unknown {
    const n = this.u32();
    if (this.pos + n > this.bytes.length) throw new BridgeError("ESEM_INTERNAL", `corrupt wire data: JSON text of ${n} bytes runs past the end`);
    const text = utf8Decoder.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new BridgeError("ESEM_INTERNAL", `corrupt wire data: malformed JSON text (${(error as Error).message})`);
    }
  }

  // A JS function Python sent back: the function itself.
  private jsFunction(): Function {
    const id = this.f64();
    const fn = this.fns?.fn(id);
    if (fn === undefined) throw new BridgeError("ESEM_INTERNAL", `corrupt wire data: unknown JS function #${id}`);
    return fn;
  }

  /** An IntList (i32 items) or FloatList (f64 items) as an array. */
  private packed(tag: Tag.IntList | Tag.FloatList): number[] {
    const n = this.u32();
    const width = tag === Tag.IntList ? 4 : 8;
    const end = this.pos + width * n;
    if (end > this.bytes.length) throw new BridgeError("ESEM_INTERNAL", `corrupt wire data: a list of ${n} numbers runs past the end`);
    const out = tag === Tag.IntList ? readInts(this.view, this.pos, n) : readFloats(this.view, this.pos, n);
    this.pos = end;
    return out;
  }

  private ndarray(): unknown {
    const code = this.string(this.bytes[this.pos++]);
    const dtype = this.string(this.bytes[this.pos++]);
    const shape = new Array(this.u32());
    for (let i = 0; i < shape.length; i++) shape[i] = this.f64();
    const Typed = TYPED_CODES[code];
    if (!Typed) throw new BridgeError("ESEM_INTERNAL", `unknown TypedArray code ${code}`);
    const p = this.payload();
    const array = p instanceof ArrayBuffer ? new Typed(p) : new Typed(p.buffer, p.byteOffset, p.byteLength / Typed.BYTES_PER_ELEMENT);
    return Object.assign(array, { shape, dtype });
  }
}
