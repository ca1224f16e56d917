// See wire_buffers.h.
#include "wire_buffers.h"

#include <mutex>
#include <vector>

namespace esem {
namespace {

constexpr size_t kMaxBuffers = 4;
constexpr size_t kBudget = size_t{32} << 20;  // all kept buffers' capacity together
constexpr size_t kMaxBuffer = size_t{16} << 20;  // larger ones are one-offs: freed

struct Kept {
  std::mutex mutex;
  std::vector<std::string> buffers;  // by capacity, smallest first
  size_t bytes = 0;
};

Kept& Pool() {
  static Kept* kept = new Kept();  // never destroyed: jobs may be trimmed while the process exits
  return *kept;
}

}  // namespace

std::string TakeWireBuffer(size_t at_least) {
  Kept& kept = Pool();
  std::lock_guard<std::mutex> lock(kept.mutex);
  if (kept.buffers.empty() || kept.buffers.back().capacity() < at_least) return std::string();
  // The smallest that fits, or the largest when no size is asked.
  size_t i = kept.buffers.size() - 1;
  while (at_least && i > 0 && kept.buffers[i - 1].capacity() >= at_least) i--;
  std::string out = std::move(kept.buffers[i]);
  kept.buffers.erase(kept.buffers.begin() + static_cast<std::ptrdiff_t>(i));
  kept.bytes -= out.capacity();
  out.clear();
  return out;
}

void KeepWireBuffer(std::string* s) {
  size_t capacity = s->capacity();
  if (capacity < kKeptFrom || capacity > kMaxBuffer) {
    std::string().swap(*s);
    return;
  }
  std::vector<std::string> victims;  // freed outside the lock
  {
    Kept& kept = Pool();
    std::lock_guard<std::mutex> lock(kept.mutex);
    auto& buffers = kept.buffers;
    // Full: the smallest kept one makes room, unless this one is smaller still.
    while (!buffers.empty() && (buffers.size() >= kMaxBuffers || kept.bytes + capacity > kBudget) &&
           buffers.front().capacity() < capacity) {
      kept.bytes -= buffers.front().capacity();
      victims.push_back(std::move(buffers.front()));
      buffers.erase(buffers.begin());
    }
    if (buffers.size() < kMaxBuffers && kept.bytes + capacity <= kBudget) {
      s->clear();
      size_t at = 0;
      while (at < buffers.size() && buffers[at].capacity() <= capacity) at++;
      buffers.insert(buffers.begin() + static_cast<std::ptrdiff_t>(at), std::move(*s));
      kept.bytes += capacity;
      *s = std::string();
      return;
    }
  }
  std::string().swap(*s);
}

size_t WireBuffersKept() {
  Kept& kept = Pool();
  std::lock_guard<std::mutex> lock(kept.mutex);
  return kept.bytes;
}

}  // namespace esem
