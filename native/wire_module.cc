// The native value path for the subprocess worker: a small library
// (esem_wire.so, built beside the addon, without Node) that
// python/esem_bridge/worker.py loads with ctypes.PyDLL, so its frames are
// read and written by the same C++ as the native mode's values
// (py_wire_read.cc, py_wire_write.cc) instead of the pure-Python codec.py.
// Every entry point runs in the worker's Python, GIL held (PyDLL).
#include <cstring>
#include <string>

#include "py_context.h"
#include "py_wire.h"

#if defined(_WIN32)
#define ESEM_EXPORT extern "C" __declspec(dllexport)
#else
#define ESEM_EXPORT extern "C" __attribute__((visibility("default")))
#endif

namespace esem {

// Nothing is lent to JS from the worker (WriteValue writes every payload
// inline), so no export is ever discarded.
void DiscardExport(BufferExport* e) { delete e; }

namespace {

std::string g_error;

struct WireContext {
  PyContext ctx;
  OwnedRef failure;  // codec.BridgeFailure, raised for malformed bytes and released proxies
};

void Raise(WireContext* w, const std::string& code, const std::string& message) {
  const PyApi& py = Py();
  OwnedRef args = OwnedRef::Steal(py.PyTuple_New(2));
  if (!args) return;
  py.PyTuple_SetItem(args.get(), 0, py.PyUnicode_FromStringAndSize(code.data(), static_cast<Py_ssize_t>(code.size())));
  py.PyTuple_SetItem(args.get(), 1,
                     py.PyUnicode_FromStringAndSize(message.data(), static_cast<Py_ssize_t>(message.size())));
  OwnedRef exc = OwnedRef::Steal(py.PyObject_Call(w->failure.get(), args.get(), nullptr));
  if (exc) py.PyErr_SetObject(w->failure.get(), exc.get());
}

}  // namespace
}  // namespace esem

using esem::OwnedRef;
using esem::Py;
using esem::PyObject;
using esem::Py_ssize_t;

// The C-API of the running Python ("" or a libpython path). 0 on success.
ESEM_EXPORT int esem_wire_load(const char* libpython) {
  std::string loaded;
  esem::g_error = esem::LoadPyApi({libpython ? libpython : ""}, &loaded);
  return esem::g_error.empty() ? 0 : -1;
}

ESEM_EXPORT const char* esem_wire_error() { return esem::g_error.c_str(); }

// A codec over the worker's registry (registry.py's Registry); `failure` is
// codec.BridgeFailure. nullptr with a Python error set.
ESEM_EXPORT void* esem_wire_context(PyObject* registry, PyObject* failure) {
  auto* w = new esem::WireContext();
  std::string error = w->ctx.Load();
  if (error.empty() && !w->ctx.registry.UsePython(registry)) error = "the registry has no objects dict or next_id";
  if (error.empty() && Py().PyObject_HasAttrString(registry, "callbacks")) {
    // The worker's CallbackTable (python/esem_bridge/worker.py sets it first).
    OwnedRef table = OwnedRef::Steal(Py().PyObject_GetAttrString(registry, "callbacks"));
    if (!table) {
      Py().PyErr_Clear();  // a registry without a table (python/tests): no JS functions
    } else if (table.get() != Py()._Py_NoneStruct && !w->ctx.SetCallbacks(table.get())) {
      error = "the registry's callbacks table has no function()";
    }
  }
  if (!error.empty()) {
    w->ctx.Clear();
    delete w;
    if (!Py().PyErr_Occurred()) Py().PyErr_SetString(Py().PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  w->failure = OwnedRef::Borrow(failure);
  return w;
}

// The values of buf[pos:end] as a list.
ESEM_EXPORT PyObject* esem_wire_read(void* context, PyObject* buf, Py_ssize_t pos, Py_ssize_t end) {
  auto* w = static_cast<esem::WireContext*>(context);
  const esem::PyApi& py = Py();
  esem::PyBuffer view;
  if (py.PyObject_GetBuffer(buf, &view, esem::kPyBufSimple) < 0) return nullptr;
  if (pos < 0 || end < pos || end > view.len) {
    py.PyBuffer_Release(&view);
    esem::Raise(w, "ESEM_INTERNAL", "malformed wire data: a frame outside its buffer");
    return nullptr;
  }
  OwnedRef out = OwnedRef::Steal(py.PyList_New(0));
  std::string code, message;
  bool ok = out && esem::ReadValues(w->ctx, static_cast<const char*>(view.buf) + pos, static_cast<size_t>(end - pos),
                                    out.get(), &code, &message);
  py.PyBuffer_Release(&view);
  if (ok) return out.Release();
  if (!code.empty()) esem::Raise(w, code, message);
  return nullptr;
}

// Appends the wire form of value to out (a bytearray), a Ref whatever it
// is when as_ref; returns None.
ESEM_EXPORT PyObject* esem_wire_write(void* context, PyObject* value, PyObject* out, int as_ref) {
  auto* w = static_cast<esem::WireContext*>(context);
  const esem::PyApi& py = Py();
  std::string bytes;
  bool ok = esem::WriteValue(w->ctx, value, &bytes, as_ref != 0);
  w->ctx.registry.SyncBack();
  if (!ok) return nullptr;
  Py_ssize_t at = py.PyByteArray_Size(out);
  if (at < 0 || py.PyByteArray_Resize(out, at + static_cast<Py_ssize_t>(bytes.size())) < 0) return nullptr;
  if (!bytes.empty()) std::memcpy(py.PyByteArray_AsString(out) + at, bytes.data(), bytes.size());
  return OwnedRef::Borrow(py._Py_NoneStruct).Release();
}
