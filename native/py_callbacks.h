// JS functions called from Python (docs/concurrency.md#callbacks). Each
// native bridge's Python side has a CallbackTable (esem_bridge.callback)
// whose `invoke` and `release` are JsInvoker objects made here, bound
// weakly to the bridge's channel. Invoking one, on any Python thread with
// the GIL, writes the arguments to wire bytes, delivers a kCallback job to
// the bridge's JS thread and waits for the reply without the GIL; a host
// thread runs other queued jobs meanwhile (a callback may call Python).
#pragma once

#include <memory>
#include <vector>

#include "py_ref.h"
#include "scalar.h"

namespace esem {

class Channel;

// esem_bridge.callback.CallbackTable(invoke, release) for `channel`; GIL
// held. Empty with a Python error set.
OwnedRef MakeCallbackTable(const std::shared_ptr<Channel>& channel);

struct Job;

// The most arguments a JS function gets as themselves (plain ones); more
// go as wire bytes.
constexpr size_t kPlainArgs = 8;

// A synchronous call running on its bridge's JS thread (callSync): a JS
// function of that bridge that Python calls meanwhile, on that thread, runs
// at once through `run` (no thread hop). `run` fills job->wire and job->ok
// from the JS function's outcome (or, for a plain value, job->result with
// job->plain); GIL not held.
struct SyncCall {
  const Channel* channel;
  void* bridge;
  void (*run)(void* bridge, Job* job);
  SyncCall* outer;
  // The same with plain arguments (at most kPlainArgs, no wire bytes);
  // fills `out` as run fills its job (a plain result: out->plain). GIL not held.
  void (*run_plain)(void* bridge, long long id, Scalar* args, size_t n, Job* out) = nullptr;
  static SyncCall* Current();
  void Enter();
  void Leave();
};

// While one lives on a thread, the JS functions Python drops there are
// told to JS only at Flush(): a host thread flushes after it delivered the
// job it ran, so a JS function in that job's result reaches JS before the
// news that Python let go of it. Nests (a callback's wait runs jobs).
class ReleaseDeferral {
 public:
  ReleaseDeferral();
  ~ReleaseDeferral();  // flushes
  void Flush();
  ReleaseDeferral(const ReleaseDeferral&) = delete;
  ReleaseDeferral& operator=(const ReleaseDeferral&) = delete;

  // The innermost deferral of this thread, or nullptr.
  static ReleaseDeferral* Current();
  void Add(std::unique_ptr<Job> job);

 private:
  ReleaseDeferral* outer_;
  std::vector<std::unique_ptr<Job>> jobs_;
};

}  // namespace esem
