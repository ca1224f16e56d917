// Registry: ref_id -> live Python object, for one bridge. Access only with
// the GIL held (today: the bridge's Python thread; the GIL also makes it safe
// for the planned helper pool). ids are never reused within a bridge.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "py_ref.h"

namespace esem {

class Registry {
 public:
  uint64_t Add(OwnedRef obj) {
    uint64_t id = next_id_++;
    objects_.emplace(id, std::move(obj));
    return id;
  }
  // Borrowed; nullptr when the id is unknown or released.
  PyObject* Get(uint64_t id) const {
    auto it = objects_.find(id);
    return it == objects_.end() ? nullptr : it->second.get();
  }
  bool Remove(uint64_t id) { return objects_.erase(id) > 0; }
  void Clear() { objects_.clear(); }
  uint64_t NextId() const { return next_id_; }
  // Drops every id from `first` on (undoes a failed conversion).
  void RemoveFrom(uint64_t first) {
    for (uint64_t id = first; id < next_id_; id++) objects_.erase(id);
  }

 private:
  std::unordered_map<uint64_t, OwnedRef> objects_;
  uint64_t next_id_ = 1;
};

}  // namespace esem
