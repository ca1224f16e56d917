// JobDone: the callable aio.submit calls with the finished future of a
// parked job (on the loop thread, GIL held). It writes the result into the
// job and delivers it; one destroyed uncalled delivers ESEM_SHUTDOWN, so no
// promise waits forever.
#include "py_parked_job.h"

#include "channel.h"
#include "py_error.h"
#include "py_wire.h"
#include "python_host.h"

namespace esem {
namespace {


struct JobDoneObject {
  PyObjectHead head;
  Job* job;  // owned; nullptr once delivered
};

void Deliver(std::unique_ptr<Job> job) {
  std::shared_ptr<Channel> channel = job->channel;
  PythonHost::Get().Unpark(channel.get(), job->seq);
  std::vector<uint32_t> described = std::move(job->described);
  channel->Deliver(std::move(job));
  channel->ctx.CommitTypes(described);
}

PyObject* CallJobDone(PyObject* self, PyObject* args, PyObject*) {
  const PyApi& py = Py();
  auto* o = reinterpret_cast<JobDoneObject*>(self);
  if (!o->job || py.PyTuple_Size(args) != 1) return OwnedRef::Borrow(py._Py_NoneStruct).Release();
  std::unique_ptr<Job> job(o->job);
  o->job = nullptr;
  PyContext& ctx = job->channel->ctx;
  OwnedRef result_of = OwnedRef::Steal(py.PyObject_GetAttrString(py.PyTuple_GetItem(args, 0), "result"));
  OwnedRef none = OwnedRef::Steal(py.PyTuple_New(0));
  OwnedRef result = result_of && none ? OwnedRef::Steal(py.PyObject_Call(result_of.get(), none.get(), nullptr)) : OwnedRef();
  if (!result) {
    job->Fail(FetchPythonError(ctx));
  } else {
    ErrorInfo error;
    if (!WriteResult(ctx, result.get(), job.get(), &error)) job->Fail(std::move(error));
  }
  Deliver(std::move(job));
  return OwnedRef::Borrow(py._Py_NoneStruct).Release();
}

void DeallocJobDone(PyObject* self) {
  const PyApi& py = Py();
  auto* o = reinterpret_cast<JobDoneObject*>(self);
  if (o->job) {
    std::unique_ptr<Job> job(o->job);
    job->Fail(BridgeFailure("ESEM_SHUTDOWN", "the asyncio loop dropped this coroutine before it finished"));
    Deliver(std::move(job));
  }
  PyObject* type = TypeOf(self);
  py.PyObject_Free(self);
  py.Py_DecRef(type);
}

PyObject* JobDoneType() {
  static PyObject* type = [] {
    static char doc[] = "Finishes an esem-bridge call whose coroutine ran on the bridge's asyncio loop.";
    static char name[] = "esem_bridge.JobDone";
    PyTypeSlot slots[] = {
        {kPyTpDealloc, reinterpret_cast<void*>(&DeallocJobDone)},
        {kPyTpCall, reinterpret_cast<void*>(&CallJobDone)},
        {kPyTpDoc, doc},
        {0, nullptr},
    };
    PyTypeSpec spec{name, static_cast<int>(sizeof(JobDoneObject)), 0, 1u << 18 /* HAVE_VERSION_TAG */, slots};
    return Py().PyType_FromSpec(&spec);
  }();
  return type;
}

}  // namespace

bool ParkOnLoop(PyObject* submit, OwnedRef coro, std::unique_ptr<Job>* job) {
  const PyApi& py = Py();
  PyObject* type = JobDoneType();
  if (!type) return false;
  OwnedRef done = OwnedRef::Steal(py.PyType_GenericAlloc(type, 0));
  if (!done) return false;
  auto* o = reinterpret_cast<JobDoneObject*>(done.get());
  o->job = job->release();
  OwnedRef args = OwnedRef::Steal(py.PyTuple_New(2));
  if (args) {
    py.PyTuple_SetItem(args.get(), 0, coro.Release());
    py.PyTuple_SetItem(args.get(), 1, OwnedRef::Borrow(done.get()).Release());
  }
  // Parked once submitted, unless it already finished (JobDone ran while
  // submit let go of the GIL); both run with the GIL, so in order.
  const Channel* channel = o->job->channel.get();
  uint64_t seq = o->job->seq;
  OwnedRef future = args ? OwnedRef::Steal(py.PyObject_Call(submit, args.get(), nullptr)) : OwnedRef();
  if (future) {
    if (o->job) PythonHost::Get().Park(channel, seq, future.get());  // still running on the loop
    return true;
  }
  // Not submitted: the job comes back (unless done was already called).
  if (o->job) {
    job->reset(o->job);
    o->job = nullptr;
  }
  return false;
}

}  // namespace esem
