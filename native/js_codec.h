// napi_value <-> Value (SPEC section 3). JS thread only.
#pragma once

#include <node_api.h>

#include <string>
#include <vector>

#include "value.h"

namespace esem {

// JS functions and objects the codec needs, held by one bridge.
struct JsHelpers {
  napi_ref ref_symbol = nullptr;       // key under which a proxy reports its ref id
  napi_ref wrap = nullptr;             // (id, typeIndex, desc?) => proxy
  napi_ref make_error = nullptr;       // (python, typeOrCode, message, traceback) => Error
  napi_ref map_ctor = nullptr;         // Map
  napi_ref set_ctor = nullptr;         // Set
  napi_ref object_prototype = nullptr;
  napi_ref entries = nullptr;          // (map|set) => flat array
  napi_ref make_map = nullptr;         // (flat array) => Map
  napi_ref make_set = nullptr;         // (array) => Set
  napi_ref decode = nullptr;           // (Buffer of wire bytes) => value

  void Reset(napi_env env);
};

// JS -> Value. On a value that cannot cross, returns false and sets
// *error to a message naming where it was (e.g. "args[1].user.tags[2]").
// `root` and `index` name the value in that message: ("args", 1) -> args[1];
// index < 0 -> root alone.
bool JsToValue(napi_env env, const JsHelpers& helpers, napi_value v, const char* root, int index, Value* out,
               ErrorInfo* error);

// Value -> JS. Returns nullptr with a pending JS exception on failure.
napi_value ValueToJs(napi_env env, const JsHelpers& helpers, Value& v);

// A JS string as UTF-8 (lone surrogates become U+FFFD).
std::string JsUtf8(napi_env env, napi_value s);

// The error object for a failure record (PythonError or BridgeError).
napi_value ErrorToJs(napi_env env, const JsHelpers& helpers, const ErrorInfo& e);

}  // namespace esem
