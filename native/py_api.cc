// Loads libpython at run time and resolves the PyApi table. Any thread; the
// process-wide state is guarded by a mutex and written once.
#include "py_api.h"

#include <cstdlib>
#include <mutex>

#include "windows_lean.h"
#ifndef _WIN32
#include <dlfcn.h>
#endif

namespace esem {
namespace {

PyApi g_api;
std::mutex g_mutex;
bool g_loaded = false;
std::string g_loaded_path;

#ifdef _WIN32
using LibHandle = HMODULE;
LibHandle OpenLibrary(const std::string& path, std::string* error) {
  LibHandle h = LoadLibraryA(path.c_str());
  if (!h) *error = "LoadLibrary failed with code " + std::to_string(GetLastError());
  return h;
}
void* FindSymbol(LibHandle h, const char* name) {
  return reinterpret_cast<void*>(GetProcAddress(h, name));
}
void CloseLibrary(LibHandle h) { FreeLibrary(h); }
#else
using LibHandle = void*;
LibHandle OpenLibrary(const std::string& path, std::string* error) {
  // RTLD_GLOBAL: extension modules are not linked against libpython and
  // expect its symbols in the global namespace. "": the running program
  // (a Python process using the codec library, native/wire_module.cc).
  LibHandle h = dlopen(path.empty() ? nullptr : path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!h) {
    const char* e = dlerror();
    *error = e ? e : "dlopen failed";
  }
  return h;
}
void* FindSymbol(LibHandle h, const char* name) { return dlsym(h, name); }
void CloseLibrary(LibHandle h) { dlclose(h); }
#endif

// Fills `api` from `h`; returns the first missing symbol or "".
std::string Resolve(LibHandle h, PyApi* api) {
#define ESEM_RESOLVE_FN(ret, name, params)                                  \
  api->name = reinterpret_cast<ret(*) params>(FindSymbol(h, #name));        \
  if (!api->name) return #name;
  ESEM_PY_FUNCTIONS(ESEM_RESOLVE_FN)
#undef ESEM_RESOLVE_FN
#define ESEM_RESOLVE_OBJ(name)                                               \
  api->name = reinterpret_cast<PyObject*>(FindSymbol(h, #name));            \
  if (!api->name) return #name;
  ESEM_PY_OBJECTS(ESEM_RESOLVE_OBJ)
#undef ESEM_RESOLVE_OBJ
#define ESEM_RESOLVE_PTR(name)                                               \
  {                                                                          \
    auto slot = reinterpret_cast<PyObject**>(FindSymbol(h, #name));         \
    if (!slot) return #name;                                                 \
    api->name = *slot;                                                       \
  }
  ESEM_PY_OBJECT_POINTERS(ESEM_RESOLVE_PTR)
#undef ESEM_RESOLVE_PTR
#define ESEM_RESOLVE_OPTIONAL(ret, name, params) \
  api->name = reinterpret_cast<ret(*) params>(FindSymbol(h, #name));
  ESEM_PY_OPTIONAL_FUNCTIONS(ESEM_RESOLVE_OPTIONAL)
#undef ESEM_RESOLVE_OPTIONAL
  return "";
}

// Why the library cannot serve the addon, or "". Reads only what needs no
// initialized interpreter: Py_GetVersion() ("3.14.0 (main, ...)") and
// which symbols exist. `h` is the library itself.
std::string AbiProblem(LibHandle h, PyApi* api) {
  const char* version = api->Py_GetVersion();
  char* end = nullptr;
  api->major = static_cast<int>(std::strtol(version, &end, 10));
  api->minor = (end && *end == '.') ? static_cast<int>(std::strtol(end + 1, nullptr, 10)) : 0;
  if (api->major != 3 || api->minor < 8) {
    return std::string("it is Python ") + std::to_string(api->major) + "." + std::to_string(api->minor) +
           ", which is not supported (esem-bridge needs CPython 3.8 or newer)";
  }
  // Only a Py_GIL_DISABLED build defines these (Objects/object.c, 3.13+):
  // its object header is 32 bytes with ob_type at offset 24, not the
  // 16-byte header every ob_type read and every type of the addon assume.
  if (FindSymbol(h, "_Py_MergeZeroLocalRefcount") || FindSymbol(h, "_Py_DecRefShared")) {
    return "it is a free-threaded build (Py_GIL_DISABLED), whose object header the native mode does not support";
  }
  if (!api->Py_SetProgramName && !api->HasInitConfig()) {
    return "it has neither Py_SetProgramName nor the PEP 741 PyInitConfig functions to start Python with";
  }
  return "";
}

}  // namespace

const PyApi& Py() { return g_api; }

std::string LoadPyApi(const std::vector<std::string>& candidates, std::string* loaded_path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_loaded) {
    for (const auto& c : candidates) {
      if (c == g_loaded_path) {
        *loaded_path = g_loaded_path;
        return "";
      }
    }
    return "this process already runs the Python of " + g_loaded_path +
           " (one interpreter per process); use that interpreter";
  }
  if (candidates.empty()) return "no libpython candidate was given";
  std::string report;
  for (const auto& path : candidates) {
    std::string error;
    LibHandle h = OpenLibrary(path, &error);
    if (!h) {
      report += "\n  " + path + ": " + error;
      continue;
    }
    PyApi api;
    std::string missing = Resolve(h, &api);
    if (!missing.empty()) {
      report += "\n  " + path + ": missing symbol " + missing + " (not a CPython 3.8-3.15 library?)";
      CloseLibrary(h);
      continue;
    }
    std::string problem = AbiProblem(h, &api);
    if (!problem.empty()) {
      report += "\n  " + path + ": " + problem;
      CloseLibrary(h);
      continue;
    }
    g_api = api;
    g_loaded = true;
    g_loaded_path = path;
    *loaded_path = path;
    return "";
  }
  return "could not load libpython:" + report;
}

}  // namespace esem
