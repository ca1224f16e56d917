// JS memory lent to Python (shared() in src/shared.ts): a writable
// buffer-protocol object over a JS TypedArray/DataView/ArrayBuffer, which
// Python receives as a memoryview over it. A strong napi_ref keeps the JS
// memory alive while any Python object made from it lives; the ref is only
// ever deleted on the JS thread that made it: when the Python object dies
// (on whichever thread holds the GIL), the ref goes into its bridge's
// RefReturn queue and the JS thread deletes it when it next settles results
// (settle.cc). A bridge that is gone by then leaks the ref (and the memory).
#pragma once

#include <node_api.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "py_ref.h"

namespace esem {

struct SideBuffer;

// napi_refs handed back to one bridge's JS thread for deletion.
class RefReturn {
 public:
  // `wake`: any thread; makes the JS thread settle results soon.
  explicit RefReturn(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Any thread: queue `ref` and wake the JS thread; leaked once closed.
  void Give(napi_ref ref);
  // JS thread: delete every ref queued so far (js_values.cc).
  void DeleteAll(napi_env env);
  // JS thread, when the bridge is torn down: later refs are leaked.
  void Close();

 private:
  std::function<void()> wake_;
  std::mutex mutex_;
  std::vector<napi_ref> refs_;
  bool closed_ = false;
};

// The strong ref to a shared JS view, owned jointly by the job that carries
// it and every Python object made over it. Whoever lets go last: the JS
// thread deletes the ref itself (ReleaseSide); any other thread gives it to
// `back`, set by the Python thread before the first Python object is made.
//
// While it lives, its memory [data, data + size) is listed (LentRef), so
// that a result whose buffer lies in it goes back to JS as a view of the
// original ArrayBuffer rather than a new external one.
struct JsHold {
  // JS thread of `env`.
  JsHold(napi_ref r, napi_env env, const void* data, size_t size);
  ~JsHold();  // any thread
  JsHold(const JsHold&) = delete;
  JsHold& operator=(const JsHold&) = delete;

  napi_ref ref = nullptr;  // cleared on the JS thread when it deletes the ref itself
  std::shared_ptr<RefReturn> back;
  napi_env env;  // null once the environment is torn down (ForgetLent); guarded by LentRef's lock
  const void* const data;
  const size_t size;
};

// JS thread of `env`: the ref to the JS view of a live JsHold of `env`
// whose memory holds [data, data + size), or nullptr. The ref stays valid
// until this thread next settles results (only it deletes refs).
napi_ref LentRef(napi_env env, const void* data, size_t size);

// Environment teardown (its JS thread): its holds never match again, so a
// later environment at the same address cannot get their refs. Returns
// how many there were: views Python still holds of memory that the
// environment's end frees (or jobs in flight that carry some).
size_t ForgetLent(napi_env env);

// Python thread (GIL held): a writable memoryview over the shared side
// buffer `side` with struct format `format` (one of bBhHiIqQfd), items of
// `itemsize` bytes, and `shape` (C order; its product times itemsize must
// be the buffer's size). `back`: where the ref goes when Python lets go.
// Null with a Python error set on failure; `*bad` says why when the shape
// does not fit (malformed wire data).
OwnedRef SharedView(const SideBuffer& side, char format, size_t itemsize, const std::vector<Py_ssize_t>& shape,
                    const std::shared_ptr<RefReturn>& back, std::string* bad);

}  // namespace esem
