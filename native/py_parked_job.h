// A job whose call returned a coroutine: parked on the bridge's asyncio
// loop (python/esem_bridge/aio.py) and finished from there when the
// coroutine is done, so the host goes on with other jobs meanwhile. GIL held.
#pragma once

#include <memory>

#include "job.h"
#include "py_ref.h"

namespace esem {

// Submits `coro` to the loop; the job is delivered when it finishes (its
// result or exception; ESEM_SHUTDOWN if the loop drops it). On failure
// (Python error set) the job is handed back in *job.
bool ParkOnLoop(PyObject* submit, OwnedRef coro, std::unique_ptr<Job>* job);

}  // namespace esem
