// The process's one CPython interpreter: loaded and initialized by the first
// bridge thread that needs it, then shared by every bridge of every Node
// environment (main thread and worker_threads). Never finalized: CPython
// cannot be re-initialized safely once C extensions are loaded.
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
  int wire_threshold = 48;             // see WorthWire
};

// A thread's membership in the interpreter.
struct Attachment {
  PyGILState_STATE gil_state = 0;
  std::string library;  // the libpython in use
};

// Loads and initializes the interpreter when needed, then attaches the
// calling thread. Returns "" with the GIL held by this thread, else the
// reason (no GIL held).
std::string AttachInterpreter(const PythonConfig& config, Attachment* out);

// GIL held on entry; drops it and forgets this thread's state.
void DetachInterpreter(const Attachment& attachment);

}  // namespace esem
