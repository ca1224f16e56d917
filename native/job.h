// Job: one operation queued by the JS thread and run by the Python thread.
// The JS thread fills the request and owns the promise; the Python thread
// fills the outcome. Ownership passes with the queue, never shared.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <node_api.h>

#include "error_info.h"
#include "py_buffer_export.h"
#include "scalar.h"
#include "wire_buffers.h"

namespace esem {

class Channel;
struct JsHold;

enum class Op : uint8_t {
  kStart,    // initialize the interpreter if needed, load the channel's context
  kClose,    // drop the channel's objects and context (last job of a bridge)
  kImport,   // text: spec, path[0]: cwd
  kCall,     // ref.path(*args, **kwargs); empty path calls ref itself
  kGetAttr,  // ref.path
  kSetAttr,  // ref.path = the value in wire
  kRelease,  // drop the registry ids in `ids`
  kHelper,   // esem_bridge.ops.<text>(*args)
  // Python -> JS (delivered to the channel, never queued on the host):
  kCallback,         // call JS function `ref` with result_wire ((args, kwargs)); the reply comes back in wire
  kCallbackRelease,  // Python dropped JS function ids[0] after receiving it ids[1] times
};

struct Job;

// Where a Python thread waits for the JS side's reply to a kCallback job.
// The JS thread completes it with the job (its wire holding the reply); a
// job destroyed unanswered (its bridge or environment gone) abandons it.
class CallbackWait {
 public:
  // JS thread: hands the answered job back and wakes the waiter.
  void Complete(std::unique_ptr<Job> job) { Finish(std::move(job)); }
  void Abandon() { Finish(nullptr); }
  bool Done() const { return done_.load(std::memory_order_acquire); }
  // Any thread but the JS one: blocks until done (GIL not held).
  void Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return done_.load(std::memory_order_acquire); });
  }
  // After Done(): the answered job, or nullptr when abandoned.
  std::unique_ptr<Job> Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::move(job_);
  }
  // Called after any wait finished: wakes host threads that wait for a
  // reply while they run jobs (set by the Python host).
  static inline void (*on_done)() = nullptr;

 private:
  void Finish(std::unique_ptr<Job> job);
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<bool> done_{false};
  std::unique_ptr<Job> job_;
};

// A JS buffer an argument refers to (a wire payload with a side-buffer
// index): its memory stays alive while the job holds `ref` (the JS thread
// deletes it when the job comes back). Read on the Python thread.
// `hold` is set for a buffer passed through shared(): Python gets a view
// over the memory itself, which keeps `hold` (py_js_buffer.h).
struct SideBuffer {
  const char* data = nullptr;
  size_t size = 0;
  napi_ref ref = nullptr;
  std::shared_ptr<JsHold> hold;
};

struct Job {
  std::shared_ptr<Channel> channel;  // whose context it runs in and where it is delivered
  Op op = Op::kCall;
  uint64_t ref = 0;
  std::string text;
  std::vector<std::string> path;

  // Arguments, one of two forms: `wire` (a List of positional arguments,
  // then a Dict of keyword arguments or None; for kSetAttr the one value),
  // with `side` the buffers it refers to; or, when wire is empty, `scalars`.
  std::string wire;
  bool json = false;  // `wire` holds JSON text instead (native/py_json.h), no side buffers
  std::vector<SideBuffer> side;
  // Large wire arguments read in place, in the JS encoder's buffer
  // (callWire's `lent`): when set, the bytes are here, not in `wire`; its
  // ref is deleted by the JS thread when the job comes back, as side's.
  SideBuffer lent;
  const char* WireData() const { return lent.data ? lent.data : wire.data(); }
  size_t WireSize() const { return lent.data ? lent.size : wire.size(); }
  std::vector<Scalar> scalars;
  std::vector<uint64_t> ids;  // kRelease

  uint64_t seq = 0;  // the JS side's key for the waiting promise; 0: nobody waits
  // Host bookkeeping: when it was queued (steady ns), the object whose
  // calls it is ordered with (0: none), a process-unique number.
  int64_t queued_ns = 0;
  uint64_t order_key = 0;
  uint64_t serial = 0;
  bool cancel_requested = false;  // host mutex
  bool sync = false;  // run on the JS thread (callSync): a coroutine result is refused
  bool keep_result = false;  // the result as a proxy whatever it is (opts({ result: "proxy" }))
  size_t json_limit = 0;  // a plain container result may come back as JSON text of at most this many bytes (src/json-lane.ts)
  // kCallback: the arguments are plain, in `scalars` (no wire bytes); in
  // the reply, the JS function's plain value is in `result`.
  bool plain = false;
  std::shared_ptr<CallbackWait> waiter;  // kCallback: who waits for the reply

  Job() = default;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  ~Job() {
    if (waiter) waiter->Abandon();
  }

  bool ok = true;
  // The result: `result_wire` when not empty (with `exports`, the Python
  // buffers it refers to), else `result`.
  Scalar result;
  std::string result_wire;
  bool result_json = false;   // result_wire holds JSON text (no exports)
  bool result_ascii = false;  // ... of ASCII only
  bool json_overflow = false; // a JSON result was given up past json_limit: the lane closes (src/json-lane.ts)
  std::vector<ExportPtr> exports;
  std::vector<uint32_t> described;  // type indices the result described (PyContext::CommitTypes once delivered)
  ErrorInfo error;

  // Back to a blank job. Vectors keep a little capacity, not a bulk one: a
  // pooled job must not keep the memory of the largest call it carried.
  // (side refs are deleted by the JS thread before this.)
  void Reset() {
    op = Op::kCall;
    ref = 0;
    text.clear();
    path.clear();
    Trim(&wire);
    json = false;
    side.clear();
    lent = SideBuffer();
    if (scalars.capacity() > 16) {
      std::vector<Scalar>().swap(scalars);
    } else {
      scalars.clear();
    }
    if (ids.capacity() > 256) {
      std::vector<uint64_t>().swap(ids);
    } else {
      ids.clear();
    }
    seq = 0;
    queued_ns = 0;
    order_key = 0;
    serial = 0;
    cancel_requested = false;
    sync = false;
    keep_result = false;
    json_limit = 0;
    plain = false;
    if (waiter) {
      waiter->Abandon();
      waiter.reset();
    }
    ok = true;
    result = Scalar();
    Trim(&result_wire);
    result_json = false;
    result_ascii = false;
    json_overflow = false;
    exports.clear();
    described.clear();
    error = ErrorInfo();
  }

  void Fail(ErrorInfo e) {
    ok = false;
    error = std::move(e);
  }

 private:
  static void Trim(std::string* s) {
    if (s->capacity() > kKeptFrom) {
      KeepWireBuffer(s);  // for the next large message (wire_buffers.h)
    } else {
      s->clear();
    }
  }
};

inline void CallbackWait::Finish(std::unique_ptr<Job> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_.load(std::memory_order_relaxed)) return;
    job_ = std::move(job);
    done_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
  if (on_done) on_done();
}

}  // namespace esem
