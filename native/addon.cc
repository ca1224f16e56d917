// Addon entry: exports NativeBridge and keeps per-environment state (each
// worker_thread has its own), torn down by an environment cleanup hook.
#include <napi.h>

#include "bridge.h"

namespace esem {
namespace {

void Cleanup(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  for (Bridge* b : data->bridges) {
    b->Teardown();
    b->addon = nullptr;
  }
  data->bridges.clear();
}

}  // namespace
}  // namespace esem

static Napi::Object InitEsem(Napi::Env env, Napi::Object exports) {
  using namespace esem;
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);  // deleted by node-addon-api at env teardown
  napi_add_env_cleanup_hook(env, Cleanup, data);
  Napi::Function ctor = Bridge::Define(env);
  data->bridge_ctor = Napi::Persistent(ctor);
  exports.Set("NativeBridge", ctor);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

NODE_API_MODULE(esem_bridge, InitEsem)
