// Large wire buffers kept for the next message. A call with 10 000 records
// moves ~0.6 MB of wire bytes each way; a fresh buffer for each is memory
// the system maps anew, a page fault per 4 KiB touched and, for a result
// written without knowing its size, the copies of every doubling. Buffers
// of kKeptFrom bytes or more go back here when their job is done (Job's
// Trim) and the next large message takes one. A few are kept, the largest
// ones, up to a budget, so an idle bridge holds at most that much. Any
// thread (a mutex; a lock per large message only).
#pragma once

#include <cstddef>
#include <string>

namespace esem {

// Buffers smaller than this are freed as before: small messages gain nothing.
constexpr size_t kKeptFrom = size_t{1} << 16;

// An empty string with the capacity of a kept buffer of at least
// `at_least` bytes (the largest kept when 0), or a new empty string when
// none is kept.
std::string TakeWireBuffer(size_t at_least = 0);

// Keeps s's memory for a later Take when it is large and there is room,
// else frees it; s is left empty either way.
void KeepWireBuffer(std::string* s);

// Bytes of capacity kept now (tests).
size_t WireBuffersKept();

}  // namespace esem
