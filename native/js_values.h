// The JS side of the native value path (JS thread only): the scalar fast
// path (arguments of calls like `add(1, 2)`, results that are one scalar or
// one object), the JS buffers beside a wire message, and errors. Every other
// value crosses as wire bytes that src/codec.ts encodes and decodes.
#pragma once

#include <node_api.h>

#include <string>
#include <vector>

#include "job.h"

namespace esem {

// JS functions the native layer calls, held by one bridge (weakly: the
// bridge's JS wrapper holds them strongly).
struct JsHelpers {
  napi_ref wrap = nullptr;        // (id, typeIndex, desc?) => proxy
  napi_ref make_error = nullptr;  // (python, typeOrCode, message, traceback) => Error
  napi_ref decode = nullptr;      // (wire bytes, side ArrayBuffers) => value
  napi_ref callback = nullptr;    // (token, fnId, [args, kwargs]) => void; answers with bridge.reply(token, ok, bytes)
  napi_ref release_callback = nullptr;  // (fnId, count) => void
  napi_ref callback_sync = nullptr;     // (fnId, [args, kwargs]) => [ok, bytes], during callSync
  napi_ref callback_plain = nullptr;    // (token, fnId, ...plain args) => void; answers with reply or replyPlain
  napi_ref callback_sync_plain = nullptr;  // (fnId, ...plain args) => a plain value, or [ok, bytes]

  void Reset(napi_env env);
};

// The elements of a JS array of numbers, strings, booleans, null and
// undefined. False if any element is something else (the caller sends it
// as wire bytes instead).
bool ScalarsFromJs(napi_env env, napi_value array, std::vector<Scalar>* out);
// One such value; false for anything else.
bool ScalarFromJs(napi_env env, napi_value v, Scalar* out);
// A Scalar as a JS value (a Ref through the wrap hook).
napi_value ScalarToJs(napi_env env, const JsHelpers& helpers, Scalar& v);

// The buffers of a JS array of TypedArrays, DataViews and ArrayBuffers,
// each referenced until the job comes back (ReleaseSide). False on anything else.
bool SideFromJs(napi_env env, napi_value array, std::vector<SideBuffer>* out);
void ReleaseSide(napi_env env, std::vector<SideBuffer>* side);

// A finished job's result as a JS value; nullptr with a pending exception
// (a hook threw) or none (V8 refused a value).
napi_value ResultToJs(napi_env env, const JsHelpers& helpers, Job& job);

// A JS string as UTF-8 (lone surrogates become U+FFFD).
std::string JsUtf8(napi_env env, napi_value s);

// The error object for a failure record (PythonError or BridgeError).
napi_value ErrorToJs(napi_env env, const JsHelpers& helpers, const ErrorInfo& e);

}  // namespace esem
