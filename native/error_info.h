// ErrorInfo: a failure, as data, made where it happened (any thread) and
// turned into a JS error on the JS thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace esem {

// One exception of a Python chain (esem_bridge.ops.format_exception): its
// object is registered under `ref` for the JS error's pythonException.
struct ErrorLink {
  std::string type;
  std::string message;
  std::string traceback;
  uint64_t ref = 0;
};

struct ErrorInfo {
  bool python = false;       // PythonError when true, else BridgeError
  std::string type_or_code;  // Python type name, or ESEM_* code
  std::string message;
  std::string traceback;
  std::vector<ErrorLink> links;  // Python errors: the exception, then its causes
};

inline ErrorInfo BridgeFailure(std::string code, std::string message) {
  ErrorInfo e;
  e.python = false;
  e.type_or_code = std::move(code);
  e.message = std::move(message);
  return e;
}

// A job whose bridge is closing before the job has run (or read its arguments).
inline ErrorInfo ShutDownBeforeRun() {
  return BridgeFailure("ESEM_SHUTDOWN", "the bridge was shut down before this call ran");
}

}  // namespace esem
