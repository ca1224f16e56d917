// Runs one job against the interpreter. Python thread only (GIL held).
#pragma once

#include <memory>

#include "job.h"
#include "py_context.h"

namespace esem {

// `slot` is empty afterwards when the job was parked (its call returned a
// coroutine: it is delivered from the asyncio loop later).
// `after`, when given, takes the job's arguments and result instead of
// dropping them: freeing a large structure can take milliseconds, which the
// caller spends after the result is delivered.
void Execute(PyContext& ctx, std::unique_ptr<Job>& slot, std::vector<OwnedRef>* after = nullptr);

// A sync call's result was a coroutine: closes it (never awaited, so
// Python does not warn) and fails the job. GIL held.
void RefuseCoroutine(PyObject* coro, Job& job);

// A scalar argument as a Python object; empty with a Python error set.
OwnedRef ScalarToPy(const Scalar& v);

}  // namespace esem
