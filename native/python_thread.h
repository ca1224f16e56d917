// PythonThread: one bridge's dedicated Python thread and its two queues.
// The JS thread submits jobs and takes results; the Python thread drains the
// job queue in batches with the GIL held and hands finished jobs back,
// waking the JS thread once per batch. Submit/TakeResults/RequestStop are
// thread-safe; the rest of the state belongs to the Python thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "interpreter.h"
#include "job.h"
#include "py_context.h"

namespace esem {

using JobList = std::vector<std::unique_ptr<Job>>;

class PythonThread : public std::enable_shared_from_this<PythonThread> {
 public:
  // notify: called on the Python thread when results are waiting; must be
  // safe to call at any time (the JS side may be gone).
  PythonThread(PythonConfig config, std::function<void()> notify, int spin_us);
  ~PythonThread();

  void Start();
  // False once the thread has exited: the job is handed back in *job.
  bool Submit(std::unique_ptr<Job>* job);
  void TakeResults(JobList* out);
  // Ends the thread after its current batch; queued jobs come back failed
  // with ESEM_SHUTDOWN. Then `stopped()` turns true and notify runs.
  void RequestStop();
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  // Why the interpreter could not be used ("" if it could); valid once stopped().
  const std::string& failure() const { return failure_; }
  // The CPUs each side last ran on: neither spins while they share one.
  std::atomic<int>& js_cpu() { return js_cpu_; }
  // Set while the JS loop polls for results, with the time of its last
  // turn: while both hold, Deliver() does not wake it.
  std::atomic<bool>& js_polling() { return js_polling_; }
  std::atomic<int64_t>& js_poll_beat() { return js_poll_beat_; }
  bool HasResults() const { return result_count_.load(std::memory_order_seq_cst) != 0; }
  std::atomic<int>& python_cpu() { return python_cpu_; }

  // Waits for the thread; only once stopped() (or it could block).
  void Join();
  // Lets the thread finish on its own (environment teardown).
  void Detach();

 private:
  void Main();
  bool WaitForJobs(JobList* batch);
  void Deliver(JobList* batch);

  PythonConfig config_;
  std::function<void()> notify_;
  std::chrono::microseconds spin_;
  std::thread thread_;

  std::mutex mutex_;
  std::condition_variable wake_;
  JobList incoming_;
  bool sleeping_ = false;
  bool stop_ = false;
  bool exited_ = false;
  std::atomic<bool> has_work_{false};
  std::atomic<int> js_cpu_{-1};
  std::atomic<int> python_cpu_{-1};
  std::atomic<bool> js_polling_{false};
  std::atomic<int64_t> js_poll_beat_{0};  // steady_clock ns
  std::atomic<size_t> result_count_{0};

  std::mutex results_mutex_;
  JobList results_;
  std::atomic<bool> notify_pending_{false};
  std::atomic<bool> stopped_{false};
  std::string failure_;

  PyContext ctx_;  // Python thread only
};

}  // namespace esem
