// JS functions called from Python (docs/concurrency.md#callbacks). Each
// native bridge's Python side has a CallbackTable (esem_bridge.callback)
// whose `invoke` and `release` are JsInvoker objects made here, bound
// weakly to the bridge's channel. Invoking one, on any Python thread with
// the GIL, writes the arguments to wire bytes, delivers a kCallback job to
// the bridge's JS thread and waits for the reply without the GIL; a host
// thread runs other queued jobs meanwhile (a callback may call Python).
#pragma once

#include <memory>
#include <string>
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

// The arguments of one call of a JS function from Python: positional
// items[0..n) (read only when n <= kPlainArgs), `tuple` the same as a tuple
// or nullptr (made when the call needs one), `kwargs` a dict or nullptr.
// All borrowed.
struct JsCallArgs {
  PyObject* const* items;
  size_t n;
  PyObject* tuple;
  PyObject* kwargs;
};

// Calls JS function `id` of `channel` and waits for its outcome; GIL held
// on entry and exit, released while JS runs. The result (a new reference),
// or nullptr with JSError (it threw), CallbackGone (the JS side is gone) or
// another Python error set.
PyObject* InvokeJsFunction(const std::shared_ptr<Channel>& channel, long long id, const JsCallArgs& args);

// GIL held: the call's positional arguments as a tuple and its keywords as
// a dict (empty when none); false with a Python error set.
bool ArgsAsObjects(const JsCallArgs& args, OwnedRef* tuple, OwnedRef* kwargs);

// The channel a CallbackTable's invoke callable (a JsInvoker) calls into;
// false when `o` is no such callable.
bool InvokerChannel(PyObject* o, std::weak_ptr<Channel>* out);

// A JS function's outcome during a callSync, as the JS thread read it: a
// plain value in `result` (ok and plain), or wire bytes of [value] (ok) or
// of [name, message, stack] (it threw) in `wire`; ok false and no bytes
// when the hook itself failed.
struct CallbackAnswer {
  bool ok = false;
  bool plain = false;
  Scalar result;
  std::string wire;
};

// A synchronous call running on its bridge's JS thread (callSync): a JS
// function of that bridge that Python calls meanwhile, on that thread, runs
// at once through `run` (no thread hop): the JS function job->ref with the
// arguments job->wire; GIL not held.
struct SyncCall {
  const Channel* channel;
  void* bridge;
  void (*run)(void* bridge, Job* job, CallbackAnswer* out);
  SyncCall* outer;
  // The same with plain arguments (at most kPlainArgs, no wire bytes). GIL not held.
  void (*run_plain)(void* bridge, long long id, Scalar* args, size_t n, CallbackAnswer* out);
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
