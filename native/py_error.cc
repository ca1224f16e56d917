// Python exception -> ErrorInfo, formatted by esem_bridge.ops.format_exception
// so both modes print the same traceback. Python thread only.
#include "py_error.h"

namespace esem {
namespace {

std::string Utf8(PyObject* s) {
  Py_ssize_t n = 0;
  const char* data = s ? Py().PyUnicode_AsUTF8AndSize(s, &n) : nullptr;
  if (data) return std::string(data, static_cast<size_t>(n));
  Py().PyErr_Clear();
  if (!s) return "";
  // Text with lone surrogates (an attribute name sent as Str16, say) has no
  // UTF-8 form: they are written as \udXXX escapes, never dropped.
  OwnedRef bytes = OwnedRef::Steal(Py().PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace"));
  char* raw = nullptr;
  if (!bytes || Py().PyBytes_AsStringAndSize(bytes.get(), &raw, &n) < 0) {
    Py().PyErr_Clear();
    return "(a message that cannot be shown)";
  }
  return std::string(raw, static_cast<size_t>(n));
}

// links: a list of (type, message, traceback, exception) tuples; each
// exception is registered for JS (released with the error's proxies).
void ReadLinks(PyContext& ctx, PyObject* links, std::vector<ErrorLink>* out) {
  const PyApi& py = Py();
  if (TypeOf(links) != py.PyList_Type) return;
  Py_ssize_t n = py.PyList_Size(links);
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject* link = py.PyList_GetItem(links, i);
    if (TypeOf(link) != py.PyTuple_Type || py.PyTuple_Size(link) != 4) break;
    ErrorLink l;
    l.type = Utf8(py.PyTuple_GetItem(link, 0));
    l.message = Utf8(py.PyTuple_GetItem(link, 1));
    l.traceback = Utf8(py.PyTuple_GetItem(link, 2));
    l.ref = ctx.registry.Add(OwnedRef::Borrow(py.PyTuple_GetItem(link, 3)));
    out->push_back(std::move(l));
  }
}

}  // namespace

ErrorInfo FetchPythonError(PyContext& ctx) {
  const PyApi& py = Py();
  ErrorInfo info;
  info.python = true;
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  py.PyErr_Fetch(&type, &value, &tb);
  py.PyErr_NormalizeException(&type, &value, &tb);
  OwnedRef t = OwnedRef::Steal(type), v = OwnedRef::Steal(value), trace = OwnedRef::Steal(tb);
  if (!v) {
    info.type_or_code = "SystemError";
    info.message = "an error was signalled with no exception set";
    return info;
  }
  if (trace) py.PyException_SetTraceback(v.get(), trace.get());
  OwnedRef args = OwnedRef::Steal(py.PyTuple_New(1));
  py.PyTuple_SetItem(args.get(), 0, OwnedRef(v).Release());
  OwnedRef parts = ctx.format_exception
                       ? OwnedRef::Steal(py.PyObject_Call(ctx.format_exception.get(), args.get(), nullptr))
                       : OwnedRef();
  if (!parts || py.PyTuple_Size(parts.get()) != 4) {
    py.PyErr_Clear();
    info.type_or_code = "Exception";
    OwnedRef text = OwnedRef::Steal(py.PyObject_Str(v.get()));
    info.message = Utf8(text.get());
    return info;
  }
  info.type_or_code = Utf8(py.PyTuple_GetItem(parts.get(), 0));
  info.message = Utf8(py.PyTuple_GetItem(parts.get(), 1));
  info.traceback = Utf8(py.PyTuple_GetItem(parts.get(), 2));
  ReadLinks(ctx, py.PyTuple_GetItem(parts.get(), 3), &info.links);
  return info;
}

}  // namespace esem
