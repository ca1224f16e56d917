// LoopSpinner: keeps the JS thread's event loop polling (not sleeping) for a
// short while after a call is sent, so a result that comes back within
// microseconds is seen without the thread being woken from sleep (a wake
// costs 20-50 us on virtual machines). It uses an idle handle from libuv,
// looked up at run time: where the runtime has no libuv (some Bun/Deno
// versions) it does nothing and results still arrive through the
// thread-safe function. JS thread only.
#pragma once

#include <node_api.h>

#include <atomic>
#include <chrono>

namespace esem {

// What the spinner needs from its bridge.
class SpinnerClient {
 public:
  virtual ~SpinnerClient() = default;
  // Results are waiting (any thread may have put them there).
  virtual bool HasResults() = 0;
  // Settle them now, from the event loop (JS thread).
  virtual void DrainFromLoop() = 0;
  // Have the loop call back soon (the thread-safe function).
  virtual void Kick() = 0;
};

// While it polls, the spinner also takes results itself: the Python thread
// sees `polling` (set from the idle callback, with a heartbeat, so a runtime
// that never runs idle handles is not trusted) and skips waking the loop (a
// write to an eventfd and an epoll wake-up saved per round trip). Stop()
// clears `polling` and then looks for results once more, so none is left
// behind.
class LoopSpinner {
 public:
  // Returns false (and stays inert) when libuv is not available.
  // own_cpu: where to note this thread's CPU; peer_cpu: the Python thread's.
  bool Init(napi_env env, int spin_us, std::atomic<int>* own_cpu, std::atomic<int>* peer_cpu,
            std::atomic<bool>* polling, std::atomic<int64_t>* beat, SpinnerClient* client);
  // A call was sent or a result arrived: poll for the next spin_us.
  void Poke();
  // No call is pending: stop polling now.
  void Stop();
  // Frees the handle (before the environment goes away).
  void Close();
  ~LoopSpinner() { Close(); }

 private:
  static void OnIdle(void* handle);
  void* handle_ = nullptr;  // uv_idle_t, owned; freed by its close callback
  bool active_ = false;
  bool touched_ = false;  // activity since the last idle turn (no clock read per call)
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::microseconds spin_{0};
  std::atomic<int>* own_cpu_ = nullptr;
  std::atomic<int>* peer_cpu_ = nullptr;
  std::atomic<bool>* polling_ = nullptr;
  std::atomic<int64_t>* beat_ = nullptr;
  SpinnerClient* client_ = nullptr;
};

}  // namespace esem
