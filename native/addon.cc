// Addon entry: exports NativeBridge and keeps per-environment state (each
// worker_thread has its own), torn down by an environment cleanup hook.
#include <napi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "bridge.h"
#include "py_js_buffer.h"
#include "python_host.h"

namespace esem {
namespace {

void Cleanup(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  for (Bridge* b : data->bridges) {
    b->Teardown();
    b->addon = nullptr;
  }
  data->bridges.clear();
  // V8 frees this environment's memory with it, whatever Python holds:
  // say so, since Node-API cannot keep it alive (docs/api.md#sharing-memory).
  if (size_t n = ForgetLent(data->env)) {
    std::fprintf(stderr,
                 "esem-bridge: a JS environment (a worker_thread) ended while Python held %zu view(s) of memory it passed "
                 "with shared(); that memory is freed with it, so Python must not use those views any more\n",
                 n);
  }
}

// Process exit: Python must not run while the process tears itself down
// (C++ static destructors of extension modules, freed environments). The
// main thread's JS 'exit' handler calls freeze() first; atexit is the
// backstop for processes whose main thread never loaded the addon.
Napi::Value Freeze(const Napi::CallbackInfo& info) {
  PythonHost::Freeze(std::chrono::milliseconds(1000));
  return info.Env().Undefined();
}

void FreezeAtExit() { PythonHost::Freeze(std::chrono::milliseconds(250)); }

}  // namespace
}  // namespace esem

static Napi::Object InitEsem(Napi::Env env, Napi::Object exports) {
  using namespace esem;
  auto* data = new AddonData();
  data->env = env;
  env.SetInstanceData<AddonData>(data);  // deleted by node-addon-api at env teardown
  napi_add_env_cleanup_hook(env, Cleanup, data);
  Napi::Function ctor = Bridge::Define(env);
  data->bridge_ctor = Napi::Persistent(ctor);
  exports.Set("NativeBridge", ctor);
  exports.Set("freeze", Napi::Function::New(env, Freeze, "freeze"));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  static bool at_exit_set = (std::atexit(FreezeAtExit), true);
  (void)at_exit_set;
  return exports;
}

NODE_API_MODULE(esem_bridge, InitEsem)
