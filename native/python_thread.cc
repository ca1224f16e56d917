// The Python thread's loop: attach, then wait (spin briefly, then sleep),
// run a batch under the GIL, deliver, repeat; on stop, release this
// bridge's objects and detach.
#include "python_thread.h"

#include <chrono>

#include "cpu.h"
#include "executor.h"
#include "gil.h"
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

PythonThread::PythonThread(PythonConfig config, std::function<void()> notify, int spin_us)
    : config_(std::move(config)), notify_(std::move(notify)), spin_(spin_us) {}

PythonThread::~PythonThread() {
  if (thread_.joinable()) thread_.detach();
}

void PythonThread::Start() {
  // The thread holds itself alive: it may outlive the JS object (teardown).
  auto self = shared_from_this();
  thread_ = std::thread([self] { self->Main(); });
}

bool PythonThread::Submit(std::unique_ptr<Job>* job) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (exited_) return false;
    incoming_.push_back(std::move(*job));
    has_work_.store(true, std::memory_order_release);
    wake = sleeping_;
  }
  if (wake) wake_.notify_one();
  return true;
}

void PythonThread::TakeResults(JobList* out) {
  notify_pending_.store(false, std::memory_order_release);
  std::lock_guard<std::mutex> lock(results_mutex_);
  out->swap(results_);
  result_count_.store(0, std::memory_order_seq_cst);
}

void PythonThread::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    has_work_.store(true, std::memory_order_release);
  }
  wake_.notify_one();
}

void PythonThread::Join() {
  if (thread_.joinable()) thread_.join();
}

void PythonThread::Detach() {
  if (thread_.joinable()) thread_.detach();
}

// Returns whether a stop was requested; *batch holds every queued job.
bool PythonThread::WaitForJobs(JobList* batch) {
  // A round trip from an awaiting JS caller comes back within microseconds;
  // spinning that long beats a sleep/wake of the thread (~50 us here). After
  // spin_ with nothing to do the thread sleeps: an idle bridge costs no CPU.
  // Every 64 turns it checks the clock and whether the JS thread now shares
  // its core (then it sleeps at once); every 512 it also yields, so others
  // on a busy machine are not starved (more often costs context switches).
  auto start = std::chrono::steady_clock::now();
  for (unsigned i = 1; !has_work_.load(std::memory_order_acquire); i++) {
    if ((i & 63) != 0) {
      ESEM_CPU_RELAX();
      continue;
    }
    if ((i & 511) == 0) std::this_thread::yield();
    int cpu = CurrentCpu();
    python_cpu_.store(cpu, std::memory_order_relaxed);
    if (SameCpu(cpu, js_cpu_.load(std::memory_order_relaxed)) || std::chrono::steady_clock::now() - start > spin_) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_ = true;
      wake_.wait(lock, [this] { return !incoming_.empty() || stop_; });
      sleeping_ = false;
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  batch->swap(incoming_);
  has_work_.store(stop_, std::memory_order_release);
  return stop_;
}

void PythonThread::Deliver(JobList* batch) {
  if (batch->empty()) return;
  {
    std::lock_guard<std::mutex> lock(results_mutex_);
    if (results_.empty()) {
      results_.swap(*batch);
    } else {
      for (auto& job : *batch) results_.push_back(std::move(job));
    }
    result_count_.store(results_.size(), std::memory_order_seq_cst);
  }
  batch->clear();
  // A JS loop that is polling (and really turning: some runtimes accept an
  // idle handle but never run it) takes the results itself (LoopSpinner).
  if (js_polling_.load(std::memory_order_seq_cst)) {
    int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch()).count();
    if (now - js_poll_beat_.load(std::memory_order_relaxed) < 1000000) return;
  }
  if (!notify_pending_.exchange(true, std::memory_order_acq_rel)) notify_();
}

void PythonThread::Main() {
  Attachment attachment;
  std::string failure = AttachInterpreter(config_, &attachment);
  PyThreadState* tstate = nullptr;
  if (failure.empty()) {
    ctx_.library = attachment.library;
    ctx_.wire_threshold = config_.wire_threshold;
    std::string error = ctx_.Load();
    if (!error.empty()) {
      failure = error + ": " + FetchPythonError(ctx_).message;
      ctx_.Clear();
      DetachInterpreter(attachment);
    } else {
      tstate = Py().PyEval_SaveThread();
    }
  }

  JobList batch;
  bool stop = false;
  while (!stop) {
    stop = WaitForJobs(&batch);
    if (!failure.empty() || stop) {
      for (auto& job : batch) {
        job->Fail(stop ? BridgeFailure("ESEM_SHUTDOWN", "the bridge was shut down before this call ran")
                       : BridgeFailure("ESEM_NO_PYTHON", failure));
      }
    } else if (!batch.empty()) {
      GilScope gil(tstate);
      for (auto& job : batch) Execute(ctx_, *job);
    }
    Deliver(&batch);
    if (!failure.empty()) break;
  }

  if (tstate) {
    Py().PyEval_RestoreThread(tstate);
    ctx_.Clear();
    DetachInterpreter(attachment);
  }
  failure_ = failure;
  // Jobs that arrived after the last batch, then a final wake-up for Join.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    exited_ = true;
    batch.swap(incoming_);
  }
  stopped_.store(true, std::memory_order_release);
  for (auto& job : batch) {
    job->Fail(!failure.empty() ? BridgeFailure("ESEM_NO_PYTHON", failure)
                               : BridgeFailure("ESEM_SHUTDOWN", "the bridge was shut down before this call ran"));
  }
  {
    std::lock_guard<std::mutex> lock(results_mutex_);
    for (auto& job : batch) results_.push_back(std::move(job));
    result_count_.store(results_.size(), std::memory_order_seq_cst);
  }
  notify_pending_.store(true);
  notify_();
}

}  // namespace esem
