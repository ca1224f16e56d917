// See py_large_blocks.h. The raw domain is called without the GIL, from any
// thread, so the cache has its own lock. It is taken on a free only for a
// pointer on a 2 MiB boundary: every block here starts on one, and
// malloc's own blocks almost never do (they start 16 bytes into a chunk);
// a malloc block that does is looked up, not found, and passed on.
#include "py_large_blocks.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "env_mib.h"
#include "populate.h"
#include "py_api.h"

#if defined(__linux__)
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>
#endif

namespace esem {

size_t BlockCacheBudget() { return MibFromEnv("ESEM_BLOCK_CACHE_MB", kBlockCacheDefaultMb); }

#if defined(__linux__)
namespace {

using Clock = std::chrono::steady_clock;

constexpr uintptr_t kBoundary = uintptr_t{2} << 20;
constexpr size_t kPage = 4096;
constexpr Clock::duration kIdle = std::chrono::seconds(1);

struct Kept {
  char* address;
  size_t length;
  Clock::time_point since;
};

struct Blocks {
  PyMemAllocator next{};  // the raw allocator installed before this one
  size_t budget = 0;
  std::mutex mutex;
  std::unordered_map<uintptr_t, size_t> live;  // block in use: start -> mapped length
  size_t live_bytes = 0;
  std::vector<Kept> kept;  // freed blocks, oldest first
  size_t held = 0;
};

Blocks* g_blocks = nullptr;  // made once, never freed: blocks may be freed until the process ends

bool OnBoundary(const void* p) { return (reinterpret_cast<uintptr_t>(p) & (kBoundary - 1)) == 0; }

// The mapped length for `size` bytes; 0 below kLargeBlockMin or when it overflows.
size_t LengthFor(size_t size) {
  if (size < kLargeBlockMin || size > SIZE_MAX - 2 * kBoundary) return 0;
  return (size + kPage - 1) & ~(kPage - 1);
}

// The mapped length of the block in use at p; 0 when p is not a block of ours.
size_t Find(Blocks* b, void* p) {
  if (!p || !OnBoundary(p)) return 0;
  std::lock_guard<std::mutex> lock(b->mutex);
  auto it = b->live.find(reinterpret_cast<uintptr_t>(p));
  return it == b->live.end() ? 0 : it->second;
}

// Records the block at p as in use with `length` bytes (`was`: the length
// it had); false when the table cannot grow. Lock held.
bool Record(Blocks* b, void* p, size_t length, size_t was) {
  try {
    b->live[reinterpret_cast<uintptr_t>(p)] = length;
  } catch (...) {
    return false;
  }
  b->live_bytes += length;
  b->live_bytes -= was;
  return true;
}

// Kept blocks nobody took for kIdle, and the oldest while more than
// `room` is held, are moved to `out` for unmapping outside the lock; with
// `spare_newest`, the newest goes only when idle (it may be a block larger
// than the budget, kept alone: see Give). False (and nothing moved) when
// `out` cannot be made. Lock held.
bool Evict(Blocks* b, size_t room, std::vector<Kept>* out, bool spare_newest) {
  Clock::time_point old = Clock::now() - kIdle;
  size_t n = 0, freed = 0;
  size_t last = b->kept.size() - 1;
  while (n < b->kept.size() && ((b->held - freed > room && !(spare_newest && n == last)) || b->kept[n].since < old)) {
    freed += b->kept[n++].length;
  }
  if (n == 0) return true;
  try {
    out->assign(b->kept.begin(), b->kept.begin() + static_cast<std::ptrdiff_t>(n));
  } catch (...) {
    return false;
  }
  b->kept.erase(b->kept.begin(), b->kept.begin() + static_cast<std::ptrdiff_t>(n));
  b->held -= freed;
  return true;
}

void Unmap(const std::vector<Kept>& blocks) {
  for (const Kept& k : blocks) munmap(k.address, k.length);
}

// `length` bytes of address space on a 2 MiB boundary: one mapping 2 MiB
// longer, its two ends given back.
char* Map(size_t length) {
  size_t over = length + kBoundary;
  void* raw = mmap(nullptr, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  uintptr_t start = (reinterpret_cast<uintptr_t>(raw) + kBoundary - 1) & ~(kBoundary - 1);
  size_t head = start - reinterpret_cast<uintptr_t>(raw);
  if (head) munmap(raw, head);
  size_t tail = over - head - length;
  if (tail) munmap(reinterpret_cast<char*>(start) + length, tail);
  return reinterpret_cast<char*>(start);
}

// A new mapping of `length` bytes, recorded as in use; nullptr when either fails.
char* MapInUse(Blocks* b, size_t length) {
  char* p = Map(length);
  if (!p) return nullptr;
  std::lock_guard<std::mutex> lock(b->mutex);
  if (Record(b, p, length, 0)) return p;
  munmap(p, length);
  return nullptr;
}

// New pages are faulted in at once (populate.h): Python writes all of a
// large block it asked malloc for (a fresh 16 MiB block, echoed: median
// 7.2 -> 5.7 ms).

// A block of at least `length` bytes for use: the smallest kept one no
// more than a quarter larger, else a new mapping. nullptr when neither.
void* Take(Blocks* b, size_t length) {
  {
    std::lock_guard<std::mutex> lock(b->mutex);
    size_t best = b->kept.size();
    for (size_t i = 0; i < b->kept.size(); i++) {
      size_t have = b->kept[i].length;
      if (have >= length && have - length <= length / 4 && (best == b->kept.size() || have < b->kept[best].length)) best = i;
    }
    if (best < b->kept.size()) {
      Kept k = b->kept[best];
      if (Record(b, k.address, k.length, 0)) {
        b->kept.erase(b->kept.begin() + static_cast<std::ptrdiff_t>(best));
        b->held -= k.length;
        return k.address;
      }
    }
  }
  char* p = MapInUse(b, length);
  if (p) Populate(p, length);
  return p;
}

// The block at p (in use, `length` bytes) is free: kept, or unmapped. A
// block larger than the whole budget is kept too, alone (the others go):
// a call that sends the same 64 MiB Buffer again gets memory it touched
// (len() of it: 27-35 ms of page faults -> 4.4-4.7 ms, against one JS
// memcpy's 4.9-5.2 in the same process).
// It holds no more than the process had a moment ago, for a second at most.
void Give(Blocks* b, void* p, size_t length) {
  std::vector<Kept> gone;
  bool keep;
  {
    std::lock_guard<std::mutex> lock(b->mutex);
    b->live.erase(reinterpret_cast<uintptr_t>(p));
    b->live_bytes -= length;
    keep = Evict(b, length <= b->budget ? b->budget - length : 0, &gone, false) && (b->held + length <= b->budget || b->held == 0);
    try {
      if (keep) b->kept.push_back({static_cast<char*>(p), length, Clock::now()});
    } catch (...) {
      keep = false;
    }
    if (keep) b->held += length;
  }
  Unmap(gone);
  if (!keep) munmap(p, length);
}

void* Malloc(void* ctx, size_t size) {
  auto* b = static_cast<Blocks*>(ctx);
  size_t length = LengthFor(size);
  void* p = length ? Take(b, length) : nullptr;
  return p ? p : b->next.malloc(b->next.ctx, size);
}

// Zeroed memory stays with the allocator before: fresh pages are zero
// already, and a large calloc is often used sparsely.
void* Calloc(void* ctx, size_t nelem, size_t elsize) {
  auto* b = static_cast<Blocks*>(ctx);
  return b->next.calloc(b->next.ctx, nelem, elsize);
}

void Free(void* ctx, void* p) {
  auto* b = static_cast<Blocks*>(ctx);
  size_t length = Find(b, p);
  if (length == 0) return b->next.free(b->next.ctx, p);
  Give(b, p, length);
}

// A block of ours resized. Below kLargeBlockMin it moves to the allocator
// before (copied); shrinking gives the tail back; growing extends the
// mapping in place when the range after it is free, else moves its pages
// (not their bytes) to a new range on a 2 MiB boundary. On failure the
// block is untouched and nullptr says so, as realloc does.
void* Resize(Blocks* b, void* p, size_t old, size_t size) {
  size_t length = LengthFor(size);
  if (length == 0) {
    if (size >= kLargeBlockMin) return nullptr;  // overflow
    void* q = b->next.malloc(b->next.ctx, size ? size : 1);
    if (!q) return nullptr;
    std::memcpy(q, p, size);
    Give(b, p, old);
    return q;
  }
  if (length == old) return p;
  if (length < old) {
    munmap(static_cast<char*>(p) + length, old - length);
    std::lock_guard<std::mutex> lock(b->mutex);
    Record(b, p, length, old);  // the key is there: no allocation, cannot fail
    return p;
  }
  if (mremap(p, old, length, 0) != MAP_FAILED) {
    {
      std::lock_guard<std::mutex> lock(b->mutex);
      Record(b, p, length, old);
    }
    Populate(static_cast<char*>(p) + old, length - old);
    return p;
  }
  char* dest = MapInUse(b, length);
  if (!dest) return nullptr;
  if (mremap(p, old, length, MREMAP_MAYMOVE | MREMAP_FIXED, dest) == MAP_FAILED) {
    // The kernel could not move them (out of memory or of mappings):
    // MemoryError, as for a failed realloc.
    std::lock_guard<std::mutex> lock(b->mutex);
    b->live.erase(reinterpret_cast<uintptr_t>(dest));
    b->live_bytes -= length;
    munmap(dest, length);
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(b->mutex);
    b->live.erase(reinterpret_cast<uintptr_t>(p));  // its pages are at dest now
    b->live_bytes -= old;
  }
  Populate(dest + old, length - old);
  return dest;
}

void* Realloc(void* ctx, void* p, size_t size) {
  auto* b = static_cast<Blocks*>(ctx);
  size_t old = Find(b, p);
  if (old == 0) return b->next.realloc(b->next.ctx, p, size);
  return Resize(b, p, old, size);
}

}  // namespace

bool InstallLargeBlocks(size_t budget) {
  if (g_blocks) return true;
  const PyApi& py = Py();
  if (budget == 0 || !py.PyMem_GetAllocator || !py.PyMem_SetAllocator) return false;
  auto* b = new (std::nothrow) Blocks();
  if (!b) return false;
  b->budget = budget;
  py.PyMem_GetAllocator(kPyMemDomainRaw, &b->next);
  if (!b->next.malloc || !b->next.calloc || !b->next.realloc || !b->next.free) {
    delete b;
    return false;
  }
  g_blocks = b;
  PyMemAllocator mine{b, Malloc, Calloc, Realloc, Free};
  py.PyMem_SetAllocator(kPyMemDomainRaw, &mine);
  return true;
}

void TrimLargeBlocks() {
  if (!g_blocks) return;
  std::vector<Kept> gone;
  {
    std::lock_guard<std::mutex> lock(g_blocks->mutex);
    if (g_blocks->kept.empty()) return;
    Evict(g_blocks, g_blocks->budget, &gone, true);
  }
  Unmap(gone);
}

size_t LargeBlocksHeld() {
  if (!g_blocks) return 0;
  std::lock_guard<std::mutex> lock(g_blocks->mutex);
  return g_blocks->held;
}

size_t LargeBlocksLive() {
  if (!g_blocks) return 0;
  std::lock_guard<std::mutex> lock(g_blocks->mutex);
  return g_blocks->live_bytes;
}

#else  // not Linux: Python's allocator as it is

bool InstallLargeBlocks(size_t) { return false; }
void TrimLargeBlocks() {}
size_t LargeBlocksHeld() { return 0; }
size_t LargeBlocksLive() { return 0; }

#endif

}  // namespace esem
