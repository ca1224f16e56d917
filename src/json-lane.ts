// The cold lane: a young process sends and receives its large
// plain messages as JSON text. src/codec.ts is the faster form once V8 has
// compiled it, but until then its per-value loops run in the interpreter,
// several times slower than JSON.stringify and JSON.parse, which are C++
// from the first call. Short scripts and serverless functions live in that
// time. So each process sends its first LANE_CHARS of qualifying arguments,
// and receives its first LANE_CHARS of plain container results, as JSON
// (native/py_json_read.cc and py_json_write.cc on the Python side: in the
// native mode the job's own form, in the subprocess mode Json values of the
// wire format, read by esem_wire or codec.py and written by esem_wire); after
// that the wire format carries everything. One message too large for the
// lane (MAX_VALUES values sent, MAX_RESULT_CHARS of text received) closes
// it at once: a message that large warms the codec itself, and it is what
// a process moves from then on. A value takes the lane only when
// it means the same in both forms (the checks below and in
// native/py_json_write.cc), so no call can tell which form its values took.
// ESEM_JSON_LANE=0 turns the lane off; =always keeps it open (for tests).
import { types } from "node:util";
import { JsonText, PACKED_MIN } from "./codec.js";

/**
 * JSON text each way the lane carries in a process (per worker thread)
 * before it closes. Small on purpose: warm, the wire format is 2.5-4.5x
 * faster, and it only warms by use, so a long lane would tax every
 * process's first tens of calls (a 16 MiB lane made the benchmark's warm
 * 10 000-record rows 2x slower). 1 MiB covers a short script's calls.
 */
const LANE_CHARS = 2 ** 20;
/** Arguments of fewer values than this take the wire format: small messages cost little either way. */
const MIN_VALUES = 64;
/**
 * Arguments of more values than this take the wire format and close the
 * lane: one message that large warms the codec itself (10 000 records of
 * 7 values each: the first call is ~2x slower by wire than by JSON, but the
 * next ten are 1.3x faster than with the lane open for them).
 */
const MAX_VALUES = 2 ** 15;
/** A result of more JSON text than this takes the wire format and closes the lane (as MAX_VALUES). */
const MAX_RESULT_CHARS = 2 ** 18;
/** How deep the check looks before it leaves a value to the wire format (kMaxJsonDepth in native/py_json.h). */
const MAX_DEPTH = 64;

const setting = process.env.ESEM_JSON_LANE;
const always = setting === "always";
let sendLeft = setting === "0" ? 0 : LANE_CHARS;
let receiveLeft = sendLeft;

const objectProto = Object.prototype as { toJSON?: unknown };
const getOwn = Object.getOwnPropertyDescriptor;
const arrayProto = Array.prototype as unknown as { toJSON?: unknown };

let counted = 0;

/**
 * Whether JSON.stringify writes `v` so that Python reads the value the wire
 * format would give it: strings (JSON.stringify escapes lone surrogates,
 * which the reader keeps), finite numbers but -0, booleans, null, arrays
 * and plain objects of those; no proxies, no toJSON. Counts the values
 * into `counted`. Up to the lane's minimum count, object properties are
 * read through their descriptors (no getter runs); past it, a getter runs
 * here and again in JSON.stringify (docs/types.md#the-cold-lane).
 */
function plain(v: unknown, depth: number): boolean {
  counted++;
  if (typeof v === "string" || typeof v === "boolean" || v === null) return true;
  if (typeof v === "number") return v - v === 0 && !(v === 0 && 1 / v < 0);
  if (typeof v !== "object" || depth >= MAX_DEPTH || counted > MAX_VALUES || types.isProxy(v)) return false;
  if (Array.isArray(v)) {
    if ("toJSON" in v) return false;
    // A list the wire format may pack (its first item a number, 16 items or
    // more) is faster by wire even cold (docs/types.md#the-cold-lane).
    if (v.length >= PACKED_MIN && typeof v[0] === "number") return false;
    if (counted + v.length > MAX_VALUES) {
      counted += v.length; // too many values, known without a look at each (jsonArguments closes the lane)
      return false;
    }
    for (let i = 0; i < v.length; i++) {
      const before = counted;
      if (!plain(v[i], depth + 1)) return false;
      // Records are alike: when the rest, each the size of the first, would
      // pass the limit, that is known now, not after walking half of them
      // in a young process (10 000 records: ~4 700 walked, then refused).
      if (i === 0 && counted + (v.length - 1) * (counted - before) > MAX_VALUES) {
        counted += (v.length - 1) * (counted - before);
        return false;
      }
    }
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  if ("toJSON" in v) return false;
  // Until the arguments are known to be large enough for the lane, read
  // through descriptors: no getter runs for a call the lane then leaves to
  // the wire format (an accessor has no value, so its object takes the wire
  // format; reading every value so would make the check ~3x slower).
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const value = counted >= MIN_VALUES ? o[k] : getOwn(o, k)?.value;
    if (!plain(value, depth + 1)) return false;
  }
  return true;
}

/** Whether the lane takes these arguments now. */
function takes(args: unknown[], kwargs: Record<string, unknown> | undefined): boolean {
  if (sendLeft <= 0 || objectProto.toJSON !== undefined || arrayProto.toJSON !== undefined) return false;
  counted = 0;
  try {
    const ok = plain(args, 0) && (kwargs === undefined || plain(kwargs, 0));
    if (counted > MAX_VALUES && !always) sendLeft = 0;
    return ok && counted >= MIN_VALUES;
  } catch {
    return false; // a throwing getter: the wire format's encoder reports it, with its path
  }
}

function spend(text: string): string {
  if (!always) sendLeft -= text.length;
  return text;
}

/** Native mode: JSON text of [args, kwargs or null] when the lane takes these arguments; else undefined. */
export function jsonArguments(args: unknown[], kwargs: Record<string, unknown> | undefined): string | undefined {
  return takes(args, kwargs) ? spend(JSON.stringify([args, kwargs ?? null])) : undefined;
}

/**
 * Subprocess mode: a call frame's arguments and keyword arguments (or
 * null) as Json values of the wire format when the lane takes them; else
 * undefined. The worker's esem_wire writes its first plain results as Json
 * values too (native/wire_module.cc, with this file's sizes).
 */
export function jsonArgumentValues(args: unknown[], kwargs: Record<string, unknown> | undefined): [JsonText, JsonText | null] | undefined {
  if (!takes(args, kwargs)) return undefined;
  return [new JsonText(spend(JSON.stringify(args))), kwargs === undefined ? null : new JsonText(spend(JSON.stringify(kwargs)))];
}

/**
 * How many bytes of JSON a result may take now (0: none; the writer gives
 * up past it, and a result given up that way closes the lane unless it is
 * kept open), and whether it is kept open (ESEM_JSON_LANE=always).
 */
export function jsonResultLimit(): [number, boolean] {
  return [Math.min(Math.max(receiveLeft, 0), MAX_RESULT_CHARS), always];
}

/** A result that came back as JSON text. */
export function parseResult(text: string): unknown {
  if (!always) receiveLeft -= text.length;
  return JSON.parse(text);
}
