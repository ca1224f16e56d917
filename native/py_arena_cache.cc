// See py_arena_cache.h. Python calls the allocator with its GIL held, but a
// 3.12+ subinterpreter with its own GIL allocates from the same runtime-wide
// allocator, so the cache takes its own lock (a few nanoseconds against an
// arena of 256 KiB or 1 MiB).
#include "py_arena_cache.h"

#include <cstdlib>
#include <mutex>
#include <vector>

#include "env_mib.h"
#include "populate.h"
#include "py_api.h"

namespace esem {
namespace {

struct Cache {
  std::mutex mutex;
  PyArenaAllocator next{};  // the allocator installed before the cache
  size_t budget = 0;
  size_t held = 0;
  struct Arena {
    void* address;
    size_t size;
  };
  std::vector<Arena> arenas;  // freed arenas, most recent last
};

Cache* g_cache = nullptr;  // made once, never freed: Python may free arenas until the process ends

void* Allocate(void* ctx, size_t size) {
  auto* cache = static_cast<Cache*>(ctx);
  {
    std::lock_guard<std::mutex> lock(cache->mutex);
    // Most recent first: its pages are the likeliest still in the CPU's caches.
    for (size_t i = cache->arenas.size(); i-- > 0;) {
      if (cache->arenas[i].size != size) continue;
      void* address = cache->arenas[i].address;
      cache->arenas.erase(cache->arenas.begin() + static_cast<std::ptrdiff_t>(i));
      cache->held -= size;
      return address;
    }
  }
  // A new arena: pymalloc carves it into pools as objects need them and
  // fills it before it takes another, so its pages are faulted in at once.
  void* address = cache->next.alloc(cache->next.ctx, size);
  if (address) Populate(address, size);
  return address;
}

void Free(void* ctx, void* address, size_t size) {
  auto* cache = static_cast<Cache*>(ctx);
  if (address) {
    std::lock_guard<std::mutex> lock(cache->mutex);
    if (cache->held + size <= cache->budget) {
      cache->arenas.push_back({address, size});
      cache->held += size;
      return;
    }
  }
  cache->next.free(cache->next.ctx, address, size);
}

}  // namespace

size_t ArenaCacheBudget() { return MibFromEnv("ESEM_ARENA_CACHE_MB", kArenaCacheDefaultMb); }

bool InstallArenaCache(size_t budget) {
  const PyApi& py = Py();
  if (g_cache) return true;
  if (budget == 0 || !py.PyObject_GetArenaAllocator || !py.PyObject_SetArenaAllocator) return false;
  auto* cache = new Cache();
  cache->budget = budget;
  cache->arenas.reserve(budget / (256u << 10) + 1);  // no allocation under the lock until the budget is full
  py.PyObject_GetArenaAllocator(&cache->next);
  if (!cache->next.alloc || !cache->next.free) {
    delete cache;
    return false;
  }
  PyArenaAllocator mine{cache, Allocate, Free};
  py.PyObject_SetArenaAllocator(&mine);
  g_cache = cache;
  return true;
}

size_t ArenaCacheHeld() {
  if (!g_cache) return 0;
  std::lock_guard<std::mutex> lock(g_cache->mutex);
  return g_cache->held;
}

}  // namespace esem
