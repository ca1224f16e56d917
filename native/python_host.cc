// The Python host's threads: the host thread waits for jobs (spins briefly,
// then sleeps) and runs each under the GIL in its channel's context,
// delivering it at once; spare threads take queued jobs while every running
// job is stuck; a canceller thread raises CallCancelled in running jobs.
#include "python_host.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "cpu.h"
#include "executor.h"
#include "gil.h"
#include "native_thread.h"
#include "py_callbacks.h"
#include "py_js_function.h"
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
std::atomic<bool> g_gil_frozen{false};  // ... and its thread holds the GIL for good

// A job that waited this long while every running job has been busy this
// long goes to a spare thread (the running ones released the GIL: sleep,
// I/O, C code; or hold it in pure Python, then the spare shares it).
constexpr int64_t kStuckNs = 200 * 1000;
constexpr uint64_t kKeyUnknown = ~uint64_t{0};
constexpr size_t kScanLimit = 4096;  // queued jobs a worker looks past for one it may take

[[noreturn]] void ParkForever() {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(24));
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

long KernelTid() {
#if defined(__linux__)
  return static_cast<long>(syscall(SYS_gettid));
#else
  return 0;
#endif
}

// Whether thread `tid` of this process is running or waiting for a CPU
// (Linux: state R in /proc). A worker busy in a call that is running is
// not stuck: it computes, or was only descheduled; one that sleeps (S, D)
// waits for I/O, a timer or a lock, and a spare may go ahead. Elsewhere:
// unknown (false), so busy workers count as stuck.
bool Runnable(long tid) {
#if defined(__linux__)
  if (tid <= 0) return false;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
  std::FILE* f = std::fopen(path, "r");
  if (!f) return false;
  char buf[256];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* close = std::strrchr(buf, ')');  // the name may hold spaces and parentheses
  return close && close[1] == ' ' && close[2] == 'R';
#else
  (void)tid;
  return false;
#endif
}

// Takes `m`, trying for a moment first: the queue's critical sections
// last well under a microsecond, while a sleep on a contended lock costs
// two context switches, on both threads of a call burst.
void LockSpinning(std::mutex& m) {
  for (int i = 0; i < 64; i++) {
    if (m.try_lock()) return;
    ESEM_CPU_RELAX();
  }
  m.lock();
}

void DeliverJob(std::unique_ptr<Job> job) {
  std::shared_ptr<Channel> keep = job->channel;
  keep->Deliver(std::move(job));
}

}  // namespace

thread_local PythonHost::Worker* PythonHost::t_worker = nullptr;

PythonHost& PythonHost::Get() {
  static PythonHost* host = [] {
    auto* h = new PythonHost();  // leaked on purpose: see the header
    CallbackWait::on_done = [] { PythonHost::Get().WakeWaiters(); };
    esem::StartDetachedThread([h] { h->Main(); });
    return h;
  }();
  return *host;
}

void PythonHost::Submit(std::unique_ptr<Job> job) { Enqueue(&job, 1); }

void PythonHost::SubmitAll(JobList* jobs) {
  Enqueue(jobs->data(), jobs->size());
  jobs->clear();
}

void PythonHost::Enqueue(std::unique_ptr<Job>* jobs, size_t n) {
  if (n == 0) return;
  int64_t now = NowNs();
  for (size_t i = 0; i < n; i++) {
    jobs[i]->queued_ns = now;
    jobs[i]->order_key = kKeyUnknown;
  }
  bool wake, wake_spare = false;
  {
    LockSpinning(mutex_);
    std::lock_guard<std::mutex> lock(mutex_, std::adopt_lock);
    for (size_t i = 0; i < n; i++) {
      jobs[i]->serial = next_serial_++;
      queue_.push_back(std::move(jobs[i]));
    }
    has_work_.store(true, std::memory_order_release);
    wake = sleeping_ && !woken_;
    woken_ = woken_ || wake;
    // The host thread is in a job: a spare watches the queue meanwhile.
    if (!workers_.empty() && workers_[0]->busy_since.load(std::memory_order_relaxed) != 0) {
      StartSpareIfNeeded();
      wake_spare = spares_idle_ > 0 && spares_watching_ == 0;
    }
  }
  if (wake) wake_.notify_all();
  if (wake_spare) spare_wake_.notify_one();
}

bool PythonHost::Cancel(const Channel* channel, uint64_t seq) {
  std::unique_ptr<Job> removed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if ((*it)->channel.get() == channel && (*it)->seq == seq) {
        removed = std::move(*it);
        queue_.erase(it);
        break;
      }
    }
    if (!removed) {
      for (Worker* w : workers_) {
        for (Job* j : w->running) {
          if (j->channel.get() != channel || j->seq != seq) continue;
          if (!j->cancel_requested) {
            j->cancel_requested = true;
            RequestCancel({w->ident, j->serial, nullptr, 0});
          }
          return true;
        }
      }
      for (const Parked& p : parked_) {
        if (p.channel == channel && p.seq == seq) {
          RequestCancel({0, 0, channel, seq});
          return true;
        }
      }
      return false;
    }
  }
  removed->Fail(BridgeFailure("ESEM_ABORTED", "the call was cancelled before it ran"));
  DeliverJob(std::move(removed));
  return true;
}

void PythonHost::CancelRunning(const Channel* channel) {
  std::vector<uint64_t> seqs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Worker* w : workers_) {
      for (Job* j : w->running) {
        if (j->channel.get() == channel && j->seq != 0) seqs.push_back(j->seq);
      }
    }
  }
  for (uint64_t seq : seqs) Cancel(channel, seq);
}

void PythonHost::RequestCancel(CancelRequest r) {
  cancels_.push_back(r);
  if (!canceller_started_) {
    canceller_started_ = true;
    esem::StartDetachedThread([this] { CancellerMain(); });
  }
  cancel_wake_.notify_one();
}

void PythonHost::Park(const Channel* channel, uint64_t seq, PyObject* future) {
  if (seq == 0) return;
  Py().Py_IncRef(future);
  std::lock_guard<std::mutex> lock(mutex_);
  parked_.push_back({channel, seq, future});
}

void PythonHost::Unpark(const Channel* channel, uint64_t seq) {
  PyObject* future = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = parked_.begin(); it != parked_.end(); ++it) {
      if (it->channel == channel && it->seq == seq) {
        future = it->future;
        parked_.erase(it);
        break;
      }
    }
  }
  if (future) Py().Py_DecRef(future);
}

// Raises CallCancelled in the thread running job `serial`, if it still
// runs it (checked with the GIL held, so the job cannot change meanwhile),
// or cancels a parked job's future.
void PythonHost::CancellerMain() {
  for (;;) {
    CancelRequest request;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cancel_wake_.wait(lock, [this] { return !cancels_.empty(); });
      request = cancels_.front();
      cancels_.erase(cancels_.begin());
    }
    if (g_frozen.load()) ParkForever();
    const PyApi& py = Py();
    PyGILState_STATE state = py.PyGILState_Ensure();  // the running code lets go within the switch interval
    static PyObject* cancelled = [] {
      OwnedRef module = OwnedRef::Steal(Py().PyImport_ImportModule("esem_bridge.callback"));
      PyObject* type = module ? Py().PyObject_GetAttrString(module.get(), "CallCancelled") : nullptr;
      if (!type) Py().PyErr_Clear();
      return type;  // kept for the life of the process
    }();
    bool innermost = false;
    PyObject* future = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (Worker* w : workers_) {
        if (request.channel == nullptr && w->ident == request.ident && !w->running.empty() &&
            w->running.back()->serial == request.serial) {
          innermost = true;
        }
      }
      for (const Parked& p : parked_) {
        if (request.channel && p.channel == request.channel && p.seq == request.seq) future = p.future;
      }
      if (future) py.Py_IncRef(future);
    }
    // A job whose thread runs a nested job (it waits for a JS callback) is
    // not interrupted: the exception would land in the nested one.
    if (innermost && cancelled) py.PyThreadState_SetAsyncExc(request.ident, cancelled);
    if (future) {
      OwnedRef cancel = OwnedRef::Steal(py.PyObject_GetAttrString(future, "cancel"));
      OwnedRef none = OwnedRef::Steal(py.PyTuple_New(0));
      if (cancel && none) OwnedRef::Steal(py.PyObject_Call(cancel.get(), none.get(), nullptr));
      py.PyErr_Clear();
      py.Py_DecRef(future);
    }
    py.PyGILState_Release(state);
  }
}

void PythonHost::Discard(BufferExport* e) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    discards_.push_back(e);
    has_work_.store(true, std::memory_order_release);
    wake = sleeping_ && !woken_;
    woken_ = woken_ || wake;
  }
  if (wake) wake_.notify_all();
}

void DiscardExport(BufferExport* e) {
  if (e) PythonHost::Get().Discard(e);
}

void PythonHost::ReleaseExports() {
  std::vector<BufferExport*> discards;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    discards.swap(discards_);
  }
  if (discards.empty()) return;
  if (tstate_) {
    GilScope gil(tstate_);
    for (BufferExport* e : discards) {
      Py().PyBuffer_Release(&e->view);
      delete e;
    }
  }
}

bool PythonHost::Frozen() { return g_gil_frozen.load(); }

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
  esem::StartDetachedThread([done] {
    Py().PyGILState_Ensure();  // kept until the process ends
    g_gil_frozen.store(true);
    {
      std::lock_guard<std::mutex> lock(done->mutex);
      done->taken = true;
    }
    done->cv.notify_all();
    ParkForever();
  });
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
  Worker* me = t_worker;
  auto start = std::chrono::steady_clock::now();
  auto spin = std::chrono::microseconds(spin_us_.load(std::memory_order_relaxed));
  for (unsigned i = 1; !wait.Done() && !(me && has_work_.load(std::memory_order_acquire)); i++) {
    if ((i & 63) != 0) {
      ESEM_CPU_RELAX();
      continue;
    }
    if (SameCpu(CurrentCpu(), js_cpu_.load(std::memory_order_relaxed)) || std::chrono::steady_clock::now() - start > spin) break;
  }
  if (!me) return wait.Wait();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      bool was_sleeping = sleeping_;
      sleeping_ = true;  // Submit wakes us
      woken_ = false;    // with a notify of its own
      wake_.wait(lock, [&] { return wait.Done() || has_work_.load(std::memory_order_acquire); });
      sleeping_ = was_sleeping;
      woken_ = false;
      if (wait.Done()) return;
    }
    if (g_frozen.load()) ParkForever();
    RunQueued(me, false);
  }
}

void PythonHost::Main() {
  auto* me = new Worker();  // never freed, like the host
  me->tid = KernelTid();
  t_worker = me;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers_.push_back(me);
  }
  for (;;) {
    WaitForJobs();
    if (g_frozen.load()) ParkForever();
    ReleaseExports();
    RunQueued(me, false);
  }
}

void PythonHost::WaitForJobs() {
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
      woken_ = false;
      wake_.wait(lock, [this] { return has_work_.load(std::memory_order_acquire) || !discards_.empty(); });
      sleeping_ = false;
      woken_ = false;
      break;
    }
  }
}

void PythonHost::StartSpareIfNeeded() {
  if (!g_running.load() || spares_idle_ > 0 || workers_.size() >= static_cast<size_t>(threads_.load())) return;
  auto* w = new Worker();  // never freed: the thread lives until the process ends
  workers_.push_back(w);
  spares_idle_++;  // counted idle from the start, so that no second one starts for the same wait
  esem::StartDetachedThread([this, w] { SpareMain(w); });
}

void PythonHost::SpareMain(Worker* me) {
  t_worker = me;
  me->tid = KernelTid();
  const PyApi& py = Py();
  py.PyGILState_Ensure();  // this thread's state, kept for its life
  me->ident = py.PyThread_get_thread_ident();
  me->tstate = py.PyEval_SaveThread();
  bool counted = true;  // StartSpareIfNeeded counted it idle
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!counted) spares_idle_++;
      for (;;) {
        if (g_frozen.load()) break;
        int64_t now = NowNs();
        if (!queue_.empty() && now - queue_.front()->queued_ns >= kStuckNs && OthersStuck(me, now)) break;
        if (queue_.empty()) {
          spare_wake_.wait(lock);
        } else {
          spares_watching_++;
          spare_wake_.wait_for(lock, std::chrono::nanoseconds(kStuckNs));
          spares_watching_--;
        }
      }
      spares_idle_--;
      counted = false;
      StartSpareIfNeeded();  // the next one, for the next stuck job
    }
    if (g_frozen.load()) ParkForever();
    RunQueued(me, true);
  }
}

bool PythonHost::OthersStuck(const Worker* me, int64_t now) const {
  for (const Worker* w : workers_) {
    if (w == me) continue;
    int64_t since = w->busy_since.load(std::memory_order_relaxed);
    if (since == 0) {
      if (w == workers_[0]) return false;  // the host thread is free: it takes the job
      continue;                            // an idle spare: like this one
    }
    if (now - since < kStuckNs || Runnable(w->tid)) return false;
  }
  return true;
}

// Calls on one object are ordered: a job on a registered object that is
// not a module. GIL held.
uint64_t PythonHost::OrderKey(const Job& job) const {
  if (!g_running.load() || job.ref == 0) return 0;
  if (job.op != Op::kCall && job.op != Op::kGetAttr && job.op != Op::kSetAttr && job.op != Op::kHelper) return 0;
  PyObject* o = job.channel->ctx.registry.Get(job.ref);
  if (!o || TypeOf(o) == Py().PyModule_Type) return 0;
  return job.ref;
}

std::unique_ptr<Job> PythonHost::Pop(Worker* me, bool spare) {
  int64_t now = NowNs();
  if (spare && !OthersStuck(me, now)) return nullptr;
  std::vector<std::pair<const Channel*, uint64_t>> passed;  // keys of jobs left waiting: later ones wait too
  std::vector<const Channel*> barred;  // channels with a job left waiting: their kClose/kRelease wait
  // Channels whose release runs: their later jobs wait for it, so a call
  // made after release() never sees the objects still there (a spare
  // could otherwise step in while the release runs __del__ methods).
  std::vector<const Channel*> releasing;
  for (Worker* w : workers_) {
    for (Job* r : w->running) {
      if (r->op == Op::kRelease) releasing.push_back(r->channel.get());
    }
  }
  size_t n = std::min(queue_.size(), kScanLimit);
  for (size_t i = 0; i < n; i++) {
    Job& j = *queue_[i];
    const Channel* ch = j.channel.get();
    if (spare && now - j.queued_ns < kStuckNs) break;  // younger ones: the others may yet take them
    if (j.order_key == kKeyUnknown) j.order_key = OrderKey(j);
    bool wait = false;
    if (std::find(releasing.begin(), releasing.end(), ch) != releasing.end()) {
      wait = true;  // after its bridge's running release
    } else if (j.op == Op::kClose || j.op == Op::kRelease) {
      // After every earlier job of its bridge; a close also after the running ones.
      wait = std::find(barred.begin(), barred.end(), ch) != barred.end();
      if (!wait && j.op == Op::kClose) {
        for (Worker* w : workers_) {
          for (Job* r : w->running) wait = wait || r->channel.get() == ch;
        }
      }
    } else if (ch->running >= ch->max_threads &&
               std::none_of(me->running.begin(), me->running.end(), [&](Job* r) { return r->channel.get() == ch; })) {
      wait = true;  // its bridge's threads are all busy (a job nested in one of them may go)
    } else if (j.order_key != 0) {
      auto key = std::make_pair(ch, j.order_key);
      wait = std::find(passed.begin(), passed.end(), key) != passed.end();
      for (auto& held : held_keys_) {
        if (held.second != me && held.first == key) wait = true;
      }
      if (wait) passed.push_back(key);
    }
    if (wait) {
      barred.push_back(ch);
      held_back_ = true;
      continue;
    }
    std::unique_ptr<Job> job = std::move(queue_[i]);
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
    if (job->order_key != 0) held_keys_.push_back({{ch, job->order_key}, me});
    job->channel->running++;
    if (me->running.empty()) me->busy_since.store(now, std::memory_order_relaxed);
    me->running.push_back(job.get());
    // Others wait behind it: a spare watches, in case it gets stuck.
    if (!spare && !queue_.empty()) {
      StartSpareIfNeeded();
      if (spares_idle_ > 0 && spares_watching_ == 0) spare_wake_.notify_one();
    }
    return job;
  }
  return nullptr;
}

void PythonHost::RunQueued(Worker* me, bool spare) {
  std::unique_ptr<GilScope> gil;
  for (;;) {
    if (!gil && me->tstate) gil = std::make_unique<GilScope>(me->tstate);  // OrderKey reads the registry
    std::unique_ptr<Job> slot;
    {
      LockSpinning(mutex_);
      std::lock_guard<std::mutex> lock(mutex_, std::adopt_lock);
      slot = Pop(me, spare);
      if (!slot) {
        // Nothing the host thread may take: it waits for a new job or a
        // finished one. (A spare may leave jobs the host takes: it never
        // clears the flag the host waits on.)
        if (!spare) has_work_.store(false, std::memory_order_release);
        break;
      }
    }
    RunOne(me, slot, gil);
  }
}

// Runs one job and delivers it at once (a fast call never waits for a slow
// one queued after it).
void PythonHost::RunOne(Worker* me, std::unique_ptr<Job>& slot, std::unique_ptr<GilScope>& gil) {
  ReleaseDeferral releases;  // JS functions dropped by this job: told after its result
  std::vector<OwnedRef> after;  // its arguments and result: freed once it is delivered
  Job* running = slot.get();
  Job& job = *slot;
  Channel& channel = *job.channel;
  std::shared_ptr<Channel> keep = job.channel;
  uint64_t key = job.order_key;
  bool cancelled = false;
  bool wake_others = false;
  if (channel.closing.load(std::memory_order_acquire) && job.op != Op::kClose && job.op != Op::kRelease) {
    job.Fail(ShutDownBeforeRun());
  } else if (job.op == Op::kStart && !tstate_) {
    std::string error = StartInterpreter(channel.config, &tstate_, &library_);
    if (error.empty()) {
      me->tstate = tstate_;
      gil = std::make_unique<GilScope>(tstate_);
      me->ident = Py().PyThread_get_thread_ident();
      g_running.store(true);
      Start(job);
    } else {
      job.Fail(BridgeFailure("ESEM_NO_PYTHON", error));
    }
  } else if (!tstate_) {
    // Only a release or close of a bridge that never started gets here.
    if (job.op != Op::kRelease && job.op != Op::kClose) job.Fail(BridgeFailure("ESEM_NO_PYTHON", "Python is not running"));
  } else {
    if (!gil) gil = std::make_unique<GilScope>(me->tstate);
    try {
      switch (job.op) {
        case Op::kStart:
          Start(job);
          break;
        case Op::kClose:
          channel.ctx.Clear();
          break;
        default:
          Execute(channel.ctx, slot, &after);
      }
    } catch (const std::exception& e) {
      if (slot) job.Fail(BridgeFailure("ESEM_INTERNAL", std::string("internal error: ") + e.what()));
    } catch (...) {
      if (slot) job.Fail(BridgeFailure("ESEM_INTERNAL", "internal error"));
    }
  }
  {
    LockSpinning(mutex_);
    std::lock_guard<std::mutex> lock(mutex_, std::adopt_lock);
    cancelled = running->cancel_requested;  // read before the job may go (parked jobs live on)
    keep->running--;
    auto& r = me->running;
    r.erase(std::remove(r.begin(), r.end(), running), r.end());
    if (r.empty()) me->busy_since.store(0, std::memory_order_relaxed);
    if (key != 0 && key != kKeyUnknown) {
      for (auto it = held_keys_.begin(); it != held_keys_.end(); ++it) {
        if (it->second == me && it->first.first == keep.get() && it->first.second == key) {
          held_keys_.erase(it);
          break;
        }
      }
    }
    // Jobs left waiting for this one (its object, its bridge's threads)
    // may go now: every thread looks again.
    wake_others = held_back_;
    held_back_ = false;
    if (wake_others && !queue_.empty()) has_work_.store(true, std::memory_order_release);
  }
  if (wake_others) {
    wake_.notify_all();
    spare_wake_.notify_all();
  }
  // A cancel that came too late to land must not hit the next job.
  if (cancelled && gil) Py().PyThreadState_SetAsyncExc(me->ident, nullptr);
  if (!slot) return;  // parked on the asyncio loop: delivered from there
  std::vector<uint32_t> described = std::move(job.described);
  keep->Deliver(std::move(slot));
  if (!described.empty() && gil) keep->ctx.CommitTypes(described);
  after.clear();  // GIL held: `after` has items only if the job ran
  releases.Flush();
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
    // The table makes native JsFunctions (py_js_function.h): the writer sends those back as themselves.
    if (PyObject* type = error.empty() ? JsFunctionType() : nullptr) channel.ctx.js_function_type = OwnedRef::Borrow(type);
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
