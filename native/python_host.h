// PythonHost: the process's one Python thread. It is started by the first
// bridge, initializes the interpreter (so it is Python's main thread:
// `signal.signal` works in every call and `threading.main_thread()` stays
// alive), and then runs the jobs of every bridge of every Node environment,
// in the order each was submitted, delivering each job to its channel as
// soon as it has run. It lives until the process ends and is never joined.
// Submit and the CPU hints are thread-safe; the rest is the host thread's.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "channel.h"

namespace esem {

class PythonHost {
 public:
  // The host, started on first use. Never destroyed (no static destructor
  // may stop a thread that runs Python).
  static PythonHost& Get();

  // Queues a job (job->channel set). Any thread; never blocks on Python.
  void Submit(std::unique_ptr<Job> job);

  // Queues Python memory lent to JS for release (with the GIL, on the
  // host thread). Any thread.
  void Discard(BufferExport* e);

  // A Python thread waiting for a JS callback's reply (GIL released). On
  // the host thread, queued jobs run meanwhile (the callback may call
  // Python and await it); elsewhere it just blocks.
  void WaitForReply(CallbackWait& wait);
  // Wakes host threads waiting in WaitForReply (a reply arrived). Any thread.
  void WakeWaiters();

  // How long the host spins for work before it sleeps (the latest bridge's wish).
  void SetSpin(int spin_us) { spin_us_.store(spin_us, std::memory_order_relaxed); }

  // The CPUs each side last ran on: neither spins while they share one.
  std::atomic<int>& js_cpu() { return js_cpu_; }
  std::atomic<int>& python_cpu() { return python_cpu_; }

  // Process exit: stops all Python code for good (takes the GIL and never
  // gives it back), waiting at most `wait` for the running code to let go.
  // Any thread; later jobs are never run.
  static void Freeze(std::chrono::milliseconds wait);

 private:
  PythonHost() = default;
  void Main();
  void WaitForJobs(JobList* batch, std::vector<BufferExport*>* discards);
  void ReleaseExports(std::vector<BufferExport*>* discards);
  void Run(JobList* batch);
  void Start(Job& job);

  std::mutex mutex_;
  std::condition_variable wake_;
  JobList incoming_;
  std::vector<BufferExport*> discards_;
  bool sleeping_ = false;
  std::atomic<bool> has_work_{false};
  std::atomic<int> spin_us_{100};
  std::atomic<int> js_cpu_{-1};
  std::atomic<int> python_cpu_{-1};

  // Host thread only.
  PyThreadState* tstate_ = nullptr;  // set once the interpreter runs
  std::string library_;
};

}  // namespace esem
