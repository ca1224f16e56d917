// Job execution: resolve the target, convert arguments, call, convert the
// result. Every failure becomes data in the job. Python thread only.
#include "executor.h"

#include "py_error.h"
#include "py_parked_job.h"
#include "py_wire.h"

namespace esem {

OwnedRef ScalarToPy(const Scalar& v) {
  const PyApi& py_ = Py();
  switch (v.kind) {
    case Scalar::Kind::kNone:
      return OwnedRef::Borrow(py_._Py_NoneStruct);
    case Scalar::Kind::kBool:
      return OwnedRef::Borrow(v.b ? py_._Py_TrueStruct : py_._Py_FalseStruct);
    case Scalar::Kind::kInt:
      return OwnedRef::Steal(py_.PyLong_FromLongLong(v.i));
    case Scalar::Kind::kFloat:
      return OwnedRef::Steal(py_.PyFloat_FromDouble(v.f));
    case Scalar::Kind::kStr: {
      if (!v.utf16) return OwnedRef::Steal(py_.PyUnicode_FromStringAndSize(v.s.data(), static_cast<Py_ssize_t>(v.s.size())));
      int byteorder = -1;  // little-endian, as napi gives it on every platform we build for
      return OwnedRef::Steal(
          py_.PyUnicode_DecodeUTF16(v.s.data(), static_cast<Py_ssize_t>(v.s.size()), "surrogatepass", &byteorder));
    }
    case Scalar::Kind::kRef:
      break;
  }
  py_.PyErr_SetString(py_.PyExc_TypeError, "a proxy cannot be a scalar argument");
  return OwnedRef();
}

void RefuseCoroutine(PyObject* coro, Job& job) {
  const PyApi& py = Py();
  OwnedRef close = OwnedRef::Steal(py.PyObject_GetAttrString(coro, "close"));
  OwnedRef none = OwnedRef::Steal(py.PyTuple_New(0));
  if (close && none) OwnedRef::Steal(py.PyObject_Call(close.get(), none.get(), nullptr));
  py.PyErr_Clear();
  job.Fail(BridgeFailure("ESEM_BAD_REQUEST", "callSync() cannot run an async def (it returned a coroutine): await the function instead"));
}

namespace {

class Runner {
 public:
  Runner(PyContext& ctx, std::unique_ptr<Job>& slot, std::vector<OwnedRef>* after)
      : ctx_(ctx), job_(*slot), slot_(slot), py_(Py()), after_(after) {}

  void Run() {
    switch (job_.op) {
      case Op::kStart:
      case Op::kClose:
        return;  // the host runs these itself
      case Op::kImport:
        return Import();
      case Op::kCall:
        return Call();
      case Op::kGetAttr:
        return GetAttr();
      case Op::kSetAttr:
        return SetAttr();
      case Op::kRelease:
        for (uint64_t id : job_.ids) ctx_.registry.Remove(id);
        return;
      case Op::kHelper:
        return Helper();
      case Op::kCallback:
      case Op::kCallbackRelease:
        return;  // Python -> JS: never queued on the host
    }
  }

 private:
  void PythonFailure() { job_.Fail(FetchPythonError(ctx_)); }

  void Finish(OwnedRef result) {
    if (!result) return PythonFailure();
    if (TypeOf(result.get()) == ctx_.coroutine_type.get() && job_.sync) return RefuseCoroutine(result.get(), job_);
    if (TypeOf(result.get()) == ctx_.coroutine_type.get()) {
      // Runs on the bridge's asyncio loop; the job is delivered from there.
      if (!ParkOnLoop(ctx_.aio_submit.get(), std::move(result), &slot_)) PythonFailure();
      return;
    }
    ErrorInfo error;
    if (!WriteResult(ctx_, result.get(), &job_, &error)) job_.Fail(std::move(error));
    Later(std::move(result));
  }

  // Dropped after delivery when the caller allows it, else now.
  void Later(OwnedRef ref) {
    if (after_ && ref) after_->push_back(std::move(ref));
  }

  OwnedRef CallWith(PyObject* fn, OwnedRef arg) {
    OwnedRef args = OwnedRef::Steal(py_.PyTuple_New(1));
    py_.PyTuple_SetItem(args.get(), 0, arg.Release());
    return OwnedRef::Steal(py_.PyObject_Call(fn, args.get(), nullptr));
  }

  OwnedRef Name(const std::string& name) {
    return OwnedRef::Steal(py_.PyUnicode_FromStringAndSize(name.data(), static_cast<Py_ssize_t>(name.size())));
  }

  // ref, then each path segment but the last `keep`. Empty on failure (job failed).
  OwnedRef Target(size_t keep) {
    PyObject* root = ctx_.registry.Get(job_.ref);
    if (!root) {
      job_.Fail(BridgeFailure("ESEM_RELEASED", "this Python object was released; it cannot be used any more"));
      return OwnedRef();
    }
    OwnedRef target = OwnedRef::Borrow(root);
    for (size_t i = 0; i + keep < job_.path.size(); i++) {
      PyObject* name = ctx_.Name(job_.path[i]);  // borrowed
      if (!name) {
        PythonFailure();
        return OwnedRef();
      }
      target = OwnedRef::Steal(py_.PyObject_GetAttr(target.get(), name));
      if (!target) {
        PythonFailure();
        return OwnedRef();
      }
    }
    return target;
  }

  // args as a tuple, kwargs as a dict (or empty). False when the job failed.
  bool Arguments(OwnedRef* args, OwnedRef* kwargs) {
    ErrorInfo error;
    if (job_.WireSize() != 0) {
      if (ReadArguments(ctx_, job_, args, kwargs, &error)) return true;
      job_.Fail(std::move(error));
      return false;
    }
    const auto& items = job_.scalars;
    *args = OwnedRef::Steal(py_.PyTuple_New(static_cast<Py_ssize_t>(items.size())));
    if (!*args) {
      PythonFailure();
      return false;
    }
    for (size_t i = 0; i < items.size(); i++) {
      OwnedRef item = ScalarToPy(items[i]);
      if (!item) {
        PythonFailure();
        return false;
      }
      py_.PyTuple_SetItem(args->get(), static_cast<Py_ssize_t>(i), item.Release());  // steals
    }
    return true;
  }

  void Import() {
    OwnedRef args = OwnedRef::Steal(py_.PyTuple_New(2));
    py_.PyTuple_SetItem(args.get(), 0, Name(job_.text).Release());
    py_.PyTuple_SetItem(args.get(), 1, Name(job_.path.empty() ? "." : job_.path[0]).Release());
    Finish(OwnedRef::Steal(py_.PyObject_Call(ctx_.import_module.get(), args.get(), nullptr)));
  }

  void Call() {
    OwnedRef fn = Target(0);
    if (!fn) return;
    OwnedRef args, kwargs;
    if (!Arguments(&args, &kwargs)) return;
    if (!FreshGlobals(fn.get(), &args, &kwargs)) return PythonFailure();
    Finish(OwnedRef::Steal(py_.PyObject_Call(fn.get(), args.get(), kwargs.get())));
    Later(std::move(args));
    Later(std::move(kwargs));
  }

  // builtins.eval and builtins.exec called without globals get a fresh
  // namespace, as at a Python prompt (there is no calling Python frame whose
  // globals they could use): esem_bridge.ops.fresh_globals_for holds the
  // rule for both modes. False with a Python error set.
  bool FreshGlobals(PyObject* fn, OwnedRef* args, OwnedRef* kwargs) {
    if (fn != ctx_.builtin_eval.get() && fn != ctx_.builtin_exec.get()) return true;
    OwnedRef call = OwnedRef::Steal(py_.PyTuple_New(3));
    if (!call) return false;
    py_.PyTuple_SetItem(call.get(), 0, OwnedRef::Borrow(fn).Release());
    py_.PyTuple_SetItem(call.get(), 1, OwnedRef::Borrow(args->get()).Release());
    py_.PyTuple_SetItem(call.get(), 2, OwnedRef::Borrow(*kwargs ? kwargs->get() : py_._Py_NoneStruct).Release());
    OwnedRef pair = OwnedRef::Steal(py_.PyObject_Call(ctx_.fresh_globals_for.get(), call.get(), nullptr));
    if (!pair) return false;
    PyObject* list = py_.PyTuple_GetItem(pair.get(), 0);  // borrowed
    PyObject* kw = py_.PyTuple_GetItem(pair.get(), 1);    // borrowed
    if (!list || !kw) return false;
    if (list == args->get()) return true;  // the rule did not apply: unchanged
    Py_ssize_t n = py_.PyList_Size(list);
    if (n < 0) return false;
    OwnedRef tuple = OwnedRef::Steal(py_.PyTuple_New(n));
    if (!tuple) return false;
    for (Py_ssize_t i = 0; i < n; i++) {
      py_.PyTuple_SetItem(tuple.get(), i, OwnedRef::Borrow(py_.PyList_GetItem(list, i)).Release());  // steals
    }
    *args = std::move(tuple);
    *kwargs = kw == py_._Py_NoneStruct ? OwnedRef() : OwnedRef::Borrow(kw);
    return true;
  }

  void GetAttr() {
    OwnedRef value = Target(0);
    if (!value) return;
    Finish(std::move(value));
  }

  void SetAttr() {
    if (job_.path.empty() || job_.wire.empty()) {
      job_.Fail(BridgeFailure("ESEM_BAD_REQUEST", "setAttr needs an attribute name and a value"));
      return;
    }
    OwnedRef owner = Target(1);
    if (!owner) return;
    ErrorInfo error;
    OwnedRef value = ReadValue(ctx_, job_, &error);
    if (!value) return job_.Fail(std::move(error));
    OwnedRef name = Name(job_.path.back());
    if (!name || py_.PyObject_SetAttr(owner.get(), name.get(), value.get()) < 0) return PythonFailure();
    job_.result = Scalar();
  }

  void Helper() {
    OwnedRef fn = OwnedRef::Steal(py_.PyObject_GetAttrString(ctx_.ops.get(), job_.text.c_str()));
    if (!fn) return PythonFailure();
    OwnedRef args, kwargs;
    if (!Arguments(&args, &kwargs)) return;
    Finish(OwnedRef::Steal(py_.PyObject_Call(fn.get(), args.get(), kwargs.get())));
  }

  PyContext& ctx_;
  Job& job_;
  std::unique_ptr<Job>& slot_;
  const PyApi& py_;
  std::vector<OwnedRef>* after_;
};

}  // namespace

void Execute(PyContext& ctx, std::unique_ptr<Job>& slot, std::vector<OwnedRef>* after) {
  Runner(ctx, slot, after).Run();
}

}  // namespace esem
