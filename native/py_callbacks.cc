// JsInvoker: the callable behind a CallbackTable's invoke(id, args, kwargs)
// and release(id, count), a heap type made once per process, and the call
// of a JS function itself (InvokeJsFunction: run here during a callSync, or
// delivered to the JS thread and waited for). Python side: any thread, GIL
// held on entry.
#include "py_callbacks.h"

#include <string>

#include "channel.h"
#include "python_host.h"
#include "executor.h"
#include "py_js_function.h"
#include "py_wire.h"

namespace esem {

namespace {
thread_local ReleaseDeferral* t_deferral = nullptr;
thread_local SyncCall* t_sync = nullptr;
}  // namespace

SyncCall* SyncCall::Current() { return t_sync; }
void SyncCall::Enter() {
  outer = t_sync;
  t_sync = this;
}
void SyncCall::Leave() { t_sync = outer; }

ReleaseDeferral::ReleaseDeferral() : outer_(t_deferral) { t_deferral = this; }
ReleaseDeferral::~ReleaseDeferral() {
  Flush();
  t_deferral = outer_;
}
ReleaseDeferral* ReleaseDeferral::Current() { return t_deferral; }
void ReleaseDeferral::Add(std::unique_ptr<Job> job) { jobs_.push_back(std::move(job)); }
void ReleaseDeferral::Flush() {
  for (auto& job : jobs_) {
    std::shared_ptr<Channel> channel = job->channel;
    channel->Deliver(std::move(job));
  }
  jobs_.clear();
}

namespace {

struct InvokerState {
  std::weak_ptr<Channel> channel;
  bool release = false;
};

struct InvokerObject {
  PyObjectHead head;
  InvokerState* state;
};

InvokerState* StateOf(PyObject* self) { return reinterpret_cast<InvokerObject*>(self)->state; }

// esem_bridge.callback.<name>, kept for the life of the process (one
// interpreter); GIL held. nullptr with a Python error set.
PyObject* CallbackModuleAttr(const char* name) {
  const PyApi& py = Py();
  OwnedRef module = OwnedRef::Steal(py.PyImport_ImportModule("esem_bridge.callback"));
  if (!module) return nullptr;
  return py.PyObject_GetAttrString(module.get(), name);  // a new reference, kept by the caller
}

PyObject* Gone(const char* why) {
  static PyObject* type = CallbackModuleAttr("CallbackGone");
  if (!type) return nullptr;
  Py().PyErr_SetString(type, why);
  return nullptr;
}

bool Integer(PyObject* o, long long* out) {
  const PyApi& py = Py();
  int overflow = 0;
  *out = py.PyLong_AsLongLongAndOverflow(o, &overflow);
  if (*out == -1 && py.PyErr_Occurred()) return false;
  if (overflow || *out < 0) {
    py.PyErr_SetString(py.PyExc_ValueError, "a JS function id out of range");
    return false;
  }
  return true;
}

PyObject* Release(const std::shared_ptr<Channel>& channel, long long id, PyObject* count_obj) {
  const PyApi& py = Py();
  long long count;
  if (!Integer(count_obj, &count)) return nullptr;
  if (channel && !channel->closing.load(std::memory_order_acquire)) {
    auto job = std::make_unique<Job>();
    job->op = Op::kCallbackRelease;
    job->channel = channel;
    job->ids = {static_cast<uint64_t>(id), static_cast<uint64_t>(count)};
    if (ReleaseDeferral* later = ReleaseDeferral::Current()) {
      later->Add(std::move(job));
    } else {
      channel->Deliver(std::move(job));
    }
  }
  return OwnedRef::Borrow(py._Py_NoneStruct).Release();
}

// The JS error of an answered callback: JSError(message, name, stack).
PyObject* RaiseJsError(PyObject* values) {
  const PyApi& py = Py();
  static PyObject* type = CallbackModuleAttr("JSError");
  if (!type) return nullptr;
  if (py.PyList_Size(values) != 3) {
    py.PyErr_SetString(py.PyExc_RuntimeError, "esem-bridge: a malformed callback error reply");
    return nullptr;
  }
  OwnedRef args = OwnedRef::Steal(py.PyTuple_New(3));
  if (!args) return nullptr;
  // JSError(message, js_name, js_stack); the reply is [name, message, stack].
  int order[3] = {1, 0, 2};
  for (int i = 0; i < 3; i++) {
    py.PyTuple_SetItem(args.get(), i, OwnedRef::Borrow(py.PyList_GetItem(values, order[i])).Release());
  }
  OwnedRef error = OwnedRef::Steal(py.PyObject_Call(type, args.get(), nullptr));
  if (!error) return nullptr;
  py.PyErr_SetObject(type, error.get());
  return nullptr;
}

PyObject* Answer(const std::shared_ptr<Channel>& channel, bool ok, bool plain, const Scalar& result, const std::string& wire);

constexpr long long kMaxSafeInt = 9007199254740991LL;

// One plain argument (None, bool, an int JS holds exactly, float, str
// with a UTF-8 form) as a Scalar; false for anything else.
bool PlainArg(PyObject* o, Scalar& v) {
  const PyApi& py = Py();
  PyObject* t = TypeOf(o);
  if (o == py._Py_NoneStruct) {
    v.kind = Scalar::Kind::kNone;
  } else if (o == py._Py_TrueStruct || o == py._Py_FalseStruct) {
    v.kind = Scalar::Kind::kBool;
    v.b = o == py._Py_TrueStruct;
  } else if (t == py.PyLong_Type) {
    int overflow = 0;
    long long x = py.PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || x > kMaxSafeInt || x < -kMaxSafeInt) return false;
    v.kind = Scalar::Kind::kInt;
    v.i = x;
  } else if (t == py.PyFloat_Type) {
    v.kind = Scalar::Kind::kFloat;
    v.f = py.PyFloat_AsDouble(o);
  } else if (t == py.PyUnicode_Type) {
    Py_ssize_t len = 0;
    const char* text = py.PyUnicode_AsUTF8AndSize(o, &len);
    if (!text) {
      py.PyErr_Clear();  // lone surrogates: the wire keeps them
      return false;
    }
    v.kind = Scalar::Kind::kStr;
    v.utf16 = false;
    v.s.assign(text, static_cast<size_t>(len));
  } else {
    return false;
  }
  return true;
}

// Positional arguments that are all plain and no keywords, as Scalars.
bool PlainArgs(const JsCallArgs& args, Scalar* out) {
  const PyApi& py = Py();
  if (args.kwargs && (TypeOf(args.kwargs) != py.PyDict_Type || py.PyDict_Size(args.kwargs) != 0)) return false;
  if (args.n > kPlainArgs) return false;
  for (size_t i = 0; i < args.n; i++) {
    if (!PlainArg(args.items[i], out[i])) return false;
  }
  return true;
}

// (args, kwargs) as wire bytes in job.
bool WriteCallArgs(const std::shared_ptr<Channel>& channel, const JsCallArgs& args, Job* job) {
  const PyApi& py = Py();
  OwnedRef tuple, kwargs;
  if (!ArgsAsObjects(args, &tuple, &kwargs)) return false;
  OwnedRef pair = OwnedRef::Steal(py.PyTuple_New(2));
  if (!pair) return false;
  py.PyTuple_SetItem(pair.get(), 0, tuple.Release());
  py.PyTuple_SetItem(pair.get(), 1, kwargs.Release());
  return WriteForJs(channel->ctx, pair.get(), job);
}

}  // namespace

bool ArgsAsObjects(const JsCallArgs& args, OwnedRef* tuple, OwnedRef* kwargs) {
  const PyApi& py = Py();
  *tuple = OwnedRef::Borrow(args.tuple);
  if (!*tuple) {
    *tuple = OwnedRef::Steal(py.PyTuple_New(static_cast<Py_ssize_t>(args.n)));
    if (!*tuple) return false;
    for (size_t i = 0; i < args.n; i++) py.PyTuple_SetItem(tuple->get(), static_cast<Py_ssize_t>(i), OwnedRef::Borrow(args.items[i]).Release());
  }
  *kwargs = args.kwargs ? OwnedRef::Borrow(args.kwargs) : OwnedRef::Steal(py.PyDict_New());
  return static_cast<bool>(*kwargs);
}

PyObject* InvokeJsFunction(const std::shared_ptr<Channel>& channel, long long id, const JsCallArgs& args) {
  const PyApi& py = Py();
  if (!channel || channel->closing.load(std::memory_order_acquire)) {
    return Gone("the JS side of this function is gone: its bridge was shut down or its worker_thread ended");
  }
  SyncCall* sync = SyncCall::Current();
  bool here = sync && sync->channel == channel.get();  // a callSync() on this thread is Python's caller
  Scalar plain[kPlainArgs];
  bool is_plain = PlainArgs(args, plain);
  if (here && is_plain) {
    // Plain arguments, run here: no wire bytes, no job.
    // The GIL stays held while JS runs (a callSync from JS nests on it).
    CallbackAnswer answer;
    sync->run_plain(sync->bridge, id, plain, args.n, &answer);
    return Answer(channel, answer.ok, answer.plain, answer.result, answer.wire);
  }
  auto job = std::make_unique<Job>();
  job->op = Op::kCallback;
  job->channel = channel;
  job->ref = static_cast<uint64_t>(id);
  if (is_plain) {
    // Plain arguments travel as themselves (StartCallback makes them JS values).
    job->plain = true;
    job->scalars.assign(std::make_move_iterator(plain), std::make_move_iterator(plain + args.n));
  } else if (!WriteCallArgs(channel, args, job.get())) {
    return nullptr;
  }
  if (here) {
    // Run the JS function on this thread, with the arguments as wire bytes.
    channel->ctx.CommitTypes(job->described);  // decoded before anything else on this thread
    CallbackAnswer answer;
    sync->run(sync->bridge, job.get(), &answer);  // GIL held, as above
    return Answer(channel, answer.ok, answer.plain, answer.result, answer.wire);
  }
  auto waiter = std::make_shared<CallbackWait>();
  job->waiter = waiter;
  std::vector<uint32_t> described = std::move(job->described);
  channel->Deliver(std::move(job));  // dropped (and so abandoned) when the JS side is detached
  channel->ctx.CommitTypes(described);
  PyThreadState* ts = py.PyEval_SaveThread();
  PythonHost::Get().WaitForReply(*waiter);
  py.PyEval_RestoreThread(ts);
  std::unique_ptr<Job> reply = waiter->Take();
  if (!reply) return Gone("the JS side of this function went away before it answered: its bridge was shut down or its worker_thread ended");
  return Answer(channel, reply->ok, reply->plain, reply->result, reply->wire);
}

namespace {

// The value (or JSError) of an answered callback: a plain value, or wire
// bytes of [value] (ok) or [name, message, stack].
PyObject* Answer(const std::shared_ptr<Channel>& channel, bool ok, bool plain, const Scalar& result, const std::string& wire) {
  const PyApi& py = Py();
  if (plain && ok) return ScalarToPy(result).Release();
  OwnedRef values = OwnedRef::Steal(py.PyList_New(0));
  if (!values) return nullptr;
  std::string code, message;
  if (!ReadValues(channel->ctx, wire.data(), wire.size(), values.get(), &code, &message)) {
    if (!code.empty()) py.PyErr_SetString(py.PyExc_RuntimeError, ("esem-bridge: " + message).c_str());
    return nullptr;
  }
  if (!ok) return RaiseJsError(values.get());
  if (py.PyList_Size(values.get()) != 1) {
    py.PyErr_SetString(py.PyExc_RuntimeError, "esem-bridge: a malformed callback reply");
    return nullptr;
  }
  return OwnedRef::Borrow(py.PyList_GetItem(values.get(), 0)).Release();
}

// invoke(id, args, kwargs) or release(id, count).
PyObject* CallInvoker(PyObject* self, PyObject* args, PyObject* /*kwargs*/) {
  const PyApi& py = Py();
  InvokerState* s = StateOf(self);
  Py_ssize_t n = py.PyTuple_Size(args);
  if (n != (s->release ? 2 : 3)) {
    py.PyErr_SetString(py.PyExc_TypeError, s->release ? "release(id, count)" : "invoke(id, args, kwargs)");
    return nullptr;
  }
  long long id;
  if (!Integer(py.PyTuple_GetItem(args, 0), &id)) return nullptr;
  std::shared_ptr<Channel> channel = s->channel.lock();
  if (s->release) return Release(channel, id, py.PyTuple_GetItem(args, 1));
  PyObject* call_args = py.PyTuple_GetItem(args, 1);
  PyObject* kwargs = py.PyTuple_GetItem(args, 2);
  if (TypeOf(call_args) != py.PyTuple_Type || (kwargs != py._Py_NoneStruct && TypeOf(kwargs) != py.PyDict_Type)) {
    py.PyErr_SetString(py.PyExc_TypeError, "invoke(id, args: tuple, kwargs: dict)");
    return nullptr;
  }
  PyObject* items[kPlainArgs];
  Py_ssize_t count = py.PyTuple_Size(call_args);
  for (Py_ssize_t i = 0; i < count && i < static_cast<Py_ssize_t>(kPlainArgs); i++) items[i] = py.PyTuple_GetItem(call_args, i);
  // Past kPlainArgs the items are not read: the tuple goes as wire bytes.
  JsCallArgs call{items, static_cast<size_t>(count), call_args, kwargs == py._Py_NoneStruct ? nullptr : kwargs};
  return InvokeJsFunction(channel, id, call);
}

void DeallocInvoker(PyObject* self) {
  const PyApi& py = Py();
  PyObject* type = TypeOf(self);
  delete StateOf(self);
  py.PyObject_Free(self);
  py.Py_DecRef(type);
}

PyObject* InvokerType() {
  static PyObject* type = [] {
    static char doc[] = "Calls a JS function of one esem-bridge bridge (esem_bridge.callback.CallbackTable).";
    static char name[] = "esem_bridge.JsInvoker";
    PyTypeSlot slots[] = {
        {kPyTpDealloc, reinterpret_cast<void*>(&DeallocInvoker)},
        {kPyTpCall, reinterpret_cast<void*>(&CallInvoker)},
        {kPyTpDoc, doc},
        {0, nullptr},
    };
    PyTypeSpec spec{name, static_cast<int>(sizeof(InvokerObject)), 0, 1u << 18 /* HAVE_VERSION_TAG */, slots};
    return Py().PyType_FromSpec(&spec);
  }();
  return type;
}

OwnedRef MakeInvoker(const std::shared_ptr<Channel>& channel, bool release) {
  PyObject* type = InvokerType();
  if (!type) return OwnedRef();
  OwnedRef obj = OwnedRef::Steal(Py().PyType_GenericAlloc(type, 0));
  if (!obj) return obj;
  reinterpret_cast<InvokerObject*>(obj.get())->state = new InvokerState{channel, release};
  return obj;
}

}  // namespace

bool InvokerChannel(PyObject* o, std::weak_ptr<Channel>* out) {
  PyObject* type = InvokerType();
  if (!type || TypeOf(o) != type || StateOf(o)->release) return false;
  *out = StateOf(o)->channel;
  return true;
}

OwnedRef MakeCallbackTable(const std::shared_ptr<Channel>& channel) {
  const PyApi& py = Py();
  OwnedRef table_type = OwnedRef::Steal(CallbackModuleAttr("CallbackTable"));
  if (!table_type) return OwnedRef();
  OwnedRef invoke = MakeInvoker(channel, false);
  OwnedRef release = MakeInvoker(channel, true);
  PyObject* make = JsFunctionType();
  if (!invoke || !release || !make) return OwnedRef();
  OwnedRef args = OwnedRef::Steal(py.PyTuple_New(3));
  if (!args) return args;
  py.PyTuple_SetItem(args.get(), 0, invoke.Release());
  py.PyTuple_SetItem(args.get(), 1, release.Release());
  py.PyTuple_SetItem(args.get(), 2, OwnedRef::Borrow(make).Release());
  return OwnedRef::Steal(py.PyObject_Call(table_type.get(), args.get(), nullptr));
}

}  // namespace esem
