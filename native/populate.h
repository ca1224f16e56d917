// Faults the pages of fresh memory in with one call instead of one page
// fault per 4 KiB as they are first written (MADV_POPULATE_WRITE, Linux
// 5.14+; on EINVAL, an older kernel, it stops asking). For memory that is
// about to be written whole: a large block Python asked for, a new arena.
// Elsewhere it does nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>

#include <atomic>
#include <cerrno>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace esem {

inline std::atomic<bool>& PopulateWorks() {
  static std::atomic<bool> works{true};
  return works;
}

// For page-aligned memory (a mapping, or a page boundary inside one); other
// memory is left alone (madvise would refuse it).
inline void Populate(void* from, size_t length) {
  if (length == 0 || (reinterpret_cast<uintptr_t>(from) & 4095) != 0 || !PopulateWorks().load(std::memory_order_relaxed)) return;
  if (madvise(from, length, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) PopulateWorks().store(false, std::memory_order_relaxed);
}

}  // namespace esem

#else

namespace esem {
inline void Populate(void*, size_t) {}
}  // namespace esem

#endif
