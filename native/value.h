// Value: the plain data that crosses between the JS thread and the Python
// thread. It holds no napi_value and no PyObject*, so it may be built on one
// thread and read on the other. The wire format (native/wire.cc,
// src/codec.ts, python/esem_bridge/codec.py) uses the same tags.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace esem {

enum class Tag : uint8_t {
  kNone = 0,
  kBool = 1,
  kInt = 2,      // fits in int64: i
  kBigInt = 3,   // s: lower-case hex digits, optional leading '-'
  kFloat = 4,    // f
  kStr = 5,      // s: UTF-8, or UTF-16LE when utf16
  kBytes = 6,    // s: raw bytes
  kList = 7,     // items
  kDict = 8,     // items: key, value, key, value... (keys are kStr)
  kMap = 9,      // items: key, value, ... (any keys); JS Map <-> dict
  kSet = 10,     // items
  kDate = 11,    // f: milliseconds since the epoch (UTC)
  kRef = 12,     // ref: registry id; JS->Py a proxy passed back
  kTyped = 13,   // s: raw bytes, items[0]: kStr struct format (JS TypedArray -> memoryview)
  kNdArray = 14, // s: raw bytes, items: kStr element code ("f64", "i32", ...), kStr dtype, kInt dims...
  kWire = 17,    // s: values in the wire format (src/codec.ts), decoded by the other side
};

// Describes the Python type of a kRef result, sent once per type per bridge.
struct RefDescription {
  std::string kind;       // "module" | "class" | "function" | "object"
  std::string type_name;  // module name, class qualname, or type name
  std::vector<std::string> members;
  bool has_release = false;
  bool callable = false;
  bool iterable = false;
};

struct Value {
  Tag tag = Tag::kNone;
  bool utf16 = false;     // kStr
  bool new_type = false;  // kRef, Py->JS: description is filled
  union {
    bool b;
    int64_t i;
    double f;
    uint64_t ref;
  };
  uint32_t type_index = 0;  // kRef, Py->JS
  std::string s;
  std::vector<Value> items;
  std::unique_ptr<RefDescription> desc;  // kRef with new_type

  Value() : i(0) {}
  Value(Value&&) noexcept = default;
  Value& operator=(Value&&) noexcept = default;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  static Value None() { return Value(); }
  static Value Bool(bool v) {
    Value x;
    x.tag = Tag::kBool;
    x.b = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.tag = Tag::kInt;
    x.i = v;
    return x;
  }
  static Value Float(double v) {
    Value x;
    x.tag = Tag::kFloat;
    x.f = v;
    return x;
  }
  static Value Str(std::string v) {
    Value x;
    x.tag = Tag::kStr;
    x.s = std::move(v);
    return x;
  }
};

// A failure, as data, made where it happened.
struct ErrorInfo {
  bool python = false;       // PythonError when true, else BridgeError
  std::string type_or_code;  // Python type name, or ESEM_* code
  std::string message;
  std::string traceback;
};

inline ErrorInfo BridgeFailure(std::string code, std::string message) {
  ErrorInfo e;
  e.python = false;
  e.type_or_code = std::move(code);
  e.message = std::move(message);
  return e;
}

}  // namespace esem
