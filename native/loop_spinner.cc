// LoopSpinner over a run-time-resolved libuv idle handle. JS thread only.
#include "loop_spinner.h"

#include <cstdlib>
#include <thread>

#include "cpu.h"

#ifndef _WIN32
#include <dlfcn.h>
#endif

namespace esem {
namespace {

// libuv is used through four functions looked up at run time and no header,
// so that builds against Node-API headers alone (cmake-js) work. A handle is
// opaque except for its first field, `void* data` (UV_HANDLE_FIELDS), and is
// given more room than any libuv version's uv_idle_t needs (~120 bytes).
struct uv_loop_t;
struct uv_handle_t;
struct uv_idle_t {
  void* data;
};
using uv_idle_cb = void (*)(uv_idle_t*);
using uv_close_cb = void (*)(uv_handle_t*);
constexpr size_t kIdleHandleBytes = 512;

struct UvIdleApi {
  int (*idle_init)(uv_loop_t*, uv_idle_t*) = nullptr;
  int (*idle_start)(uv_idle_t*, uv_idle_cb) = nullptr;
  int (*idle_stop)(uv_idle_t*) = nullptr;
  void (*close)(uv_handle_t*, uv_close_cb) = nullptr;
  void (*unref)(uv_handle_t*) = nullptr;
  bool ok = false;
};

// Resolved once per process; read-only afterwards.
const UvIdleApi& Uv() {
  static const UvIdleApi api = [] {
    UvIdleApi a;
#ifndef _WIN32
    a.idle_init = reinterpret_cast<decltype(a.idle_init)>(dlsym(RTLD_DEFAULT, "uv_idle_init"));
    a.idle_start = reinterpret_cast<decltype(a.idle_start)>(dlsym(RTLD_DEFAULT, "uv_idle_start"));
    a.idle_stop = reinterpret_cast<decltype(a.idle_stop)>(dlsym(RTLD_DEFAULT, "uv_idle_stop"));
    a.close = reinterpret_cast<decltype(a.close)>(dlsym(RTLD_DEFAULT, "uv_close"));
    a.unref = reinterpret_cast<decltype(a.unref)>(dlsym(RTLD_DEFAULT, "uv_unref"));
    a.ok = a.idle_init && a.idle_start && a.idle_stop && a.close && a.unref;
#endif
    return a;
  }();
  return api;
}

}  // namespace

bool LoopSpinner::Init(napi_env env, int spin_us, std::atomic<int>* own_cpu, std::atomic<int>* peer_cpu,
                       std::atomic<bool>* polling, std::atomic<int64_t>* beat, SpinnerClient* client) {
  spin_ = std::chrono::microseconds(spin_us);
  own_cpu_ = own_cpu;
  peer_cpu_ = peer_cpu;
  polling_ = polling;
  beat_ = beat;
  client_ = client;
  const UvIdleApi& uv = Uv();
  uv_loop_t* loop = nullptr;
  if (spin_us <= 0 || !uv.ok || napi_get_uv_event_loop(env, reinterpret_cast<struct ::uv_loop_s**>(&loop)) != napi_ok || !loop)
    return false;
  auto* idle = static_cast<uv_idle_t*>(std::calloc(1, kIdleHandleBytes));
  if (!idle || uv.idle_init(loop, idle) != 0) {
    std::free(idle);
    return false;
  }
  idle->data = this;
  uv.unref(reinterpret_cast<uv_handle_t*>(idle));  // pending calls, not the spinner, keep Node alive
  handle_ = idle;
  return true;
}

void LoopSpinner::Poke() {
  if (!handle_) return;
  touched_ = true;
  if (!active_) {
    active_ = true;
    own_cpu_->store(CurrentCpu(), std::memory_order_relaxed);
    deadline_ = std::chrono::steady_clock::now() + spin_;
    Uv().idle_start(static_cast<uv_idle_t*>(handle_), [](uv_idle_t* h) { OnIdle(h); });
  }
}

void LoopSpinner::Stop() {
  if (!handle_ || !active_) return;
  active_ = false;
  Uv().idle_stop(static_cast<uv_idle_t*>(handle_));
  polling_->store(false, std::memory_order_seq_cst);
  // A result delivered while we still polled did not wake the loop.
  if (client_->HasResults()) client_->Kick();
}

// An active idle handle makes the loop poll with a zero timeout; the
// callback only decides when to stop.
void LoopSpinner::OnIdle(void* handle) {
  auto* self = static_cast<LoopSpinner*>(static_cast<uv_idle_t*>(handle)->data);
  int cpu = CurrentCpu();
  self->own_cpu_->store(cpu, std::memory_order_relaxed);
  if (SameCpu(cpu, self->peer_cpu_->load(std::memory_order_relaxed))) {
    // Sharing a core with the Python thread: polling would only take its time.
    self->Stop();
    return;
  }
  auto now = std::chrono::steady_clock::now();
  self->beat_->store(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count(),
                     std::memory_order_relaxed);
  self->polling_->store(true, std::memory_order_seq_cst);
  if (self->client_->HasResults()) {
    self->client_->DrainFromLoop();  // may Stop() or Close() this spinner
    return;
  }
  if (self->touched_) {
    self->touched_ = false;
    self->deadline_ = now + self->spin_;
  } else if (now > self->deadline_) {
    self->Stop();
  }
}

void LoopSpinner::Close() {
  if (!handle_) return;
  Stop();
  auto* h = reinterpret_cast<uv_handle_t*>(handle_);
  static_cast<uv_idle_t*>(handle_)->data = nullptr;
  Uv().close(h, [](uv_handle_t* closed) { std::free(closed); });
  handle_ = nullptr;
}

}  // namespace esem
