// The tags of the wire format (docs/protocol.md; src/codec.ts and
// python/esem_bridge/codec.py use the same numbers).
#pragma once

#include <cstdint>

namespace esem {
namespace wire {

enum Tag : uint8_t {
  kNone = 0,
  kBool = 1,
  kInt = 2,      // i64
  kBigInt = 3,   // u32 n, n bytes of lower-case hex, optional leading '-'
  kFloat = 4,    // f64
  kStr = 5,      // u32 n, n bytes of UTF-8
  kBytes = 6,    // length, bytes
  kList = 7,     // u32 n, n values
  kDict = 8,     // u32 n, n (key, value); keys Str/Str16 or KeyRef
  kMap = 9,      // u32 n, n (key, value)
  kSet = 10,     // u32 n, n values
  kDate = 11,    // f64 epoch ms
  kRef = 12,     // JS->Py: f64 id, u32 n, n Str names. Py->JS: f64 id, u32 typeIndex, u8 described, [description]
  kTyped = 13,   // u8 struct format, length, bytes
  kNdArray = 14, // Str code, Str dtype, u32 ndim, ndim f64, length, bytes
  kStr16 = 15,   // u32 n, n UTF-16LE code units
  kKeyRef = 16,  // u32 index into the message's key table
  kJsFunction = 17,  // f64 id: a JS function passed to Python (esem_bridge.callback), both ways
  kIntList = 18,     // u32 n, n i32: a list of ints that all fit in 32 bits (n >= kPackedMin)
  kFloatList = 19,   // u32 n, n f64: a list of floats (n >= kPackedMin)
  kJson = 20,        // u32 n, n bytes of UTF-8 JSON text of one value (the subprocess mode's cold lane, py_json.h)
};

// Encoders write a list of at least this many ints, all within int32, as
// one kIntList, and of that many floats as one kFloatList (JS: not a
// message's argument list); decoders take one of any length.
constexpr size_t kPackedMin = 16;

// A byte length of this value is followed by a u32 index: the bytes are
// that buffer beside the message (a JS ArrayBuffer, or Python memory lent
// to JS), not inline.
constexpr uint32_t kSideLength = 0xFFFFFFFFu;

// Binary payloads at least this long travel beside the message.
constexpr size_t kSideThreshold = 4096;

}  // namespace wire
}  // namespace esem
