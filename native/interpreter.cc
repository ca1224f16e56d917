// Interpreter start-up, once per process. Any thread; guarded by a mutex.
#include "interpreter.h"

#include <mutex>

#include "py_ref.h"

namespace esem {
namespace {

std::mutex g_init_mutex;
bool g_initialized = false;
std::string g_library;

// Makes sys.path the chosen interpreter's own path (so its venv and
// site-packages are used), plus the bridge's runtime folder at the end.
// GIL held.
std::string SetSysPath(const PythonConfig& config) {
  const PyApi& py = Py();
  OwnedRef list = OwnedRef::Steal(py.PyList_New(0));
  if (!list) return "cannot allocate sys.path";
  auto append = [&](const std::string& entry) {
    OwnedRef s = OwnedRef::Steal(py.PyUnicode_FromStringAndSize(entry.data(), static_cast<Py_ssize_t>(entry.size())));
    return s && py.PyList_Append(list.get(), s.get()) == 0;
  };
  for (const auto& entry : config.sys_path) {
    if (!append(entry)) return "cannot build sys.path";
  }
  if (!append(config.runtime_dir)) return "cannot build sys.path";
  if (py.PySys_SetObject("path", list.get()) < 0) return "cannot set sys.path";
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
      error = SetSysPath(config);
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
