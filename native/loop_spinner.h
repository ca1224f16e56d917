// LoopSpinner: keeps the JS thread's event loop polling (not sleeping) for a
// short while after a call is sent, so a result that comes back within
// microseconds is seen without the thread being woken from sleep (a wake
// costs 20-50 us on virtual machines). It uses an idle handle from libuv,
// looked up at run time: where the runtime has no libuv (some Bun/Deno
// versions) it does nothing and results still arrive through the
// thread-safe function. JS thread only.
#pragma once

#include <node_api.h>

#include <chrono>

namespace esem {

class LoopSpinner {
 public:
  // Returns false (and stays inert) when libuv is not available.
  bool Init(napi_env env, int spin_us);
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
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::microseconds spin_{0};
};

}  // namespace esem
