// The wire format (see src/codec.ts): Value <-> bytes. Any thread; pure
// data, no napi and no Python.
#pragma once

#include <string>

#include "value.h"

namespace esem {

// Parses the values packed one after another in `bytes` into out->items
// (out becomes a kList). False with *error on malformed input.
bool ParseWire(const std::string& bytes, Value* out, std::string* error);

// Appends v's wire form to *out.
void WriteWire(const Value& v, std::string* out);

// Whether a result is large enough that the wire form beats Node-API calls:
// containers of more than `threshold` nodes; 0: every value; < 0: never.
// False when a length in v does not fit the wire format (4 GiB and more).
bool WorthWire(const Value& v, int threshold);

}  // namespace esem
