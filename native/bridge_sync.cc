// Synchronous calls (docs/concurrency.md#sync): callSync runs a call on
// the JS thread itself, holding the GIL, and returns its value, for the
// hottest paths. The JS thread keeps one Python thread state of its own
// (made on its first sync call); it waits for the GIL like any Python
// thread, so running Python threads take turns with it. A JS function of
// this bridge that Python calls meanwhile runs at once on this thread.
// JS thread only.
#include "bridge.h"

#include "executor.h"
#include "py_callbacks.h"
#include "py_error.h"
#include "py_wire.h"

namespace esem {
namespace {

// This thread's Python thread state, with the GIL released between calls.
thread_local PyThreadState* t_js_tstate = nullptr;
// How many JsThreadGils this thread is inside: more than one when JS, run
// by Python during a sync call (the GIL held), makes another sync call.
thread_local int t_gil_depth = 0;

class JsThreadGil {
 public:
  JsThreadGil() {
    if (t_gil_depth++ > 0) return;  // held already, by the sync call this one nests in
    const PyApi& py = Py();
    if (!t_js_tstate) {
      py.PyGILState_Ensure();  // kept: the state lives as long as the thread
      return;
    }
    py.PyEval_RestoreThread(t_js_tstate);
  }
  ~JsThreadGil() {
    if (--t_gil_depth > 0) return;
    t_js_tstate = Py().PyEval_SaveThread();
  }
  JsThreadGil(const JsThreadGil&) = delete;
  JsThreadGil& operator=(const JsThreadGil&) = delete;
};

void Throw(napi_env env, napi_value error) { napi_throw(env, error); }

}  // namespace

// A finished sync job as callSync's return value, or its error thrown.
Napi::Value Bridge::SyncOutcome(napi_env env, std::unique_ptr<Job> job) {
  napi_value out = nullptr;
  if (job->ok) {
    out = ResultToJs(env, helpers_, *job);
  } else {
    Throw(env, ErrorToJs(env, helpers_, job->error));
  }
  Recycle(std::move(job));
  if (!out) return Napi::Env(env).Undefined();  // an exception is pending
  return Napi::Value(env, out);
}

// callSync(ref, path, args) with scalar args, or callSync(ref, path, bytes,
// side) with wire arguments: the result, or a thrown PythonError/BridgeError.
Napi::Value Bridge::CallSync(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (state_ != State::kRunning || !channel_ || !started_) {
    Throw(env, ErrorToJs(env, helpers_, BridgeFailure("ESEM_SHUTDOWN", "the bridge is not running: load a module with python() first")));
    return Napi::Env(env).Undefined();
  }
  auto job = TargetJob(info, Op::kCall);
  bool ok = info[2].IsTypedArray() ? WireArguments(env, info, 2, job.get()) : ScalarsFromJs(env, info[2], &job->scalars);
  if (!ok) {
    Recycle(std::move(job));
    Throw(env, ErrorToJs(env, helpers_, BridgeFailure("ESEM_INTERNAL", "malformed callSync() arguments")));
    return Napi::Env(env).Undefined();
  }
  job->channel = channel_;
  job->sync = true;
  {
    JsThreadGil gil;
    SyncCall sync{channel_.get(), this, &Bridge::RunCallbackNow, nullptr, &Bridge::RunPlainCallbackNow};
    sync.Enter();
    ReleaseDeferral releases;  // told after this result is decoded (below, on this thread)
    try {
      Execute(channel_->ctx, job);
    } catch (...) {
      job->Fail(BridgeFailure("ESEM_INTERNAL", "internal error in a sync call"));
    }
    sync.Leave();
    channel_->ctx.CommitTypes(job->described);  // decoded next, before any other message
  }
  return SyncOutcome(env, std::move(job));
}

// prepareSync(ref, path): a handle for callPrepared, for a function of a
// module (held until the bridge shuts down), or 0 when it is no such thing.
Napi::Value Bridge::PrepareSync(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (state_ != State::kRunning || !channel_ || !started_ || !info[0].IsNumber()) return Napi::Number::New(env, 0);
  uint64_t ref = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  std::vector<std::string> path;
  Path(env, info[1], &path);
  JsThreadGil gil;
  const PyApi& py = Py();
  PyContext& ctx = channel_->ctx;
  PyObject* root = ctx.registry.Get(ref);
  if (!root || TypeOf(root) != py.PyModule_Type || path.empty() || ctx.sync_targets.size() >= 4096) {
    return Napi::Number::New(env, 0);
  }
  OwnedRef target = OwnedRef::Borrow(root);
  for (const std::string& name : path) {
    PyObject* n = ctx.Name(name);
    target = n ? OwnedRef::Steal(py.PyObject_GetAttr(target.get(), n)) : OwnedRef();
    if (!target) {
      py.PyErr_Clear();  // the call itself reports it, the slow way
      return Napi::Number::New(env, 0);
    }
  }
  ctx.sync_targets.push_back(std::move(target));
  return Napi::Number::New(env, static_cast<double>(ctx.sync_targets.size()));
}

namespace {

constexpr long long kMaxSafeInt = 9007199254740991LL;  // Number.MAX_SAFE_INTEGER

// A plain result straight to JS (exact None, bool, safe int, float, str),
// or false for anything else (then it goes through the writer). GIL held.
bool FastResultToJs(napi_env env, PyObject* o, napi_value* out) {
  const PyApi& py = Py();
  if (o == py._Py_NoneStruct) return napi_get_null(env, out) == napi_ok;
  if (o == py._Py_TrueStruct || o == py._Py_FalseStruct) return napi_get_boolean(env, o == py._Py_TrueStruct, out) == napi_ok;
  PyObject* t = TypeOf(o);
  if (t == py.PyLong_Type) {
    int overflow = 0;
    long long v = py.PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || v > kMaxSafeInt || v < -kMaxSafeInt) return false;  // a bigint: the writer's way
    return napi_create_int64(env, v, out) == napi_ok;
  }
  if (t == py.PyFloat_Type) return napi_create_double(env, py.PyFloat_AsDouble(o), out) == napi_ok;
  if (t == py.PyUnicode_Type) {
    Py_ssize_t n = 0;
    const char* s = py.PyUnicode_AsUTF8AndSize(o, &n);
    if (!s) {
      py.PyErr_Clear();  // lone surrogates: the writer keeps them
      return false;
    }
    return napi_create_string_utf8(env, s, static_cast<size_t>(n), out) == napi_ok;
  }
  return false;
}

// A sync hook's answer: a plain value, or [ok, bytes]; ok false with no
// bytes for anything else (no answer: the hook threw).
void ReadSyncAnswer(napi_env env, napi_value answer, CallbackAnswer* job) {
  job->ok = false;
  job->plain = false;
  job->wire.clear();
  if (!answer) return;
  napi_valuetype type = napi_undefined;
  napi_typeof(env, answer, &type);
  if (type != napi_object) {
    job->plain = job->ok = ScalarFromJs(env, answer, &job->result);
    return;
  }
  napi_value ok_v, bytes_v;
  bool ok = false, typed = false;
  if (napi_get_element(env, answer, 0, &ok_v) != napi_ok || napi_get_element(env, answer, 1, &bytes_v) != napi_ok) return;
  napi_get_value_bool(env, ok_v, &ok);
  napi_is_typedarray(env, bytes_v, &typed);
  if (!typed) return;
  void* data = nullptr;
  size_t length = 0;
  napi_get_typedarray_info(env, bytes_v, nullptr, &length, &data, nullptr, nullptr);
  job->wire.assign(static_cast<const char*>(data), length);
  job->ok = ok;
}

// Calls a JS hook; the answer, or nullptr (its exception cleared).
napi_value CallSyncHook(napi_env env, napi_ref ref, size_t argc, napi_value* argv) {
  napi_value hook = nullptr, undefined, answer = nullptr;
  napi_get_undefined(env, &undefined);
  if (ref && napi_get_reference_value(env, ref, &hook) == napi_ok && hook &&
      napi_call_function(env, undefined, hook, argc, argv, &answer) == napi_ok) {
    return answer;
  }
  bool pending = false;
  napi_value ignored;
  napi_is_exception_pending(env, &pending);
  if (pending) napi_get_and_clear_last_exception(env, &ignored);
  return nullptr;
}

}  // namespace

// callFast(handle, ...args): a prepared module function with scalar
// arguments passed as themselves (the caller checks they are scalars),
// and a plain result made here without a job: callSync's hot path.
Napi::Value Bridge::CallFast(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  size_t argc = info.Length();
  size_t n = argc > 0 ? argc - 1 : 0;
  Scalar inline_args[kInlineArgs];
  std::vector<Scalar> more;  // past kInlineArgs arguments only
  if (n > kInlineArgs) more.resize(n);
  Scalar* args = n > kInlineArgs ? more.data() : inline_args;
  bool ok = state_ == State::kRunning && channel_ && argc >= 1;
  for (size_t i = 0; ok && i < n; i++) ok = ScalarFromJs(env, info[i + 1], &args[i]);
  if (!ok) {
    Throw(env, ErrorToJs(env, helpers_, state_ == State::kRunning ? BridgeFailure("ESEM_INTERNAL", "callSync(): malformed fast arguments")
                                                                   : BridgeFailure("ESEM_SHUTDOWN", "the bridge is not running")));
    return Napi::Env(env).Undefined();
  }
  size_t handle = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  napi_value out = nullptr;
  std::unique_ptr<Job> job;  // for an error, or a result the fast way does not make
  {
    JsThreadGil gil;
    const PyApi& py = Py();
    PyContext& ctx = channel_->ctx;
    SyncCall sync{channel_.get(), this, &Bridge::RunCallbackNow, nullptr, &Bridge::RunPlainCallbackNow};
    sync.Enter();
    ReleaseDeferral releases;
    OwnedRef result;
    if (handle >= 1 && handle <= ctx.sync_targets.size()) {
      OwnedRef tuple = OwnedRef::Steal(py.PyTuple_New(static_cast<Py_ssize_t>(n)));
      for (size_t i = 0; tuple && i < n; i++) {
        OwnedRef item = ScalarToPy(args[i]);
        if (!item) {
          tuple.Reset();
          break;
        }
        py.PyTuple_SetItem(tuple.get(), static_cast<Py_ssize_t>(i), item.Release());
      }
      if (tuple) result = OwnedRef::Steal(py.PyObject_Call(ctx.sync_targets[handle - 1].get(), tuple.get(), nullptr));
      if (!result || !FastResultToJs(env, result.get(), &out)) {
        job = NewJob();
        job->channel = channel_;
        if (!result) {
          job->Fail(FetchPythonError(ctx));
        } else if (TypeOf(result.get()) == ctx.coroutine_type.get()) {
          RefuseCoroutine(result.get(), *job);
        } else {
          ErrorInfo error;
          if (!WriteResult(ctx, result.get(), job.get(), &error)) job->Fail(std::move(error));
        }
      }
    } else {
      job = NewJob();
      job->Fail(BridgeFailure("ESEM_INTERNAL", "callSync(): an unknown function handle"));
    }
    result.Reset();
    sync.Leave();
    if (job) ctx.CommitTypes(job->described);
  }
  if (job) return SyncOutcome(env, std::move(job));
  return Napi::Value(env, out);
}

// A JS function called by Python during callSync, on this thread: the
// hook runs it and answers [ok, bytes] at once.
void Bridge::RunCallbackNow(void* self, Job* job, CallbackAnswer* out) {
  auto* bridge = static_cast<Bridge*>(self);
  napi_env env = bridge->env_;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[2];
  napi_create_double(env, static_cast<double>(job->ref), &argv[0]);
  argv[1] = ResultToJs(env, bridge->helpers_, *job);
  napi_value answer = argv[1] ? CallSyncHook(env, bridge->helpers_.callback_sync, 2, argv) : nullptr;
  ReadSyncAnswer(env, answer, out);
  napi_close_handle_scope(env, scope);
}

// The same for plain arguments (at most kPlainArgs): the hook takes them as
// themselves and answers a plain value itself, or [ok, bytes] for any
// other outcome.
void Bridge::RunPlainCallbackNow(void* self, long long id, Scalar* args, size_t n, CallbackAnswer* out) {
  auto* bridge = static_cast<Bridge*>(self);
  napi_env env = bridge->env_;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[1 + kPlainArgs];
  n = std::min(n, kPlainArgs);
  napi_create_double(env, static_cast<double>(id), &argv[0]);
  for (size_t i = 0; i < n; i++) argv[1 + i] = ScalarToJs(env, bridge->helpers_, args[i]);
  napi_value answer = CallSyncHook(env, bridge->helpers_.callback_sync_plain, 1 + n, argv);
  ReadSyncAnswer(env, answer, out);
  napi_close_handle_scope(env, scope);
}

}  // namespace esem
