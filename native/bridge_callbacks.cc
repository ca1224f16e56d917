// The JS thread's half of callbacks (docs/concurrency.md#callbacks): a
// kCallback job from a Python thread becomes a call of the JS hook, which
// runs the JS function and answers with bridge.reply(token, ok, bytes);
// the answer goes straight back to the waiting Python thread. A callback
// never answered (the bridge stops, the environment ends) is abandoned:
// its Python caller raises CallbackGone. JS thread only.
#include "bridge.h"

namespace esem {
namespace {

napi_value Number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

// Calls hook(args...); false (exception cleared) when it threw.
bool CallHook(napi_env env, napi_ref hook, size_t argc, napi_value* argv) {
  napi_value fn = nullptr, undefined, ignored;
  if (!hook || napi_get_reference_value(env, hook, &fn) != napi_ok || !fn) return false;
  napi_get_undefined(env, &undefined);
  if (napi_call_function(env, undefined, fn, argc, argv, &ignored) == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) napi_get_and_clear_last_exception(env, &ignored);
  return false;
}

}  // namespace

void Bridge::StartCallback(napi_env env, std::unique_ptr<Job> job) {
  if (state_ != State::kRunning) return;  // destroyed here: abandoned
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (job->plain) {
    // callbackPlain(token, fnId, ...args): the arguments as themselves.
    std::vector<napi_value> argv(2 + job->scalars.size());
    uint64_t token = next_callback_++;
    argv[0] = Number(env, static_cast<double>(token));
    argv[1] = Number(env, static_cast<double>(job->ref));
    for (size_t i = 0; i < job->scalars.size(); i++) argv[2 + i] = ScalarToJs(env, helpers_, job->scalars[i]);
    callbacks_.emplace(token, std::move(job));
    if (!CallHook(env, helpers_.callback_plain, argv.size(), argv.data())) callbacks_.erase(token);
    napi_close_handle_scope(env, scope);
    return;
  }
  napi_value pair = ResultToJs(env, helpers_, *job);
  if (!pair) {
    bool pending = false;
    napi_value ignored;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &ignored);
    napi_close_handle_scope(env, scope);
    return;  // abandoned: the arguments could not be made into JS values
  }
  uint64_t token = next_callback_++;
  double fn_id = static_cast<double>(job->ref);
  callbacks_.emplace(token, std::move(job));
  napi_value argv[3] = {Number(env, static_cast<double>(token)), Number(env, fn_id), pair};
  if (!CallHook(env, helpers_.callback, 3, argv)) callbacks_.erase(token);
  napi_close_handle_scope(env, scope);
}

void Bridge::ReleaseCallback(napi_env env, const Job& job) {
  if (job.ids.size() != 2) return;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[2] = {Number(env, static_cast<double>(job.ids[0])), Number(env, static_cast<double>(job.ids[1]))};
  CallHook(env, helpers_.release_callback, 2, argv);
  napi_close_handle_scope(env, scope);
}

void Bridge::AbandonCallbacks() {
  // Destroying an unanswered job wakes its Python caller with CallbackGone.
  std::unordered_map<uint64_t, std::unique_ptr<Job>> dropped;
  dropped.swap(callbacks_);
}

// reply(token, ok, bytes): the JS function's outcome, wire bytes of one
// value (ok) or of [name, message, stack] (it threw).
Napi::Value Bridge::Reply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[2].IsTypedArray()) {
    Napi::TypeError::New(env, "reply(token, ok, bytes)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto found = callbacks_.find(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  if (found == callbacks_.end()) return env.Undefined();  // abandoned meanwhile
  std::unique_ptr<Job> job = std::move(found->second);
  callbacks_.erase(found);
  Napi::Uint8Array bytes = info[2].As<Napi::Uint8Array>();
  job->wire.assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  job->ok = info[1].ToBoolean().Value();
  job->plain = false;
  std::shared_ptr<CallbackWait> waiter = std::move(job->waiter);
  if (waiter) waiter->Complete(std::move(job));
  return env.Undefined();
}

// replyPlain(token, value): the JS function returned a plain value (null,
// undefined, boolean, string, or a number that is not an integer past 2^53).
Napi::Value Bridge::ReplyPlain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "replyPlain(token, value)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto found = callbacks_.find(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  if (found == callbacks_.end()) return env.Undefined();  // abandoned meanwhile
  Scalar value;
  if (!ScalarFromJs(env, info[1], &value)) {
    Napi::TypeError::New(env, "replyPlain(token, value): the value is not plain").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::unique_ptr<Job> job = std::move(found->second);
  callbacks_.erase(found);
  job->result = std::move(value);
  job->ok = true;
  job->plain = true;
  std::shared_ptr<CallbackWait> waiter = std::move(job->waiter);
  if (waiter) waiter->Complete(std::move(job));
  return env.Undefined();
}

}  // namespace esem
