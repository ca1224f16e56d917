// shared(x): JS memory passed to Python without a copy (native mode). The
// encoder (src/codec.ts) sends a Shared marker's view beside the wire bytes
// whatever its size; native/py_wire_read.cc makes a writable memoryview over
// that same memory, which holds the JS view alive until Python lets go
// (native/py_js_buffer.cc). The subprocess mode sends a copy, as for any
// buffer. docs/api.md, "shared()".
import { types } from "node:util";

/** Element types a shared TypedArray may have (the wire's Typed formats, and bytes). */
const ELEMENT_TYPES: Function[] = [
  Uint8Array, Uint8ClampedArray, Int8Array, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];

/** Only shared() makes Shared markers: the checks it makes hold for every one. */
const MAKER = Symbol("shared()");

/** A JS buffer marked for sharing with Python: pass it as an argument. Made by shared(). */
export class Shared {
  /** The memory Python will see: the TypedArray or DataView given, or a Uint8Array over the (Shared)ArrayBuffer given. */
  readonly view: ArrayBufferView;

  /** @internal use shared() */
  constructor(view: ArrayBufferView, maker?: symbol) {
    if (maker !== MAKER) throw new TypeError("use shared(x) to make a Shared");
    this.view = view;
    Object.freeze(this);
  }
}

function elementTypeOf(v: ArrayBufferView): Function | undefined {
  if (v instanceof DataView) return DataView;
  // A subclass of a TypedArray (Buffer is one of Uint8Array) counts as its base.
  return ELEMENT_TYPES.find((t) => v instanceof (t as new () => unknown));
}

/** Why `buffer` cannot be shared, or undefined. */
function unshareable(buffer: ArrayBufferLike): string | undefined {
  const b = buffer as { resizable?: boolean; growable?: boolean };
  if (b.resizable === true || b.growable === true) {
    return "a resizable ArrayBuffer cannot be shared (shrinking it would pull memory from under Python)";
  }
  return undefined;
}

/**
 * Marks a Buffer, TypedArray, DataView, ArrayBuffer or SharedArrayBuffer so
 * that Python receives a writable memoryview over the same memory (native
 * mode; a copy in subprocess mode). The JS memory stays alive while Python
 * holds the view or anything made from it. Its ArrayBuffer is marked
 * untransferable: postMessage/structuredClone then copy it instead of
 * detaching it under Python.
 */
export function shared(x: ArrayBufferView | ArrayBufferLike): Shared {
  let view: ArrayBufferView;
  if (ArrayBuffer.isView(x)) {
    if (elementTypeOf(x) === undefined) {
      throw new TypeError("shared() takes a Buffer, TypedArray (not Float16Array), DataView, ArrayBuffer or SharedArrayBuffer");
    }
    view = x;
  } else if (types.isArrayBuffer(x) || types.isSharedArrayBuffer(x)) {
    view = new Uint8Array(x);
  } else {
    throw new TypeError(
      `shared() takes a Buffer, TypedArray, DataView, ArrayBuffer or SharedArrayBuffer, not ${x === null ? "null" : typeof x}`,
    );
  }
  const why = unshareable(view.buffer);
  if (why !== undefined) throw new TypeError(why);
  if (types.isArrayBuffer(view.buffer)) untransferable(view.buffer);
  return new Shared(view, MAKER);
}

// node:worker_threads on first use (it costs start-up time at import).
let markAsUntransferable: ((buffer: ArrayBuffer) => void) | undefined;
function untransferable(buffer: ArrayBuffer): void {
  (markAsUntransferable ??= (require("node:worker_threads") as typeof import("node:worker_threads")).markAsUntransferable as (b: ArrayBuffer) => void)(buffer);
}
