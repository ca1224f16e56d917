// Turns the Python exception in flight into an ErrorInfo and clears it.
// Python thread only.
#pragma once

#include "py_context.h"
#include "error_info.h"

namespace esem {

// Requires an exception to be set (PyErr_Occurred); clears it.
ErrorInfo FetchPythonError(PyContext& ctx);

}  // namespace esem
