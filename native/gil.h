// The GIL guard of the host thread: GilScope re-attaches its saved thread
// state for a scope. Construct and destroy on the same thread.
#pragma once

#include "py_api.h"
#include "py_ref.h"

namespace esem {

class GilScope {
 public:
  explicit GilScope(PyThreadState* ts) : ts_(ts) { Py().PyEval_RestoreThread(ts_); }
  ~GilScope() {
    ESEM_ASSERT_GIL("GilScope end");
    Py().PyEval_SaveThread();
  }
  GilScope(const GilScope&) = delete;
  GilScope& operator=(const GilScope&) = delete;

 private:
  PyThreadState* ts_;
};

}  // namespace esem
