// Scalar: the small fast path of the native mode. Calls whose arguments are
// all numbers, strings, booleans, null or undefined (`add(1, 2)`) carry them
// as Scalars, and a result that is one scalar or one object comes back as
// one; everything else crosses as bytes in the wire format (py_wire.h,
// docs/protocol.md). Plain data: built on one thread, read on the other.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace esem {

// Describes the Python type of an object result, sent once per type per bridge.
struct RefDescription {
  std::string kind;       // "module" | "class" | "function" | "object"
  std::string type_name;  // module name, class qualname, or type name
  std::vector<std::string> members;
  bool has_release = false;
  bool callable = false;
  bool iterable = false;
  std::vector<bool> callables;  // per member: a method (ops.describe's bitmap)
};

struct Scalar {
  enum class Kind : uint8_t { kNone, kBool, kInt, kFloat, kStr, kRef };
  Kind kind = Kind::kNone;
  union {
    bool b;
    int64_t i;  // kInt: |i| <= 2^53 - 1 (a JS number either way)
    double f;
    uint64_t ref;  // kRef: registry id
  };
  std::string s;      // kStr: UTF-16LE code units when utf16 (from JS: lossless), else UTF-8
  bool utf16 = false;
  uint32_t type_index = 0;               // kRef
  std::unique_ptr<RefDescription> desc;  // kRef, first object of its type

  Scalar() : i(0) {}
};

}  // namespace esem
