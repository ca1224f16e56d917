// A cache of Python's large blocks. Every object of more than 512 bytes (a
// 16 MiB bytes argument, the item array of a list of a million records)
// comes from PyMem_RawMalloc, that is malloc, and malloc gives a block of a
// megabyte or more back to the system when it is freed: the next one is
// fresh memory again, a page fault per 4 KiB page written, ~2 us each on
// this project's machines. A 16 MiB Buffer copied into Python took ~9 ms
// that way, against ~1 ms into memory already touched; which of the two a
// call got depended on when malloc last trimmed its heap.
//
// Here a malloc (or realloc) of kLargeBlockMin bytes or more is a mapping
// of its own, and a freed one is kept, up to a budget, for the next block
// of about its size (no more than a quarter larger). A new mapping's pages
// are faulted in by one call (MADV_POPULATE_WRITE, Linux 5.14+; older
// kernels fault them one by one as before). A kept block that
// nobody took for a second goes back to the system (TrimLargeBlocks: the
// native mode's timer calls it every second, the subprocess worker once it
// has waited a second for a frame; every free calls it too).
// calloc and smaller blocks go to the allocator that was there: zeroed
// memory stays lazily mapped, as a sparse bytearray(n) expects.
//
// Installed once per process, with PyMem_SetAllocator on the raw domain,
// wrapping the allocator there, as the C-API asks after initialization.
// Linux only; elsewhere Python's allocator is left as it is.
#pragma once

#include <cstddef>

namespace esem {

// Blocks from this size up are mapped and kept here.
constexpr size_t kLargeBlockMin = size_t{1} << 20;

// The budget when ESEM_BLOCK_CACHE_MB is not set.
constexpr size_t kBlockCacheDefaultMb = 64;

// The budget in bytes from ESEM_BLOCK_CACHE_MB (0 turns the cache off).
size_t BlockCacheBudget();

// Installs the cache with `budget` bytes, once per process; later calls
// (and a budget of 0, or a libpython without the allocator API) do
// nothing. Returns whether it is installed. GIL held, before any thread
// but this one runs Python.
bool InstallLargeBlocks(size_t budget);

// Gives back the kept blocks nobody took for a second. Any thread.
void TrimLargeBlocks();

// Bytes of freed blocks kept now, and of blocks in use (for tests).
size_t LargeBlocksHeld();
size_t LargeBlocksLive();

}  // namespace esem
