// Bridge methods (JS thread) and batch settlement of finished jobs.
#include "bridge.h"

#include <algorithm>

#include "python_host.h"

namespace esem {
namespace {


std::vector<std::string> Strings(Napi::Value v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

// A weak reference: the hooks object is kept alive by the JS wrapper itself
// (a property of it), so a bridge dropped without shutdown() can be
// collected together with the hooks that point back at it.
napi_ref Weak(napi_env env, napi_value v) {
  napi_ref r = nullptr;
  napi_create_reference(env, v, 0, &r);
  return r;
}

}  // namespace

Napi::Function Bridge::Define(Napi::Env env) {
  return DefineClass(env, "NativeBridge",
                     {InstanceMethod<&Bridge::Start>("start"), InstanceMethod<&Bridge::Call>("call"),
                      InstanceMethod<&Bridge::CallWire>("callWire"), InstanceMethod<&Bridge::GetAttr>("getAttr"), InstanceMethod<&Bridge::SetAttr>("setAttr"),
                      InstanceMethod<&Bridge::Import>("importModule"), InstanceMethod<&Bridge::Helper>("helper"),
                      InstanceMethod<&Bridge::Release>("release"), InstanceMethod<&Bridge::Shutdown>("shutdown")});
}

// new NativeBridge({ libraries, program, sysPath, runtimeDir, spinMicros },
//                  { refSymbol, wrap, makeError, entries, makeMap, makeSet })
Bridge::Bridge(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Bridge>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  Napi::Object config = info[0].As<Napi::Object>();
  Napi::Object js = info[1].As<Napi::Object>();
  config_.libraries = Strings(config.Get("libraries"));
  config_.program = config.Get("program").As<Napi::String>().Utf8Value();
  config_.prefix = config.Get("prefix").As<Napi::String>().Utf8Value();
  config_.sys_path = Strings(config.Get("sysPath"));
  config_.runtime_dir = config.Get("runtimeDir").As<Napi::String>().Utf8Value();
  if (config.Get("spinMicros").IsNumber()) spin_us_ = config.Get("spinMicros").As<Napi::Number>().Int32Value();
  if (config.Get("wireThreshold").IsNumber()) {
    config_.wire_threshold = config.Get("wireThreshold").As<Napi::Number>().Int32Value();
  }

  // The wrapper holds the hooks (and so do the weak references below).
  Napi::Object self = info.This().As<Napi::Object>();
  self.DefineProperty(Napi::PropertyDescriptor::Value("hooks", js, napi_default));
  helpers_.ref_symbol = Weak(env, js.Get("refSymbol"));
  helpers_.wrap = Weak(env, js.Get("wrap"));
  helpers_.make_error = Weak(env, js.Get("makeError"));
  helpers_.entries = Weak(env, js.Get("entries"));
  helpers_.make_map = Weak(env, js.Get("makeMap"));
  helpers_.make_set = Weak(env, js.Get("makeSet"));
  helpers_.decode = Weak(env, js.Get("decode"));
  Napi::Object global = env.Global();
  Napi::Array builtins = Napi::Array::New(env, 3);
  builtins.Set(0u, global.Get("Map"));
  builtins.Set(1u, global.Get("Set"));
  builtins.Set(2u, global.Get("Object").As<Napi::Object>().Get("prototype"));
  self.DefineProperty(Napi::PropertyDescriptor::Value("builtins", builtins, napi_default));
  helpers_.map_ctor = Weak(env, builtins.Get(0u));
  helpers_.set_ctor = Weak(env, builtins.Get(1u));
  helpers_.object_prototype = Weak(env, builtins.Get(2u));

  addon = env.GetInstanceData<AddonData>();
  if (addon) addon->bridges.push_back(this);
}

Bridge::~Bridge() {
  Teardown();
  if (addon) {
    auto& v = addon->bridges;
    v.erase(std::remove(v.begin(), v.end(), this), v.end());
  }
  helpers_.Reset(env_);
}

void Bridge::Teardown() {
  spinner_.Close();  // first: it polls the channel
  if (channel_) {
    channel_->closing.store(true, std::memory_order_release);
    SendClose();
  }
  CloseTsfn();
  if (channel_) channel_->Detach();  // after CloseTsfn: no drain can run any more
  pending_.TakeAll();
  state_ = State::kStopped;
}

// Queues the bridge's last job: the host drops its Python objects and
// context (on the Python thread, where references die).
void Bridge::SendClose() {
  if (close_sent_ || !channel_) return;
  close_sent_ = true;
  auto job = NewJob();
  job->op = Op::kClose;
  job->channel = channel_;
  PythonHost::Get().Submit(std::move(job));
}

void Bridge::CloseTsfn() {
  spinner_.Close();
  if (channel_) channel_->js_polling.store(false);
  if (draining_from_loop_) {
    release_async_later_ = true;  // its callback scope is still open
  } else {
    ReleaseAsyncContext();
  }
  if (!tsfn_) return;
  notifier_->Cut();
  // Abort: no queued call may reach this Bridge after it is gone (a queued
  // call would otherwise run with a dangling context).
  napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
  tsfn_ = nullptr;
  referenced_ = false;
}

Napi::Value Bridge::Start(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (state_ != State::kNew) {
    return Napi::Value(env, Rejected(env, BridgeFailure("ESEM_SHUTDOWN", "this bridge was already started")));
  }
  notifier_ = std::make_shared<Notifier>();
  napi_value name;
  napi_create_string_utf8(env, "esem-bridge results", NAPI_AUTO_LENGTH, &name);
  napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, this, &Bridge::OnResults,
                                  &tsfn_);
  napi_unref_threadsafe_function(env, tsfn_);  // an idle bridge never holds Node open
  notifier_->tsfn = tsfn_;
  channel_ = std::make_shared<Channel>(notifier_);
  channel_->config = config_;
  PythonHost& host = PythonHost::Get();
  host.SetSpin(spin_us_);
  napi_value resource;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &async_resource_);
  napi_async_init(env, resource, name, &async_context_);
  spinner_.Init(env, spin_us_, &host.js_cpu(), &host.python_cpu(), &channel_->js_polling, &channel_->js_poll_beat,
                this);
  state_ = State::kRunning;
  auto job = NewJob();
  job->op = Op::kStart;
  return Napi::Value(env, Submit(env, std::move(job), true));
}

napi_value Bridge::Rejected(napi_env env, const ErrorInfo& error) {
  napi_deferred d;
  napi_value promise;
  napi_create_promise(env, &d, &promise);
  napi_reject_deferred(env, d, ErrorToJs(env, helpers_, error));
  return promise;
}

napi_value Bridge::Submit(napi_env env, std::unique_ptr<Job> job, bool wait) {
  if (state_ != State::kRunning || !channel_) {
    if (!wait) return nullptr;
    return Rejected(env, BridgeFailure("ESEM_SHUTDOWN", "the bridge was shut down; call python() again to restart"));
  }
  napi_value promise = nullptr;
  napi_deferred d = nullptr;
  uint64_t seq = 0;
  if (wait) {
    napi_create_promise(env, &d, &promise);
    seq = job->seq = pending_.Reserve();
  }
  job->channel = channel_;
  PythonHost::Get().Submit(std::move(job));
  if (d) {
    pending_.Set(seq, d);
    UpdateRef(env);
    spinner_.Poke();
  }
  return promise;
}

bool Bridge::Path(napi_env env, napi_value v, std::vector<std::string>* out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_string) {
    out->push_back(JsUtf8(env, v));
    return true;
  }
  bool is_array = false;
  napi_is_array(env, v, &is_array);
  if (!is_array) return t == napi_undefined || t == napi_null;
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value s;
    napi_get_element(env, v, i, &s);
    out->push_back(JsUtf8(env, s));
  }
  return true;
}

bool Bridge::Arguments(napi_env env, napi_value args, napi_value kwargs, Job* job, ErrorInfo* error) {
  bool is_array = false;
  napi_is_array(env, args, &is_array);
  job->args.tag = Tag::kList;
  if (is_array) {
    uint32_t n = 0;
    napi_get_array_length(env, args, &n);
    job->args.items.resize(n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value item;
      napi_get_element(env, args, i, &item);
      if (!JsToValue(env, helpers_, item, "args", static_cast<int>(i), &job->args.items[i], error)) return false;
    }
  }
  napi_valuetype t = napi_undefined;
  if (kwargs) napi_typeof(env, kwargs, &t);
  if (t == napi_object) return JsToValue(env, helpers_, kwargs, "kwargs", -1, &job->kwargs, error);
  return true;
}

// A job on ref info[0] at attribute path info[1] (a name, names or null).
std::unique_ptr<Job> Bridge::TargetJob(const Napi::CallbackInfo& info, Op op) {
  auto job = NewJob();
  job->op = op;
  job->ref = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  Path(info.Env(), info[1], &job->path);
  return job;
}

// call(ref, path, args, kwargs?)
Napi::Value Bridge::Call(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = TargetJob(info, Op::kCall);
  ErrorInfo error;
  if (!Arguments(env, info[2], info.Length() > 3 ? static_cast<napi_value>(info[3]) : nullptr, job.get(), &error)) {
    return Napi::Value(env, Rejected(env, error));
  }
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// callWire(ref, path, bytes): bytes are the arguments in the wire format
// (src/codec.ts), copied here and parsed on the Python thread.
Napi::Value Bridge::CallWire(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = TargetJob(info, Op::kCall);
  Napi::Uint8Array bytes = info[2].As<Napi::Uint8Array>();
  job->args.tag = Tag::kWire;
  job->args.s.assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// getAttr(ref, path)
Napi::Value Bridge::GetAttr(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = TargetJob(info, Op::kGetAttr);
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// setAttr(ref, path, value)
Napi::Value Bridge::SetAttr(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = TargetJob(info, Op::kSetAttr);
  job->args.tag = Tag::kList;
  job->args.items.emplace_back();
  ErrorInfo error;
  if (!JsToValue(env, helpers_, info[2], "value", -1, &job->args.items[0], &error)) {
    return Napi::Value(env, Rejected(env, error));
  }
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// importModule(spec, cwd)
Napi::Value Bridge::Import(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = NewJob();
  job->op = Op::kImport;
  job->text = info[0].As<Napi::String>().Utf8Value();
  job->path.push_back(info[1].As<Napi::String>().Utf8Value());
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// helper(name, args, kwargs?): esem_bridge.ops.<name>(*args)
Napi::Value Bridge::Helper(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = NewJob();
  job->op = Op::kHelper;
  job->text = info[0].As<Napi::String>().Utf8Value();
  ErrorInfo error;
  if (!Arguments(env, info[1], info.Length() > 2 ? static_cast<napi_value>(info[2]) : nullptr, job.get(), &error)) {
    return Napi::Value(env, Rejected(env, error));
  }
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// release(ids: number | number[]): queued, no reply
Napi::Value Bridge::Release(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = NewJob();
  job->op = Op::kRelease;
  job->args.tag = Tag::kList;
  if (info[0].IsArray()) {
    Napi::Array ids = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < ids.Length(); i++) job->args.items.push_back(Value::Int(ids.Get(i).As<Napi::Number>().Int64Value()));
  } else {
    job->args.items.push_back(Value::Int(info[0].As<Napi::Number>().Int64Value()));
  }
  Submit(env, std::move(job), false);  // no reply: later calls run after it anyway
  return Napi::Env(env).Undefined();
}

Napi::Value Bridge::Shutdown(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  napi_value promise;
  if (state_ == State::kNew || state_ == State::kStopped) {
    state_ = State::kStopped;
    napi_deferred d;
    napi_create_promise(env, &d, &promise);
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, d, undefined);
    return Napi::Value(env, promise);
  }
  if (stop_deferred_) {  // already stopping: a second promise would need a list; chain in JS instead
    return Napi::Value(env, Rejected(env, BridgeFailure("ESEM_SHUTDOWN", "shutdown is already in progress")));
  }
  napi_create_promise(env, &stop_deferred_, &promise);
  state_ = State::kStopping;
  // Calls still pending reject now; their results, if any come, are dropped.
  ErrorInfo error = BridgeFailure("ESEM_SHUTDOWN", "the bridge was shut down before this call finished");
  for (napi_deferred d : pending_.TakeAll()) {
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_reject_deferred(env, d, ErrorToJs(env, helpers_, error));
    napi_close_handle_scope(env, scope);
  }
  channel_->closing.store(true, std::memory_order_release);
  SendClose();
  UpdateRef(env);
  return Napi::Value(env, promise);
}

std::unique_ptr<Job> Bridge::NewJob() {
  if (spare_.empty()) {
    auto job = std::make_unique<Job>();
    job->path.reserve(2);
    job->args.items.reserve(4);
    return job;
  }
  std::unique_ptr<Job> job = std::move(spare_.back());
  spare_.pop_back();
  return job;
}

void Bridge::Recycle(std::unique_ptr<Job> job) {
  if (!job || spare_.size() >= kMaxSpareJobs) return;
  job->Reset();
  spare_.push_back(std::move(job));
}

void Bridge::UpdateRef(napi_env env) {
  bool want = tsfn_ && (!pending_.empty() || state_ == State::kStopping);
  if (want == referenced_) return;
  referenced_ = want;
  // Raw calls: they may fail while the environment is torn down, and
  // nothing here may throw (callers are loop callbacks, not JS calls).
  napi_ref self = *this;
  uint32_t count = 0;
  if (want) {
    napi_ref_threadsafe_function(env, tsfn_);
    napi_reference_ref(env, self, &count);  // the JS object stays alive while calls are in flight
  } else {
    napi_unref_threadsafe_function(env, tsfn_);
    napi_reference_unref(env, self, &count);
  }
}

// Called by the spinner from the event loop: a callback scope, so that the
// promise reactions (the caller's `await`) run as they do after any callback.
void Bridge::DrainFromLoop() {
  napi_handle_scope handles;
  napi_open_handle_scope(env_, &handles);
  napi_value resource = nullptr;
  napi_callback_scope scope = nullptr;
  if (async_resource_ && napi_get_reference_value(env_, async_resource_, &resource) == napi_ok &&
      napi_open_callback_scope(env_, resource, async_context_, &scope) == napi_ok) {
    draining_from_loop_ = true;
    try {
      Drain(env_);
    } catch (...) {  // see OnResults
    }
    napi_close_callback_scope(env_, scope);
    draining_from_loop_ = false;
    if (release_async_later_) ReleaseAsyncContext();
  } else {
    Kick();  // no callback scope here: let the thread-safe function deliver
  }
  napi_close_handle_scope(env_, handles);
}

void Bridge::ReleaseAsyncContext() {
  release_async_later_ = false;
  if (async_context_) {
    napi_async_destroy(env_, async_context_);
    async_context_ = nullptr;
  }
  if (async_resource_) {
    napi_delete_reference(env_, async_resource_);
    async_resource_ = nullptr;
  }
}

void Bridge::Kick() {
  if (notifier_) notifier_->Notify();
}

void Bridge::OnResults(napi_env env, napi_value, void* context, void*) {
  if (!env) return;
  // A loop callback: a C++ exception must not leave it (it would end the
  // process). The only ones possible come from a dying environment.
  try {
    static_cast<Bridge*>(context)->Drain(env);
  } catch (...) {
  }
}

void Bridge::Drain(napi_env env) {
  if (!channel_) return;
  JobList results;
  channel_->TakeResults(&results);
  bool closed = false;
  for (auto& job : results) {
    if (job->op == Op::kClose) closed = true;
    if (job->op == Op::kStart && !job->ok) state_ = State::kStopping;  // a failed start ends the bridge
    napi_deferred d = job->seq ? pending_.Take(job->seq) : nullptr;
    if (d) Settle(env, *job, d);
  }
  for (auto& job : results) Recycle(std::move(job));
  results.clear();
  if (pending_.empty()) {
    spinner_.Stop();
  } else {
    spinner_.Poke();
  }
  if (closed || (state_ == State::kStopping && !close_sent_)) FinishStop(env);
  UpdateRef(env);
}

void Bridge::Settle(napi_env env, Job& job, napi_deferred d) {
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (job.ok) {
    napi_value v = ValueToJs(env, helpers_, job.result);
    if (v) {
      napi_resolve_deferred(env, d, v);
    } else {
      // The conversion failed: with a JS exception (thrown by a hook), or
      // without one (V8 refused a value, e.g. a string past its length limit).
      napi_value exception = nullptr;
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) napi_get_and_clear_last_exception(env, &exception);
      if (!exception) {
        exception = ErrorToJs(env, helpers_, BridgeFailure("ESEM_INTERNAL",
            "the result could not be made into a JS value (a string or buffer past the JS engine's size limit?)"));
      }
      napi_reject_deferred(env, d, exception);
    }
  } else {
    napi_reject_deferred(env, d, ErrorToJs(env, helpers_, job.error));
  }
  napi_close_handle_scope(env, scope);
}

void Bridge::FinishStop(napi_env env) {
  // A failed start leaves the bridge unusable; a requested stop, stopped.
  state_ = State::kStopped;
  UpdateRef(env);
  CloseTsfn();
  if (stop_deferred_) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, stop_deferred_, undefined);
    stop_deferred_ = nullptr;
  }
}

}  // namespace esem
