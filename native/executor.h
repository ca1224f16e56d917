// Runs one job against the interpreter. Python thread only (GIL held).
#pragma once

#include "job.h"
#include "py_context.h"

namespace esem {

void Execute(PyContext& ctx, Job& job);

}  // namespace esem
