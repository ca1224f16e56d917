// The wire format (docs/protocol.md) straight to and from PyObjects: the
// native mode's one value path. Arguments arrive as bytes written by
// src/codec.ts and become Python objects here; results become bytes here
// and are decoded by src/codec.ts. The Python mirror is
// python/esem_bridge/codec.py; test/golden/values.json holds them equal.
// Python thread only (GIL held).
#pragma once

#include <string>
#include <vector>

#include "job.h"
#include "py_context.h"

namespace esem {

// The depth both directions accept (docs/types.md); deeper input rejects.
constexpr int kMaxWireDepth = 256;

// job.wire -> (args tuple, kwargs dict or empty). False with *error set
// (malformed bytes: ESEM_INTERNAL; a Python failure while building).
bool ReadArguments(PyContext& ctx, const Job& job, OwnedRef* args, OwnedRef* kwargs, ErrorInfo* error);

// job.wire holding one value (kSetAttr) -> that value.
OwnedRef ReadValue(PyContext& ctx, const Job& job, ErrorInfo* error);

// The subprocess worker's reader (native/wire_module.cc): appends every
// value in [data, data + size) to the list `out`. False on failure: with
// *code and *message for malformed bytes (ESEM_INTERNAL) or a released
// proxy (ESEM_RELEASED), else with the Python error set.
bool ReadValues(PyContext& ctx, const char* data, size_t size, PyObject* out, std::string* code, std::string* message);

// The subprocess worker's writer: appends the wire form of o to *out, every
// payload inline. False with the Python error set; nothing stays registered.
bool WriteValue(PyContext& ctx, PyObject* o, std::string* out, bool as_ref = false);

// A result -> job.result (a scalar or one object) or job.result_wire with
// job.exports; with job.keep_result, a proxy whatever it is (but None). Objects that are not plain data are registered; on failure
// nothing stays registered and *error is set.
bool WriteResult(PyContext& ctx, PyObject* o, Job* job, ErrorInfo* error);

// A value Python sends to JS outside a result (a callback's arguments) ->
// job.result_wire with job.exports. False with the Python error set;
// nothing stays registered.
bool WriteForJs(PyContext& ctx, PyObject* o, Job* job);

}  // namespace esem
