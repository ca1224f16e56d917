// The Python host's loop: wait for jobs (spin briefly, then sleep), run each
// under the GIL in its channel's context, deliver it at once, repeat. Host
// thread only, except Get, Submit and Freeze.
#include "python_host.h"

#include "cpu.h"
#include "executor.h"
#include "gil.h"
#include "py_callbacks.h"
#include "py_error.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define ESEM_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define ESEM_CPU_RELAX() asm volatile("yield")
#else
#define ESEM_CPU_RELAX() std::this_thread::yield()
#endif

namespace esem {
namespace {

std::atomic<bool> g_running{false};  // the interpreter is up (the host set tstate_)
std::atomic<bool> g_frozen{false};   // Freeze() was called: no job runs any more
thread_local bool t_host_thread = false;  // this thread runs the host's jobs

[[noreturn]] void ParkForever() {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(24));
}

ErrorInfo ShutDownBeforeRun() {
  return BridgeFailure("ESEM_SHUTDOWN", "the bridge was shut down before this call ran");
}

}  // namespace

PythonHost& PythonHost::Get() {
  static PythonHost* host = [] {
    auto* h = new PythonHost();  // leaked on purpose: see the header
    std::thread([h] { h->Main(); }).detach();
    return h;
  }();
  return *host;
}

void PythonHost::Submit(std::unique_ptr<Job> job) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    incoming_.push_back(std::move(job));
    has_work_.store(true, std::memory_order_release);
    wake = sleeping_;
  }
  if (wake) wake_.notify_all();
}

void PythonHost::Discard(BufferExport* e) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    discards_.push_back(e);
    has_work_.store(true, std::memory_order_release);
    wake = sleeping_;
  }
  if (wake) wake_.notify_all();
}

void DiscardExport(BufferExport* e) {
  if (e) PythonHost::Get().Discard(e);
}

void PythonHost::ReleaseExports(std::vector<BufferExport*>* discards) {
  if (discards->empty()) return;
  if (tstate_) {
    GilScope gil(tstate_);
    for (BufferExport* e : *discards) {
      Py().PyBuffer_Release(&e->view);
      delete e;
    }
  }
  discards->clear();
}

void PythonHost::Freeze(std::chrono::milliseconds wait) {
  if (g_frozen.exchange(true) || !g_running.load()) return;
  // The GIL is taken on a thread of its own, so that a call holding it for
  // longer than `wait` (C code that never lets go) cannot hang the exit.
  struct Done {
    std::mutex mutex;
    std::condition_variable cv;
    bool taken = false;
  };
  auto done = std::make_shared<Done>();
  std::thread([done] {
    Py().PyGILState_Ensure();  // kept until the process ends
    {
      std::lock_guard<std::mutex> lock(done->mutex);
      done->taken = true;
    }
    done->cv.notify_all();
    ParkForever();
  }).detach();
  std::unique_lock<std::mutex> lock(done->mutex);
  done->cv.wait_for(lock, wait, [&] { return done->taken; });
}

void PythonHost::WakeWaiters() {
  { std::lock_guard<std::mutex> lock(mutex_); }  // a waiter checks its reply under this lock
  wake_.notify_all();
}

void PythonHost::WaitForReply(CallbackWait& wait) {
  // A JS function that returns at once answers within microseconds: spin
  // for it (and for jobs) as WaitForJobs does before sleeping.
  auto start = std::chrono::steady_clock::now();
  auto spin = std::chrono::microseconds(spin_us_.load(std::memory_order_relaxed));
  for (unsigned i = 1; !wait.Done() && !(t_host_thread && has_work_.load(std::memory_order_acquire)); i++) {
    if ((i & 63) != 0) {
      ESEM_CPU_RELAX();
      continue;
    }
    if (SameCpu(CurrentCpu(), js_cpu_.load(std::memory_order_relaxed)) || std::chrono::steady_clock::now() - start > spin) break;
  }
  if (!t_host_thread) return wait.Wait();
  for (;;) {
    JobList batch;
    std::vector<BufferExport*> discards;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      bool was_sleeping = sleeping_;
      sleeping_ = true;  // Submit wakes us
      wake_.wait(lock, [&] { return wait.Done() || !incoming_.empty() || !discards_.empty(); });
      sleeping_ = was_sleeping;
      if (wait.Done()) return;
      batch.swap(incoming_);
      discards.swap(discards_);
      has_work_.store(false, std::memory_order_release);
    }
    if (g_frozen.load()) ParkForever();
    ReleaseExports(&discards);
    Run(&batch);
  }
}

void PythonHost::Main() {
  t_host_thread = true;
  JobList batch;
  std::vector<BufferExport*> discards;
  for (;;) {
    WaitForJobs(&batch, &discards);
    if (g_frozen.load()) ParkForever();
    ReleaseExports(&discards);
    Run(&batch);
    batch.clear();
  }
}

void PythonHost::WaitForJobs(JobList* batch, std::vector<BufferExport*>* discards) {
  // A round trip from an awaiting JS caller comes back within microseconds;
  // spinning that long beats a sleep/wake of the thread (~50 us here). After
  // the spin time with nothing to do the thread sleeps: an idle host costs no
  // CPU. Every 64 turns it checks the clock and whether a JS thread now
  // shares its core (then it sleeps at once); every 512 it also yields, so
  // others on a busy machine are not starved.
  auto start = std::chrono::steady_clock::now();
  auto spin = std::chrono::microseconds(spin_us_.load(std::memory_order_relaxed));
  for (unsigned i = 1; !has_work_.load(std::memory_order_acquire); i++) {
    if ((i & 63) != 0) {
      ESEM_CPU_RELAX();
      continue;
    }
    if ((i & 511) == 0) std::this_thread::yield();
    int cpu = CurrentCpu();
    python_cpu_.store(cpu, std::memory_order_relaxed);
    if (SameCpu(cpu, js_cpu_.load(std::memory_order_relaxed)) || std::chrono::steady_clock::now() - start > spin) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_ = true;
      wake_.wait(lock, [this] { return !incoming_.empty() || !discards_.empty(); });
      sleeping_ = false;
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  batch->swap(incoming_);
  discards->swap(discards_);
  has_work_.store(false, std::memory_order_release);
}

// Runs a batch in order, taking the GIL once for all jobs that need it, and
// delivers each job as soon as it has run (a fast call never waits for a
// slow one queued after it).
void PythonHost::Run(JobList* batch) {
  std::unique_ptr<GilScope> gil;
  for (auto& slot : *batch) {
    ReleaseDeferral releases;  // JS functions dropped by this job: told after its result
    Job& job = *slot;
    Channel& channel = *job.channel;
    if (channel.closing.load(std::memory_order_acquire) && job.op != Op::kClose && job.op != Op::kRelease) {
      job.Fail(ShutDownBeforeRun());
    } else if (job.op == Op::kStart && !tstate_) {
      std::string error = StartInterpreter(channel.config, &tstate_, &library_);
      if (error.empty()) {
        g_running.store(true);
        gil = std::make_unique<GilScope>(tstate_);
        Start(job);
      } else {
        job.Fail(BridgeFailure("ESEM_NO_PYTHON", error));
      }
    } else if (!tstate_) {
      // Only a release or close of a bridge that never started gets here.
      if (job.op != Op::kRelease && job.op != Op::kClose) job.Fail(BridgeFailure("ESEM_NO_PYTHON", "Python is not running"));
    } else {
      if (!gil) gil = std::make_unique<GilScope>(tstate_);
      try {
        switch (job.op) {
          case Op::kStart:
            Start(job);
            break;
          case Op::kClose:
            channel.ctx.Clear();
            break;
          default:
            Execute(channel.ctx, slot);
        }
      } catch (const std::exception& e) {
        job.Fail(BridgeFailure("ESEM_INTERNAL", std::string("internal error: ") + e.what()));
      } catch (...) {
        job.Fail(BridgeFailure("ESEM_INTERNAL", "internal error"));
      }
    }
    if (!slot) continue;  // parked on the asyncio loop: delivered from there
    std::shared_ptr<Channel> keep = job.channel;
    std::vector<uint32_t> described = std::move(job.described);
    keep->Deliver(std::move(slot));
    if (!described.empty() && gil) keep->ctx.CommitTypes(described);
    releases.Flush();
  }
}

// A bridge's first job: the interpreter it asked for must be the one
// running; then its context loads. GIL held.
void PythonHost::Start(Job& job) {
  Channel& channel = *job.channel;
  std::string library;
  PyThreadState* unused = nullptr;
  std::string error = StartInterpreter(channel.config, &unused, &library);
  if (!error.empty()) return job.Fail(BridgeFailure("ESEM_NO_PYTHON", error));
  channel.ctx.library = library;
  error = channel.ctx.Load();
  if (error.empty()) {
    OwnedRef table = MakeCallbackTable(job.channel);
    if (!table || !channel.ctx.SetCallbacks(table.get())) error = "cannot make the bridge's callback table";
  }
  if (!error.empty()) {
    std::string why = error + ": " + FetchPythonError(channel.ctx).message;
    channel.ctx.Clear();
    return job.Fail(BridgeFailure("ESEM_NO_PYTHON", why));
  }
  job.result.kind = Scalar::Kind::kStr;
  job.result.s = library;
}

}  // namespace esem
