// Bridge methods (JS thread) and batch settlement of finished jobs.
#include "bridge.h"

#include <algorithm>

#include "py_large_blocks.h"
#include "python_host.h"
#include "wire_buffers.h"

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
                     {InstanceMethod<&Bridge::Start>("start"), InstanceMethod<&Bridge::JsonResults>("jsonResults"), InstanceMethod<&Bridge::GetAttr>("getAttr"), InstanceMethod<&Bridge::SetAttr>("setAttr"),
                      InstanceMethod<&Bridge::Import>("importModule"), InstanceMethod<&Bridge::Helper>("helper"),
                      InstanceMethod<&Bridge::Release>("release"), InstanceMethod<&Bridge::Shutdown>("shutdown"),
                      InstanceMethod<&Bridge::Reply>("reply"), InstanceMethod<&Bridge::ReplyPlain>("replyPlain"), InstanceMethod<&Bridge::Cancel>("cancel"),
                      InstanceMethod<&Bridge::LastSeq>("lastSeq"), InstanceMethod<&Bridge::CallSync>("callSync"),
                      InstanceMethod<&Bridge::PrepareSync>("prepareSync"), InstanceMethod<&Bridge::CancelRunning>("cancelRunning"), InstanceMethod<&Bridge::TrimSparesNow>("trimSpares")});
}

// The hot paths (call, callWire, callFast) are own functions whose data is
// the bridge, not instance methods: those unwrap their receiver on every
// call (a private-symbol lookup; a third of a sync add's time went there
// and in the method wrapper: 261 -> 160 ns). Each holds the wrapper (its
// `owner`), so the bridge lives as long as the function can be called.
template <Napi::Value (Bridge::*method)(const Napi::CallbackInfo&)>
void Bridge::DefineUnbound(Napi::Object self, const char* name) {
  Napi::Function fn = Napi::Function::New<&Bridge::Unbound<method>>(self.Env(), name, this);
  fn.DefineProperty(Napi::PropertyDescriptor::Value("owner", self, napi_default));
  self.DefineProperty(Napi::PropertyDescriptor::Value(name, fn, napi_default));
}

// new NativeBridge({ libraries, program, sysPath, runtimeDir, bytecodeCache, spinMicros, threads },
//                  { wrap, makeError, decode, callback, releaseCallback })
Bridge::Bridge(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Bridge>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  Napi::Object config = info[0].As<Napi::Object>();
  Napi::Object js = info[1].As<Napi::Object>();
  config_.libraries = Strings(config.Get("libraries"));
  config_.program = config.Get("program").As<Napi::String>().Utf8Value();
  config_.prefix = config.Get("prefix").As<Napi::String>().Utf8Value();
  config_.sys_path = Strings(config.Get("sysPath"));
  config_.runtime_dir = config.Get("runtimeDir").As<Napi::String>().Utf8Value();
  if (config.Get("bytecodeCache").IsString()) config_.bytecode_cache = config.Get("bytecodeCache").As<Napi::String>().Utf8Value();
  if (config.Get("spinMicros").IsNumber()) spin_us_ = config.Get("spinMicros").As<Napi::Number>().Int32Value();
  if (config.Get("threads").IsNumber()) threads_ = config.Get("threads").As<Napi::Number>().Int32Value();

  // The wrapper holds the hooks (and so do the weak references below).
  Napi::Object self = info.This().As<Napi::Object>();
  self.DefineProperty(Napi::PropertyDescriptor::Value("hooks", js, napi_default));
  DefineUnbound<&Bridge::Call>(self, "call");
  DefineUnbound<&Bridge::CallWire>(self, "callWire");
  DefineUnbound<&Bridge::CallFast>(self, "callFast");
  helpers_.wrap = Weak(env, js.Get("wrap"));
  helpers_.make_error = Weak(env, js.Get("makeError"));
  helpers_.decode = Weak(env, js.Get("decode"));
  helpers_.callback = Weak(env, js.Get("callback"));
  helpers_.callback_plain = Weak(env, js.Get("callbackPlain"));
  helpers_.release_callback = Weak(env, js.Get("releaseCallback"));
  helpers_.callback_sync = Weak(env, js.Get("callbackSync"));
  helpers_.callback_sync_plain = Weak(env, js.Get("callbackSyncPlain"));

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
  AbandonCallbacks();
  // Arguments' JS memory dies with this environment, maybe right after:
  // a Python thread still reading it finishes first.
  if (channel_) channel_->WaitForJsReaders([] { return PythonHost::Frozen(); });
  pending_.TakeAll();
  state_ = State::kStopped;
}

// Queues the bridge's last job: the host drops its Python objects and
// context (on the Python thread, where references die).
void Bridge::FlushOutbox() {
  if (!outbox_.empty()) PythonHost::Get().SubmitAll(&outbox_);
}

void Bridge::SendClose() {
  if (close_sent_ || !channel_) return;
  close_sent_ = true;
  FlushOutbox();
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
  channel_->max_threads = threads_ < 1 ? 1 : threads_;
  PythonHost& host = PythonHost::Get();
  host.SetSpin(spin_us_);
  host.SetThreads(threads_);
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
    last_seq_ = seq;
  }
  job->channel = channel_;
  job->json_limit = json_limit_;
  // Calls made while the host's queue is not empty gather in the outbox and
  // go over in batches (one lock and one wake-up each, not one per call:
  // the host thread pops that queue under the same lock). The first call
  // of a burst goes at once; the outbox goes at kOutboxBatch calls, or at
  // the drain its first call asked for, whichever is first: no later than
  // the end of the JS task that made the calls.
  if (wait && (!outbox_.empty() || PythonHost::Get().HasQueued())) {
    outbox_.push_back(std::move(job));
    if (outbox_.size() >= kOutboxBatch) {
      FlushOutbox();
    } else if (outbox_.size() == 1) {
      Kick();
    }
  } else {
    FlushOutbox();  // first: jobs keep their order
    PythonHost::Get().Submit(std::move(job));
  }
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

// info[at]: wire bytes, info[at + 1]: the buffers beside them (optional).
// `lent`: the bytes are read where they are, on the Python thread (the JS
// side leaves them alone until the call settles; the job holds a ref);
// else they are copied.
bool Bridge::WireArguments(napi_env env, const Napi::CallbackInfo& info, size_t at, Job* job, bool lent) {
  if (!info[at].IsTypedArray()) return false;
  Napi::Uint8Array bytes = info[at].As<Napi::Uint8Array>();
  if (bytes.ByteLength() == 0) return false;
  if (lent) {
    if (napi_create_reference(env, bytes, 1, &job->lent.ref) != napi_ok) return false;
    job->lent.data = reinterpret_cast<const char*>(bytes.Data());
    job->lent.size = bytes.ByteLength();
  } else if (bytes.ByteLength() >= kKeptFrom && job->wire.capacity() < bytes.ByteLength()) {
    job->wire = TakeWireBuffer(bytes.ByteLength());
  }
  if (!lent) job->wire.assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  if (info.Length() > at + 1 && info[at + 1].IsArray()) return SideFromJs(env, info[at + 1], &job->side);
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

// call(ref, path, ...args) or call(ref, path, [args]): args are numbers,
// strings, booleans, null or undefined (the scalar fast path;
// src/native-backend.ts sends anything else through callWire). The first
// form is the one the library uses: N-API hands over the arguments
// themselves, with no array to walk (a tenth of a concurrent call's cost).
Napi::Value Bridge::Call(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = TargetJob(info, Op::kCall);
  bool ok = true;
  if (info.Length() == 3 && info[2].IsArray()) {
    ok = ScalarsFromJs(env, info[2], &job->scalars);
  } else {
    size_t n = info.Length() > 2 ? info.Length() - 2 : 0;
    job->scalars.resize(n);
    for (size_t i = 0; ok && i < n; i++) ok = ScalarFromJs(env, info[i + 2], &job->scalars[i]);
  }
  if (!ok) {
    Recycle(std::move(job));
    return Napi::Value(env, Rejected(env, BridgeFailure("ESEM_INTERNAL", "call() takes scalar arguments only")));
  }
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// callWire(ref, path, bytes, side?, keepResult?, lent?): bytes are the
// arguments in the wire format (src/codec.ts: a List, then a Dict or None),
// copied here, or with `lent` read in place, on the Python thread; side,
// the buffers they refer to; keepResult, the result as a proxy whatever
// it is. Or bytes is a string:
// JSON text of [args, kwargs or null] (src/json-lane.ts, native/py_json.h).
Napi::Value Bridge::CallWire(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = TargetJob(info, Op::kCall);
  job->keep_result = info.Length() > 4 && info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  bool ok;
  if (info[2].IsString()) {
    job->wire = JsUtf8(env, info[2]);
    job->json = true;
    ok = !job->wire.empty();
  } else {
    bool lent = info.Length() > 5 && info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
    ok = WireArguments(env, info, 2, job.get(), lent);
  }
  if (!ok) {
    Recycle(std::move(job));
    return Napi::Value(env, Rejected(env, BridgeFailure("ESEM_INTERNAL", "malformed wire arguments")));
  }
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// jsonResults(bytes, keep): the calls submitted from now on may get a plain
// container result as JSON text of at most that many bytes (decode() then
// parses it); 0: none. Unless `keep`, a result given up past the limit
// closes the lane (Drain).
Napi::Value Bridge::JsonResults(const Napi::CallbackInfo& info) {
  double limit = info[0].ToNumber().DoubleValue();
  json_limit_ = limit > 0 ? static_cast<size_t>(std::min(limit, 1e15)) : 0;
  json_keep_ = info.Length() > 1 && info[1].ToBoolean().Value();
  return info.Env().Undefined();
}

// getAttr(ref, path)
Napi::Value Bridge::GetAttr(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = TargetJob(info, Op::kGetAttr);
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// setAttr(ref, path, bytes, side?): bytes hold the one value
Napi::Value Bridge::SetAttr(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = TargetJob(info, Op::kSetAttr);
  if (!WireArguments(env, info, 2, job.get())) {
    Recycle(std::move(job));
    return Napi::Value(env, Rejected(env, BridgeFailure("ESEM_INTERNAL", "malformed wire value")));
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

// helper(name, bytes, side?, ref?): esem_bridge.ops.<name>(*args), the
// arguments as in callWire; ref, the object the helper acts on (its first
// argument), orders it with the other calls on that object.
Napi::Value Bridge::Helper(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = NewJob();
  job->op = Op::kHelper;
  job->text = info[0].As<Napi::String>().Utf8Value();
  if (info.Length() > 3 && info[3].IsNumber()) job->ref = static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value());
  if (!WireArguments(env, info, 1, job.get())) {
    Recycle(std::move(job));
    return Napi::Value(env, Rejected(env, BridgeFailure("ESEM_INTERNAL", "malformed wire arguments")));
  }
  return Napi::Value(env, Submit(env, std::move(job), true));
}

// release(ids: number | number[]): queued, no reply
Napi::Value Bridge::Release(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  auto job = NewJob();
  job->op = Op::kRelease;
  if (info[0].IsArray()) {
    Napi::Array ids = info[0].As<Napi::Array>();
    uint32_t n = ids.Length();
    job->ids.reserve(n);
    for (uint32_t i = 0; i < n; i++) job->ids.push_back(static_cast<uint64_t>(ids.Get(i).As<Napi::Number>().Int64Value()));
  } else {
    job->ids.push_back(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  }
  Submit(env, std::move(job), false);  // no reply: later calls run after it anyway
  return Napi::Env(env).Undefined();
}

// cancel(seq, error): rejects call `seq` with `error` now and cancels its
// job (docs/concurrency.md#cancellation). False when it already settled.
Napi::Value Bridge::Cancel(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "cancel(seq, error)").ThrowAsJavaScriptException();
    return Napi::Env(env).Undefined();
  }
  uint64_t seq = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  napi_deferred d = pending_.Cancel(seq);
  if (!d) return Napi::Boolean::New(env, false);
  napi_reject_deferred(env, d, info[1]);
  FlushOutbox();  // a call still here is found in the host's queue
  if (channel_) PythonHost::Get().Cancel(channel_.get(), seq);
  if (pending_.empty()) spinner_.Stop();
  UpdateRef(env);
  return Napi::Boolean::New(env, true);
}

// cancelRunning(): the bridge's running calls get CallCancelled (a shutdown
// that will not wait for them).
Napi::Value Bridge::CancelRunning(const Napi::CallbackInfo& info) {
  FlushOutbox();
  if (channel_) PythonHost::Get().CancelRunning(channel_.get());
  return info.Env().Undefined();
}

// The seq of the call submitted since the last lastSeq(), or 0 (for cancel()).
Napi::Value Bridge::LastSeq(const Napi::CallbackInfo& info) {
  uint64_t seq = last_seq_;
  last_seq_ = 0;
  return Napi::Number::New(info.Env(), static_cast<double>(seq));
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
  ErrorInfo error = BridgeFailure("ESEM_SHUTDOWN", "the bridge was shut down before this call finished; load the module again with python() to go on");
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
    job->scalars.reserve(4);
    return job;
  }
  std::unique_ptr<Job> job = std::move(spare_.back());
  spare_.pop_back();
  if (spare_.size() < spare_low_) spare_low_ = spare_.size();
  return job;
}

// After a drain that left no call in flight, and every second from the JS
// side (trimSpares): the spares above the base that no call took during
// the last whole window are freed, a batch at a time.
void Bridge::TrimSpares() {
  if (spare_.size() <= kBaseSpareJobs) {
    // Nothing to free (the usual case: no clock read per drain).
    spare_low_ = spare_.size();
    trim_left_ = 0;
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= kSpareWindow) {
    trim_left_ = spare_low_;  // never taken in the window
    spare_low_ = spare_.size();
    window_start_ = now;
  }
  size_t n = std::min({trim_left_, spare_.size() - kBaseSpareJobs, kTrimBatch});
  if (n == 0) return;
  spare_.resize(spare_.size() - n);
  trim_left_ -= n;
  spare_low_ = std::min(spare_low_, spare_.size());
}

// trimSpares(): TrimSpares from the JS side's timer (src/native-backend.ts),
// so that an idle process gives the memory of its last burst back.
Napi::Value Bridge::TrimSparesNow(const Napi::CallbackInfo& info) {
  if (pending_.empty()) TrimSpares();
  TrimLargeBlocks();  // Python's kept large blocks nobody took for a second
  return info.Env().Undefined();
}

void Bridge::Recycle(std::unique_ptr<Job> job) {
  if (!job) return;
  ReleaseSide(env_, &job->side);
  if (job->lent.ref) napi_delete_reference(env_, job->lent.ref);
  if (spare_.size() >= kMaxSpareJobs) return;
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

}  // namespace esem
