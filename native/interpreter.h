// The process's one CPython interpreter: loaded and initialized on the
// Python host's thread (python_host.h) for the first bridge that starts, then
// shared by every bridge of every Node environment (main thread and
// worker_threads). Never finalized: CPython cannot be re-initialized safely
// once C extensions are loaded. Host thread only.
#pragma once

#include <string>
#include <vector>

#include "py_api.h"

namespace esem {

// What the chosen interpreter told us about itself (src/python-probe.ts).
struct PythonConfig {
  std::vector<std::string> libraries;  // libpython candidates, best first
  std::string program;                 // sys.executable: prefix and venv come from it
  std::string prefix;                  // sys.prefix: which environment (a venv shares its base's libpython)
  std::vector<std::string> sys_path;   // the interpreter's own sys.path
  std::string runtime_dir;             // folder holding the esem_bridge package
  std::string bytecode_cache;          // a private folder for its bytecode, or "" (Python's own rules)
};

// Loads and initializes the interpreter on the calling thread (which becomes
// Python's main thread), or checks that `config` names the interpreter
// already running. On success returns "" and sets *tstate to the calling
// thread's state, GIL released, and *library to the libpython in use.
std::string StartInterpreter(const PythonConfig& config, PyThreadState** tstate, std::string* library);

}  // namespace esem
