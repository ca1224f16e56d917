// Channel: one bridge's end of the Python host. The JS thread that owns the
// bridge submits jobs through it and takes finished ones back; the Python
// thread runs them against the channel's context and delivers each one as
// soon as it has run. Shared (shared_ptr) by the bridge and every job in
// flight, so it outlives whichever of them ends last.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <node_api.h>

#include "interpreter.h"
#include "job.h"
#include "py_context.h"
#include "py_js_buffer.h"

namespace esem {

using JobList = std::vector<std::unique_ptr<Job>>;

// Wakes the JS thread from the Python thread. The JS thread cuts it (tsfn =
// nullptr) before the thread-safe function is released, so a late result
// never reaches a released function.
struct Notifier {
  std::mutex mutex;
  napi_threadsafe_function tsfn = nullptr;
  void Notify() {
    std::lock_guard<std::mutex> lock(mutex);
    if (tsfn) napi_call_threadsafe_function(tsfn, nullptr, napi_tsfn_nonblocking);
  }
  void Cut() {
    std::lock_guard<std::mutex> lock(mutex);
    tsfn = nullptr;
  }
};

class Channel {
 public:
  explicit Channel(std::shared_ptr<Notifier> notifier)
      : returns(std::make_shared<RefReturn>([n = notifier] { n->Notify(); })), notifier_(std::move(notifier)) {}

  // JS refs of shared() buffers that Python let go of, for the JS thread
  // to delete (Bridge::Drain). Shared with the Python objects over them.
  const std::shared_ptr<RefReturn> returns;

  // Which interpreter the bridge wants; written before its kStart job.
  PythonConfig config;
  // How many of its jobs may run at once (createBridge's `threads`), and how
  // many do (PythonHost's mutex).
  int max_threads = 4;
  int running = 0;
  // Python thread only (GIL held): the bridge's registry and caches.
  PyContext ctx;

  // Set by the JS thread on shutdown or teardown: jobs that have not run
  // yet fail with ESEM_SHUTDOWN instead of running.
  std::atomic<bool> closing{false};

  // The JS loop polls for results (LoopSpinner) and when it last turned;
  // while both hold, Deliver does not wake it.
  std::atomic<bool> js_polling{false};
  std::atomic<int64_t> js_poll_beat{0};  // steady_clock ns

  // Python thread: hands a finished job back and wakes the JS thread unless
  // it is polling or a wake is already on its way.
  void Deliver(std::unique_ptr<Job> job) {
    std::unique_ptr<Job> drop;  // destroyed after the lock (it may wake a waiter, or hold the last channel ref)
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (detached_) {
        // Nobody takes results any more; a job kept here would keep its
        // channel alive (the job holds it).
        drop = std::move(job);
        return;
      }
      results_.push_back(std::move(job));
      count_.store(results_.size(), std::memory_order_seq_cst);
    }
    if (js_polling.load(std::memory_order_seq_cst)) {
      int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch()).count();
      if (now - js_poll_beat.load(std::memory_order_relaxed) < 1000000) return;
    }
    if (!notify_pending_.exchange(true, std::memory_order_acq_rel)) notifier_->Notify();
  }

  // JS thread: every job delivered so far.
  void TakeResults(JobList* out) {
    notify_pending_.store(false, std::memory_order_release);
    std::lock_guard<std::mutex> lock(mutex_);
    out->swap(results_);
    count_.store(0, std::memory_order_seq_cst);
  }

  // JS thread, when its bridge is torn down: results are no longer taken;
  // those waiting and any delivered later are dropped.
  void Detach() {
    JobList dropped;
    returns->Close();
    std::lock_guard<std::mutex> lock(mutex_);
    detached_ = true;
    dropped.swap(results_);
    count_.store(0, std::memory_order_seq_cst);
  }

  // Python threads reading the JS memory of a job's arguments (its side
  // buffers, or wire bytes lent in place). V8 frees that memory with the
  // environment, so the JS thread's teardown waits for the readers
  // (WaitForJsReaders) after setting `closing`; a read that would begin
  // after that fails instead (BeginJsRead returns false).
  bool BeginJsRead() {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (closing.load(std::memory_order_acquire)) return false;
    readers_++;
    return true;
  }
  void EndJsRead() {
    {
      std::lock_guard<std::mutex> lock(readers_mutex_);
      readers_--;
    }
    readers_cv_.notify_all();
  }
  // JS thread, `closing` set. `stop_waiting` says no reader can go on (the
  // process froze Python for its exit): a parked reader reads nothing more.
  void WaitForJsReaders(const std::function<bool()>& stop_waiting) {
    std::unique_lock<std::mutex> lock(readers_mutex_);
    while (readers_ != 0 && !stop_waiting()) readers_cv_.wait_for(lock, std::chrono::milliseconds(10));
  }

  bool HasResults() const { return count_.load(std::memory_order_seq_cst) != 0; }
  void Notify() { notifier_->Notify(); }

 private:
  std::shared_ptr<Notifier> notifier_;
  std::mutex mutex_;
  JobList results_;
  std::atomic<size_t> count_{0};
  std::atomic<bool> notify_pending_{false};
  bool detached_ = false;  // guarded by mutex_
  std::mutex readers_mutex_;
  std::condition_variable readers_cv_;
  int readers_ = 0;  // guarded by readers_mutex_
};

// A Python thread's read of a job's JS memory, for as long as it lives.
// `ok` is false when the bridge is closing: the read must not begin.
class JsMemoryRead {
 public:
  explicit JsMemoryRead(const Job& job)
      : channel_(job.channel && (job.lent.data || !job.side.empty()) ? job.channel.get() : nullptr),
        ok_(!channel_ || channel_->BeginJsRead()) {
    if (!ok_) channel_ = nullptr;
  }
  ~JsMemoryRead() {
    if (channel_) channel_->EndJsRead();
  }
  JsMemoryRead(const JsMemoryRead&) = delete;
  JsMemoryRead& operator=(const JsMemoryRead&) = delete;
  bool ok() const { return ok_; }

 private:
  Channel* channel_;
  bool ok_;
};

}  // namespace esem
