// Value <-> PyObject. Python thread only (GIL held).
#pragma once

#include "py_context.h"
#include "value.h"

namespace esem {

// A new reference, or an empty ref with *error filled (a Python exception
// is fetched and cleared; a stale proxy gives ESEM_RELEASED).
OwnedRef ToPython(PyContext& ctx, const Value& v, ErrorInfo* error);

// Fills *out. Objects that are not plain data are registered in
// ctx.registry and become kRef. On failure returns false with *error filled
// and registers nothing.
bool ToValue(PyContext& ctx, PyObject* o, Value* out, ErrorInfo* error);

}  // namespace esem
