// GIL guards. GilScope re-attaches a thread's saved thread state for a scope
// (the Python thread's hot path); GilEnsure is for threads Python does not
// know yet. Construct and destroy on the same thread.
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

// Temporarily drops the GIL held by the current thread.
class GilRelease {
 public:
  GilRelease() : ts_(Py().PyEval_SaveThread()) {}
  ~GilRelease() { Py().PyEval_RestoreThread(ts_); }
  GilRelease(const GilRelease&) = delete;
  GilRelease& operator=(const GilRelease&) = delete;

 private:
  PyThreadState* ts_;
};

}  // namespace esem
