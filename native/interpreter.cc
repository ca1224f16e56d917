// Interpreter start-up, once per process. Any thread; guarded by a mutex.
#include "interpreter.h"

#include <algorithm>
#include <mutex>

#include "py_ref.h"

namespace esem {
namespace {

std::mutex g_init_mutex;
bool g_initialized = false;
std::string g_library;

// Completes sys.path, which Python computed from the program name (so a
// venv's site-packages is already there), with the entries the interpreter
// reported that are missing (PYTHONPATH quirks, an out-of-date probe cache
// cannot remove entries), then the bridge's runtime folder. GIL held.
std::string ExtendSysPath(const PythonConfig& config) {
  const PyApi& py = Py();
  PyObject* path = py.PySys_GetObject("path");  // borrowed
  if (!path) return "sys.path is missing";
  auto contains = [&](PyObject* s) {
    Py_ssize_t n = py.PyList_Size(path);
    for (Py_ssize_t i = 0; i < n; i++) {
      PyObject* item = py.PyList_GetItem(path, i);
      Py_ssize_t a = 0, b = 0;
      const char* x = py.PyUnicode_AsUTF8AndSize(item, &a);
      const char* y = py.PyUnicode_AsUTF8AndSize(s, &b);
      if (!x || !y) {
        py.PyErr_Clear();
        continue;
      }
      if (a == b && std::equal(x, x + a, y)) return true;
    }
    return false;
  };
  std::vector<std::string> entries = config.sys_path;
  entries.push_back(config.runtime_dir);
  for (const auto& entry : entries) {
    OwnedRef s = OwnedRef::Steal(py.PyUnicode_FromStringAndSize(entry.data(), static_cast<Py_ssize_t>(entry.size())));
    if (!s) return "cannot build sys.path";
    if (!contains(s.get()) && py.PyList_Append(path, s.get()) < 0) return "cannot extend sys.path";
  }
  return "";
}

}  // namespace

std::string AttachInterpreter(const PythonConfig& config, Attachment* out) {
  std::lock_guard<std::mutex> lock(g_init_mutex);
  std::string library;
  std::string error = LoadPyApi(config.libraries, &library);
  if (!error.empty()) return error;
  const PyApi& py = Py();
  if (!g_initialized) {
    if (!py.Py_IsInitialized()) {
      // Python keeps this pointer for its lifetime: never freed.
      wchar_t* program = py.Py_DecodeLocale(config.program.c_str(), nullptr);
      if (program) py.Py_SetProgramName(program);
      py.Py_InitializeEx(0);  // 0: Python installs no signal handlers; Ctrl-C stays Node's
      error = ExtendSysPath(config);
      if (!error.empty()) {
        py.PyErr_Clear();
        py.PyEval_SaveThread();
        return error;
      }
      // Release the GIL that initialization left with this thread; every
      // thread, this one included, attaches through PyGILState below.
      py.PyEval_SaveThread();
    }
    g_initialized = true;
    g_library = library;
  }
  out->library = g_library;
  out->gil_state = py.PyGILState_Ensure();
  return "";
}

void DetachInterpreter(const Attachment& attachment) { Py().PyGILState_Release(attachment.gil_state); }

}  // namespace esem
