// libFuzzer harness for the native value path: the wire reader
// (native/py_wire_read.cc) turns any input into Python objects or fails with
// an error, and whatever it reads the writer (py_wire_write.cc) turns back
// into bytes or fails with an error: no crash, no sanitizer report, no
// Python error left set, nothing left in the registry. A real CPython runs
// in the fuzzer (ESEM_FUZZ_LIBPYTHON names its libpython, ESEM_FUZZ_RUNTIME
// the folder of esem_bridge); built and run by scripts/fuzz-wire.sh.
// Seeds: fuzz/corpus/wire (node fuzz/make-seeds.mjs).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "py_context.h"
#include "py_error.h"
#include "py_wire.h"

namespace esem {
// The addon hands exports to its Python host; here the one thread holds the GIL.
void DiscardExport(BufferExport* e) {
  if (!e) return;
  Py().PyBuffer_Release(&e->view);
  delete e;
}
}  // namespace esem

namespace {

esem::PyContext* g_ctx = nullptr;
uint64_t g_first_free_id = 0;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "wire_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

void Start() {
  using namespace esem;
  const char* lib = std::getenv("ESEM_FUZZ_LIBPYTHON");
  const char* runtime = std::getenv("ESEM_FUZZ_RUNTIME");
  if (!lib || !runtime) Fail("set ESEM_FUZZ_LIBPYTHON and ESEM_FUZZ_RUNTIME", "see scripts/fuzz-wire.sh");
  std::string loaded;
  std::string error = LoadPyApi({lib}, &loaded);
  if (!error.empty()) Fail("cannot load libpython", error);
  const PyApi& py = Py();
  py.Py_InitializeEx(0);
  PyObject* path = py.PySys_GetObject("path");  // borrowed
  OwnedRef folder = OwnedRef::Steal(py.PyUnicode_FromString(runtime));
  if (!path || !folder || py.PyList_Append(path, folder.get()) < 0) Fail("cannot extend sys.path", runtime);
  g_ctx = new PyContext();
  error = g_ctx->Load();
  if (!error.empty()) Fail("cannot load esem_bridge.ops", error + ": " + FetchPythonError(*g_ctx).message);
  // Registry ids 1 and 2 name real objects, so inputs can reach them by Ref.
  g_ctx->registry.Add(OwnedRef::Borrow(g_ctx->ops.get()));
  g_ctx->registry.Add(OwnedRef::Borrow(path));
  g_first_free_id = g_ctx->registry.NextId();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace esem;
  if (!g_ctx) Start();
  const PyApi& py = Py();
  Job job;
  job.wire.assign(reinterpret_cast<const char*>(data), size);
  OwnedRef args, kwargs;
  ErrorInfo error;
  if (!ReadArguments(*g_ctx, job, &args, &kwargs, &error)) {
    if (error.message.empty()) Fail("rejected without an error", "");
    if (py.PyErr_Occurred()) Fail("rejected with a Python error still set", error.message);
    return 0;
  }
  if (py.PyErr_Occurred()) Fail("read, with a Python error still set", "");
  // Back to bytes (Python -> JS layouts): done or a clean error, and a
  // failed write registers nothing.
  Job out;
  uint64_t before = g_ctx->registry.NextId();
  if (!WriteResult(*g_ctx, args.get(), &out, &error)) {
    if (error.message.empty() && error.type_or_code.empty()) Fail("write failed without an error", "");
    for (uint64_t id = before; id < g_ctx->registry.NextId(); id++) {
      if (g_ctx->registry.Get(id)) Fail("a failed write left an object registered", std::to_string(id));
    }
  }
  if (py.PyErr_Occurred()) Fail("wrote, with a Python error still set", "");
  g_ctx->registry.RemoveFrom(g_first_free_id);
  return 0;
}
