// BufferExport: Python memory lent to JS (a result's bytes, bytearray,
// memoryview or ndarray, beside the wire bytes) without a copy. The Py_buffer
// keeps the Python object and its memory alive until JS lets go of the
// ArrayBuffer made over it. Releasing needs the GIL, so an export is never
// freed in place: its deleter hands it to the Python host, which releases it
// on its own thread (python_host.cc). At process exit it is never released.
#pragma once

#include <memory>

#include "py_api.h"

namespace esem {

struct BufferExport {
  PyBuffer view{};
  bool writable = false;  // Python allows writes (bytearray, a writable ndarray)
};

// Any thread: queue `e` for release on the Python host.
void DiscardExport(BufferExport* e);

struct DiscardOnHost {
  void operator()(BufferExport* e) const { DiscardExport(e); }
};
using ExportPtr = std::unique_ptr<BufferExport, DiscardOnHost>;

}  // namespace esem
