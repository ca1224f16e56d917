// Interpreter start-up, once per process. Python host thread only.
#include "interpreter.h"

#include <algorithm>
#include <cstdint>

#include "py_arena_cache.h"
#include "py_large_blocks.h"
#include "py_ref.h"

namespace esem {
namespace {

bool g_initialized = false;
std::string g_library;
std::string g_prefix;
std::string g_program;

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

// Calls a function of the esem_bridge package during start-up with the
// tuple `args`; what it sets up is an extra, so a failure is cleared and
// only loses that. GIL held.
void CallAtStart(const char* module, const char* function, const OwnedRef& args) {
  const PyApi& py = Py();
  OwnedRef mod = OwnedRef::Steal(py.PyImport_ImportModule(module));
  OwnedRef fn = mod ? OwnedRef::Steal(py.PyObject_GetAttrString(mod.get(), function)) : OwnedRef();
  OwnedRef done = fn && args ? OwnedRef::Steal(py.PyObject_Call(fn.get(), args.get(), nullptr)) : OwnedRef();
  if (!done) py.PyErr_Clear();
}

// Keeps the package's bytecode in the folder the Node side checked
// (python/esem_bridge/bytecode_cache.py); without it, Python's own rules
// apply and only start-up time is lost. GIL held.
void InstallBytecodeCache(const std::string& folder) {
  if (folder.empty()) return;
  const PyApi& py = Py();
  OwnedRef path = OwnedRef::Steal(py.PyUnicode_FromStringAndSize(folder.data(), static_cast<Py_ssize_t>(folder.size())));
  OwnedRef args = path ? OwnedRef::Steal(py.PyTuple_New(1)) : OwnedRef();
  if (!args || py.PyTuple_SetItem(args.get(), 0, path.Release()) < 0) {
    py.PyErr_Clear();
    return;
  }
  // The package's __init__ and this module come from the folder through
  // sys.pycache_prefix while they are imported (bytecode_cache._keep_boot_code).
  OwnedRef saved = OwnedRef::Borrow(py.PySys_GetObject("pycache_prefix"));
  if (py.PySys_SetObject("pycache_prefix", py.PyTuple_GetItem(args.get(), 0)) < 0) py.PyErr_Clear();
  OwnedRef module = OwnedRef::Steal(py.PyImport_ImportModule("esem_bridge.bytecode_cache"));
  if (!module) py.PyErr_Clear();
  if (py.PySys_SetObject("pycache_prefix", saved ? saved.get() : py._Py_NoneStruct) < 0) py.PyErr_Clear();
  CallAtStart("esem_bridge.bytecode_cache", "install", args);
}

// Unbuffered stdout/stderr (esem_bridge.ops.configure_embedded). GIL held.
void ConfigureStreams() {
  CallAtStart("esem_bridge.ops", "configure_embedded", OwnedRef::Steal(Py().PyTuple_New(0)));
}

// Python 3.14+ (PEP 741). PyInitConfig_Create starts from the isolated
// configuration, so the options that differ from what the legacy
// Py_InitializeEx gives (Python's "compat" configuration) are set back:
// environment variables (PYTHONPATH, PYTHONHOME...), the user site folder
// and LC_CTYPE from the environment, as in 3.8-3.13. Signal handlers stay
// off: Ctrl-C stays Node's. "" on success, else Python's message.
std::string InitializeFromInitConfig(const std::string& program) {
  const PyApi& py = Py();
  PyInitConfig* config = py.PyInitConfig_Create();
  if (!config) return "PyInitConfig_Create failed (out of memory)";
  const struct {
    const char* name;
    int64_t value;
  } ints[] = {
      {"isolated", 0},           {"use_environment", 1},         {"user_site_directory", 1},
      {"configure_locale", 1},   {"install_signal_handlers", 0}, {"parse_argv", 0},
  };
  bool ok = py.PyInitConfig_SetStr(config, "program_name", program.c_str()) == 0;
  for (const auto& option : ints) ok = ok && py.PyInitConfig_SetInt(config, option.name, option.value) == 0;
  ok = ok && py.Py_InitializeFromInitConfig(config) == 0;
  std::string error;
  if (!ok) {
    const char* message = nullptr;
    error = py.PyInitConfig_GetError(config, &message) == 1 && message ? message : "Py_InitializeFromInitConfig failed";
  }
  py.PyInitConfig_Free(config);
  return error;
}

// Python 3.8-3.13 (and any later one that still has Py_SetProgramName
// but not PEP 741's functions).
void InitializeLegacy(const std::string& program) {
  const PyApi& py = Py();
  // Python keeps this pointer for its lifetime: never freed.
  wchar_t* name = py.Py_DecodeLocale(program.c_str(), nullptr);
  if (name) py.Py_SetProgramName(name);
  py.Py_InitializeEx(0);  // 0: Python installs no signal handlers; Ctrl-C stays Node's
}

}  // namespace

std::string StartInterpreter(const PythonConfig& config, PyThreadState** tstate, std::string* library) {
  if (g_initialized) {
    if (config.prefix != g_prefix) {
      return "this process already runs the Python of " + g_program + " (sys.prefix " + g_prefix +
             "), one interpreter per process; " + config.program + " (sys.prefix " + config.prefix +
             ") is another environment: use the same interpreter";
    }
    *library = g_library;
    return "";
  }
  std::string loaded;
  std::string error = LoadPyApi(config.libraries, &loaded);
  if (!error.empty()) return error;
  const PyApi& py = Py();
  if (py.Py_IsInitialized()) {
    // Another embedder in this process started it: join as a thread of its own.
    py.PyGILState_Ensure();
  } else {
    if (py.HasInitConfig()) {
      error = InitializeFromInitConfig(config.program);
      if (!error.empty()) return "Python " + std::to_string(py.major) + "." + std::to_string(py.minor) + " did not start: " + error;
    } else {
      InitializeLegacy(config.program);
    }
    error = ExtendSysPath(config);
    if (!error.empty()) {
      py.PyErr_Clear();
      py.PyEval_SaveThread();
      return error;
    }
    InstallBytecodeCache(config.bytecode_cache);
    ConfigureStreams();
    InstallArenaCache(ArenaCacheBudget());
    InstallLargeBlocks(BlockCacheBudget());
  }
  *tstate = py.PyEval_SaveThread();
  g_initialized = true;
  g_library = loaded;
  g_prefix = config.prefix;
  g_program = config.program;
  *library = loaded;
  return "";
}

}  // namespace esem
