// PythonHost: the process's Python threads. The first bridge starts the
// host thread, which initializes the interpreter (so it is Python's main
// thread: `signal.signal` works in every call and `threading.main_thread()`
// stays alive) and then runs the jobs of every bridge of every Node
// environment, in the order each was submitted, delivering each job to its
// channel as soon as it has run. When every running job has been busy for
// a while (it released the GIL: sleep, I/O, C code) and a job waits, a
// spare thread (up to threads - 1 of them) runs it: calls that block do
// not hold up the rest, and calls on one object never overlap and keep
// their order (docs/concurrency.md). Threads live until the process ends
// and are never joined. Submit, Cancel and the CPU hints are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
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
  // Queues the jobs in order, under one lock and with one wake-up; empties `jobs`.
  void SubmitAll(JobList* jobs);
  // Whether the host thread may have queued work: set when a job is
  // queued, cleared when that thread finds none it may take (a hint read
  // without the lock; Bridge::Submit's outbox).
  bool HasQueued() const { return has_work_.load(std::memory_order_relaxed); }

  // Cancels the job `seq` of `channel`: a queued one is removed and
  // delivered failed (ESEM_ABORTED) without running; a running one gets
  // esem_bridge.callback.CallCancelled raised in its thread at its next
  // bytecode. False when it is neither (it finished). Any thread.
  bool Cancel(const Channel* channel, uint64_t seq);

  // A job parked on the asyncio loop (its coroutine's future), so that
  // Cancel can cancel it; Unpark when it finished. GIL held.
  void Park(const Channel* channel, uint64_t seq, PyObject* future);
  void Unpark(const Channel* channel, uint64_t seq);

  // Cancels every running job of `channel` (as Cancel does). Any thread.
  void CancelRunning(const Channel* channel);

  // Queues Python memory lent to JS for release (with the GIL, on a host
  // thread). Any thread.
  void Discard(BufferExport* e);

  // A Python thread waiting for a JS callback's reply (GIL released). On
  // a host thread, queued jobs run meanwhile (the callback may call
  // Python and await it); elsewhere it just blocks.
  void WaitForReply(CallbackWait& wait);
  // Wakes host threads waiting in WaitForReply (a reply arrived). Any thread.
  void WakeWaiters();

  // How long the host spins for work before it sleeps (the latest bridge's wish).
  void SetSpin(int spin_us) { spin_us_.store(spin_us, std::memory_order_relaxed); }
  // How many threads may run jobs at once: the most any bridge asked for
  // (each bridge's own limit is its channel's max_threads).
  void SetThreads(int n) {
    int seen = threads_.load(std::memory_order_relaxed);
    while (n > seen && !threads_.compare_exchange_weak(seen, n)) {
    }
  }

  // The CPUs each side last ran on: neither spins while they share one.
  std::atomic<int>& js_cpu() { return js_cpu_; }
  std::atomic<int>& python_cpu() { return python_cpu_; }

  // Process exit: stops all Python code for good (takes the GIL and never
  // gives it back), waiting at most `wait` for the running code to let go.
  // Any thread; later jobs are never run.
  static void Freeze(std::chrono::milliseconds wait);
  // Freeze() holds the GIL: no Python thread runs or reads anything more.
  static bool Frozen();

 private:
 public:
  // One thread that runs jobs: the host thread or a spare.
  struct Worker {
    PyThreadState* tstate = nullptr;  // GIL released between jobs
    unsigned long ident = 0;          // Python's id of the thread (for cancelling)
    long tid = 0;                     // the kernel's id of the thread (Linux: is it running?)
    std::atomic<int64_t> busy_since{0};  // steady ns the current job started; 0 idle
    std::vector<Job*> running;        // jobs it runs, innermost last (a callback's wait nests them)
  };

 private:
  static thread_local Worker* t_worker;  // the worker this thread is, if any

  PythonHost() = default;
  void Main();
  void SpareMain(Worker* me);
  void WaitForJobs();
  void ReleaseExports();
  // Runs queued jobs on `me` until none it may take is left (spare: only
  // while every other worker is stuck). GIL taken when needed.
  void RunQueued(Worker* me, bool spare);
  void RunOne(Worker* me, std::unique_ptr<Job>& slot, std::unique_ptr<class GilScope>& gil);
  std::unique_ptr<Job> Pop(Worker* me, bool spare);  // mutex_ held
  void Enqueue(std::unique_ptr<Job>* jobs, size_t n);  // Submit, SubmitAll
  bool OthersStuck(const Worker* me, int64_t now) const;  // mutex_ held
  uint64_t OrderKey(const Job& job) const;              // GIL held
  void StartSpareIfNeeded();                             // mutex_ held
  void Start(Job& job);
  void CancelRunning(unsigned long ident, uint64_t serial);
  void CancellerMain();

  std::mutex mutex_;
  std::condition_variable wake_;   // the host thread and waiters in WaitForReply
  std::condition_variable spare_wake_;
  std::deque<std::unique_ptr<Job>> queue_;
  std::vector<BufferExport*> discards_;
  bool sleeping_ = false;
  bool woken_ = false;  // a wake_ notify is on its way to the sleepers: a burst of submits sends one
  std::atomic<bool> has_work_{false};
  std::atomic<int> spin_us_{100};
  std::atomic<int> threads_{1};
  std::atomic<int> js_cpu_{-1};
  std::atomic<int> python_cpu_{-1};
  uint64_t next_serial_ = 1;
  std::vector<Worker*> workers_;  // started ones, host first (never freed)
  int spares_idle_ = 0;
  int spares_watching_ = 0;  // idle spares in a timed wait (they look at the queue again by themselves)
  bool held_back_ = false;   // Pop left a job for its order key, thread limit or a barrier: a finished job wakes the others
  // Order keys of jobs running now, with the worker running each.
  std::vector<std::pair<std::pair<const Channel*, uint64_t>, Worker*>> held_keys_;
  // Cancels for the canceller thread: a running job (thread ident, job
  // serial) or a parked one (channel, seq: its future is cancelled).
  struct CancelRequest {
    unsigned long ident = 0;
    uint64_t serial = 0;
    const Channel* channel = nullptr;
    uint64_t seq = 0;
  };
  std::vector<CancelRequest> cancels_;
  struct Parked {
    const Channel* channel;
    uint64_t seq;
    PyObject* future;  // owned (GIL)
  };
  std::vector<Parked> parked_;
  void RequestCancel(CancelRequest r);  // mutex_ held
  std::condition_variable cancel_wake_;
  bool canceller_started_ = false;

  // Host thread only.
  PyThreadState* tstate_ = nullptr;  // set once the interpreter runs
  std::string library_;
};

}  // namespace esem
