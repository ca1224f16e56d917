// JSON text: the second form plain values take between JS and Python in
// native mode, for a process's first large messages (the cold lane,
// src/json-lane.ts says when). Before V8 has compiled src/codec.ts, its
// loops run interpreted, while JSON.parse and JSON.stringify are C++ from
// the first call: a young process moves records several times faster as
// JSON. Only values both forms carry the same way go as JSON, so a value
// arrives identical whichever form it took. Python thread only (GIL held).
#pragma once

#include <string>

#include "job.h"
#include "py_context.h"

namespace esem {

// Containers nest at most this deep in JSON text; deeper values take the wire format.
constexpr int kMaxJsonDepth = 64;

// Appends o to *out as JSON text when o is plain data the wire format would
// give JS as the same value: a dict (exactly) with str keys (exactly), a
// list or tuple (exactly), a str with a UTF-8 form, an int within
// ±(2^53 - 1), a finite float, a bool, None; at most kMaxJsonDepth deep;
// in at most `limit` bytes (more and the wire format is the smaller). Else false, with *out holding a part (the caller discards it) and no
// Python error set. Runs no Python code. *ascii: whether the text is ASCII.
bool WriteJson(PyObject* o, size_t limit, std::string* out, bool* ascii);

// A result as JSON text into the empty *out: WriteJson of a list, tuple or dict (the kinds the
// lane carries; a scalar result is smaller in the wire format). False with
// *out cleared when it has no JSON form; *overflow then says whether that
// was for the size (every later result that large would be given up too:
// the lane closes, src/json-lane.ts). Out of memory is false, not thrown.
bool WriteJsonContainer(PyObject* o, size_t limit, std::string* out, bool* ascii, bool* overflow);

// job.wire holding JSON text of [args, kwargs or null] (src/json-lane.ts)
// -> the two values, which ReadArguments (py_wire.h) checks and turns into
// a call's arguments as it does the wire format's. Numbers follow SPEC §9
// as the wire format does: an integral number is an int, exact; others
// floats. False with *error set (malformed text: ESEM_INTERNAL).
bool ReadJsonArguments(PyContext& ctx, const Job& job, OwnedRef* list, OwnedRef* kw, ErrorInfo* error);

// JSON text of one value (a kJson payload in the wire format) -> the value,
// by the same rules. Empty with *bad set (malformed text) or a Python error.
OwnedRef ReadJsonValue(const char* data, size_t size, std::string* bad);

}  // namespace esem
