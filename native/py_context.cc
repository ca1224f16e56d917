// PyContext set-up and teardown. Python thread only (GIL held).
#include "py_context.h"

namespace esem {
namespace {

OwnedRef Attr(PyObject* o, const char* name) {
  return OwnedRef::Steal(Py().PyObject_GetAttrString(o, name));
}

}  // namespace

std::string PyContext::Load() {
  const PyApi& py = Py();
  ops = OwnedRef::Steal(py.PyImport_ImportModule("esem_bridge.ops"));
  if (!ops) return "cannot import esem_bridge.ops";
  import_module = Attr(ops.get(), "import_module");
  describe = Attr(ops.get(), "describe");
  format_exception = Attr(ops.get(), "format_exception");
  datetime_from_ms = Attr(ops.get(), "datetime_from_ms");
  typed_view = Attr(ops.get(), "typed_view");
  plain_form = Attr(ops.get(), "plain_form");
  fresh_globals_for = Attr(ops.get(), "fresh_globals_for");
  OwnedRef callback = OwnedRef::Steal(py.PyImport_ImportModule("esem_bridge.callback"));
  if (!callback) return "cannot import esem_bridge.callback";
  js_function_type = Attr(callback.get(), "JsFunction");
  OwnedRef aio = OwnedRef::Steal(py.PyImport_ImportModule("esem_bridge.aio"));
  if (!aio) return "cannot import esem_bridge.aio";
  aio_submit = Attr(aio.get(), "submit");
  OwnedRef types = OwnedRef::Steal(py.PyImport_ImportModule("types"));
  if (!types) return "cannot import types";
  coroutine_type = Attr(types.get(), "CoroutineType");
  OwnedRef gc = OwnedRef::Steal(py.PyImport_ImportModule("gc"));
  if (!gc) return "cannot import gc";
  gc_enable = Attr(gc.get(), "enable");
  gc_disable = Attr(gc.get(), "disable");
  gc_isenabled = Attr(gc.get(), "isenabled");
  modules = OwnedRef::Borrow(py.PySys_GetObject("modules"));
  builtins = OwnedRef::Steal(py.PyImport_ImportModule("builtins"));
  if (!builtins) return "cannot import builtins";
  builtin_eval = Attr(builtins.get(), "eval");
  builtin_exec = Attr(builtins.get(), "exec");
  if (!import_module || !describe || !format_exception ||
      !datetime_from_ms || !typed_view || !plain_form || !gc_enable || !gc_disable || !gc_isenabled || !coroutine_type || !modules ||
      !builtin_eval || !builtin_exec || !fresh_globals_for || !js_function_type || !aio_submit) {
    return "esem_bridge.ops is incomplete";
  }
  return "";
}

PyObject* PyContext::Name(const std::string& name) {
  auto found = names.find(name);
  if (found != names.end()) return found->second.get();
  if (name.find('\0') != std::string::npos) {
    Py().PyErr_SetString(Py().PyExc_ValueError, "an attribute name cannot contain NUL");
    return nullptr;
  }
  if (names.size() >= 4096) names.clear();  // a program that makes up names forever
  OwnedRef s = OwnedRef::Steal(Py().PyUnicode_InternFromString(name.c_str()));
  if (!s) return nullptr;
  PyObject* out = s.get();
  names.emplace(name, std::move(s));
  return out;
}

bool PyContext::SetCallbacks(PyObject* table) {
  OwnedRef fn = Attr(table, "function");
  if (!fn) return false;
  callbacks = OwnedRef::Borrow(table);
  callback_function = std::move(fn);
  return true;
}

void PyContext::Clear() {
  if (callbacks) {
    // JsFunctions Python still holds raise CallbackGone from now on.
    OwnedRef close = Attr(callbacks.get(), "close");
    OwnedRef none = OwnedRef::Steal(Py().PyTuple_New(0));
    OwnedRef done = close && none ? OwnedRef::Steal(Py().PyObject_Call(close.get(), none.get(), nullptr)) : OwnedRef();
    if (!done) Py().PyErr_Clear();
  }
  registry.Clear();
  sync_targets.clear();
  names.clear();
  type_index.clear();
  described_types.clear();
  type_committed.clear();
  proxy_types.clear();
  for (OwnedRef* r : {&ops, &import_module, &describe, &format_exception,
                      &datetime_from_ms, &typed_view, &coroutine_type, &plain_form, &gc_enable, &gc_disable, &gc_isenabled, &modules, &builtins, &builtin_eval, &builtin_exec, &fresh_globals_for,
                      &js_function_type, &aio_submit, &callbacks, &callback_function}) {
    r->Reset();
  }
}

}  // namespace esem
