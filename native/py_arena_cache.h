// A cache in front of Python's object-arena allocator. pymalloc hands an
// arena back to the system as soon as its last object dies, so a program
// that builds and drops the same few megabytes of objects over and over
// (every call with 10 000 records: the arguments made, used, dropped) maps
// fresh memory each time and pays a page fault per 4 KiB page touched, on
// this project's machines ~40 % of such a call. The cache keeps up to a
// budget of freed arenas and gives them back out before asking the system
// for more. Installed once per process (PyObject_SetArenaAllocator, a
// C-API of every 3.x since 3.4), wrapping the allocator that was there, so
// arenas made before it are freed the way they were made.
#pragma once

#include <cstddef>

namespace esem {

// The budget when ESEM_ARENA_CACHE_MB is not set.
constexpr size_t kArenaCacheDefaultMb = 16;

// The budget in bytes from ESEM_ARENA_CACHE_MB (0 turns the cache off).
size_t ArenaCacheBudget();

// Installs the cache with `budget` bytes, once per process; later calls
// (and a budget of 0, or a libpython without the allocator API) do
// nothing. Returns whether the cache is installed. GIL held.
bool InstallArenaCache(size_t budget);

// Bytes of freed arenas the cache holds now (for tests and the doctor).
size_t ArenaCacheHeld();

}  // namespace esem
