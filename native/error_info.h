// ErrorInfo: a failure, as data, made where it happened (any thread) and
// turned into a JS error on the JS thread.
#pragma once

#include <string>

namespace esem {

struct ErrorInfo {
  bool python = false;       // PythonError when true, else BridgeError
  std::string type_or_code;  // Python type name, or ESEM_* code
  std::string message;
  std::string traceback;
};

inline ErrorInfo BridgeFailure(std::string code, std::string message) {
  ErrorInfo e;
  e.python = false;
  e.type_or_code = std::move(code);
  e.message = std::move(message);
  return e;
}

}  // namespace esem
