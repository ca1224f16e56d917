// Bridge: the JS object behind one esem bridge (native mode). It converts
// arguments, queues jobs on the Python host through its Channel, and
// settles the promises of finished jobs. JS thread only.
#pragma once

#include <napi.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "channel.h"
#include "js_values.h"
#include "loop_spinner.h"
#include "py_callbacks.h"

namespace esem {

struct AddonData;

// Deferreds of calls in flight, by seq (a slot index + 1, reused).
class PendingTable {
 public:
  uint64_t Reserve() {
    if (free_.empty()) {
      slots_.push_back(nullptr);
      return slots_.size();
    }
    uint64_t seq = free_.back();
    free_.pop_back();
    return seq;
  }
  void Set(uint64_t seq, napi_deferred d) {
    slots_[seq - 1] = d;
    count_++;
  }
  // The deferred for seq, or nullptr (already settled, or cancelled: its
  // job is back, so the slot is free again).
  napi_deferred Take(uint64_t seq) {
    if (seq == 0 || seq > slots_.size() || !slots_[seq - 1]) return nullptr;
    napi_deferred d = slots_[seq - 1];
    slots_[seq - 1] = nullptr;
    free_.push_back(seq);
    if (d == Cancelled()) return nullptr;
    count_--;
    return d;
  }
  // The deferred of a call being cancelled (the caller rejects it); its
  // slot stays taken until the job comes back, but no longer counts.
  napi_deferred Cancel(uint64_t seq) {
    if (seq == 0 || seq > slots_.size()) return nullptr;
    napi_deferred d = slots_[seq - 1];
    if (!d || d == Cancelled()) return nullptr;
    slots_[seq - 1] = Cancelled();
    count_--;
    return d;
  }
  std::vector<napi_deferred> TakeAll() {
    std::vector<napi_deferred> out;
    for (auto& d : slots_) {
      if (d && d != Cancelled()) out.push_back(d);
      d = nullptr;
    }
    slots_.clear();
    free_.clear();
    count_ = 0;
    return out;
  }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  static napi_deferred Cancelled() { return reinterpret_cast<napi_deferred>(uintptr_t{1}); }
  std::vector<napi_deferred> slots_;
  std::vector<uint64_t> free_;
  size_t count_ = 0;
};

class Bridge : public Napi::ObjectWrap<Bridge>, public SpinnerClient {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Bridge(const Napi::CallbackInfo& info);
  ~Bridge() override;

  // Environment teardown or collection: stop without waiting, settle
  // nothing; the host drops this bridge's Python objects later.
  void Teardown();

  // SpinnerClient
  bool HasResults() override { return channel_ && channel_->HasResults(); }
  void DrainFromLoop() override;
  void Kick() override;
  AddonData* addon = nullptr;

 private:
  enum class State { kNew, kRunning, kStopping, kStopped };

  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Call(const Napi::CallbackInfo& info);
  Napi::Value CallWire(const Napi::CallbackInfo& info);
  Napi::Value JsonResults(const Napi::CallbackInfo& info);
  bool json_keep_ = false;  // ESEM_JSON_LANE=always: an overflow does not close the lane
  size_t json_limit_ = 0;  // jobs submitted may get JSON results of at most this many bytes (src/json-lane.ts)
  Napi::Value GetAttr(const Napi::CallbackInfo& info);
  Napi::Value SetAttr(const Napi::CallbackInfo& info);
  Napi::Value Import(const Napi::CallbackInfo& info);
  Napi::Value Helper(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value ReplyPlain(const Napi::CallbackInfo& info);
  Napi::Value Reply(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value CallSync(const Napi::CallbackInfo& info);  // bridge_sync.cc
  Napi::Value PrepareSync(const Napi::CallbackInfo& info);
  Napi::Value CancelRunning(const Napi::CallbackInfo& info);
  Napi::Value TrimSparesNow(const Napi::CallbackInfo& info);
  Napi::Value SyncOutcome(napi_env env, std::unique_ptr<Job> job);
  Napi::Value CallFast(const Napi::CallbackInfo& info);
  // A method as a plain function whose data is the bridge (bridge.cc).
  template <Napi::Value (Bridge::*method)(const Napi::CallbackInfo&)>
  static Napi::Value Unbound(const Napi::CallbackInfo& info) {
    return (static_cast<Bridge*>(info.Data())->*method)(info);
  }
  template <Napi::Value (Bridge::*method)(const Napi::CallbackInfo&)>
  void DefineUnbound(Napi::Object self, const char* name);
  static constexpr size_t kInlineArgs = 8;  // callFast's arguments held without an allocation
  static void RunPlainCallbackNow(void* self, long long id, Scalar* args, size_t n, CallbackAnswer* out);
  static void RunCallbackNow(void* bridge, Job* job, CallbackAnswer* out);
  bool started_ = false;  // its start job came back ok (the interpreter runs)
  Napi::Value LastSeq(const Napi::CallbackInfo& info);
  uint64_t last_seq_ = 0;

  // Python -> JS jobs (bridge_callbacks.cc): a call of a JS function, kept
  // by token until JS answers; a JS function Python dropped.
  void StartCallback(napi_env env, std::unique_ptr<Job> job);
  void ReleaseCallback(napi_env env, const Job& job);
  void AbandonCallbacks();
  std::unordered_map<uint64_t, std::unique_ptr<Job>> callbacks_;
  uint64_t next_callback_ = 1;

  // Queues `job`; returns its promise (or undefined when !wait).
  napi_value Submit(napi_env env, std::unique_ptr<Job> job, bool wait);
  napi_value Rejected(napi_env env, const ErrorInfo& error);
  bool WireArguments(napi_env env, const Napi::CallbackInfo& info, size_t at, Job* job, bool lent = false);
  static bool Path(napi_env env, napi_value v, std::vector<std::string>* out);
  static void OnResults(napi_env env, napi_value js_cb, void* context, void* data);
  void Drain(napi_env env);
  // A result that reached no promise: decoded and dropped.
  void DropResult(napi_env env, Job& job);
  // Releases the exception objects of an error that reached no promise.
  void ReleaseLinks(napi_env env, const ErrorInfo& error);
  void Settle(napi_env env, Job& job, napi_deferred d);
  void FinishStop(napi_env env);
  void UpdateRef(napi_env env);
  void CloseTsfn();
  void SendClose();

  PythonConfig config_;
  int spin_us_ = 100;
  int threads_ = 4;
  State state_ = State::kNew;
  std::shared_ptr<Channel> channel_;
  std::shared_ptr<Notifier> notifier_;
  bool close_sent_ = false;
  napi_threadsafe_function tsfn_ = nullptr;
  napi_async_context async_context_ = nullptr;  // for draining from the loop
  napi_ref async_resource_ = nullptr;
  bool draining_from_loop_ = false;
  bool release_async_later_ = false;
  void ReleaseAsyncContext();
  bool referenced_ = false;
  JsHelpers helpers_;
  napi_env env_ = nullptr;

  std::unique_ptr<Job> NewJob();
  std::unique_ptr<Job> TargetJob(const Napi::CallbackInfo& info, Op op);
  void Recycle(std::unique_ptr<Job> job);
  void TrimSpares();
  void FlushOutbox();
  JobList outbox_;  // calls not yet handed to the host (Submit)
  static constexpr size_t kOutboxBatch = 64;
  // Finished jobs kept for reuse: up to kMaxSpareJobs while bursts that
  // large recur (a job past the pool costs mallocs and frees on the JS
  // thread: malloc was a fifth of its time in bursts of 20 000 calls with
  // 16 384 kept; 131 072 kept did not make bursts of 100 000 faster),
  // down to kBaseSpareJobs once a whole kSpareWindow has passed without
  // them being used (TrimSpares: after a drain that leaves no call in
  // flight, and from a timer of the JS side, trimSpares()).
  static constexpr size_t kMaxSpareJobs = 32768;
  static constexpr size_t kBaseSpareJobs = 4096;
  static constexpr size_t kTrimBatch = 16384;  // freed at a time at most: no long pause
  static constexpr std::chrono::milliseconds kSpareWindow{1000};
  size_t spare_low_ = 0;  // the fewest spares there were since the window began
  size_t trim_left_ = 0;  // spares the last window found unused, still to free
  std::chrono::steady_clock::time_point window_start_{};

  LoopSpinner spinner_;
  PendingTable pending_;
  JobList spare_;  // finished jobs kept for reuse (their vectors keep capacity; see kMaxSpareJobs)
  napi_deferred stop_deferred_ = nullptr;
};

// Per-environment state (main thread or a worker_thread).
struct AddonData {
  napi_env env = nullptr;
  std::vector<Bridge*> bridges;
  Napi::FunctionReference bridge_ctor;
};

}  // namespace esem
