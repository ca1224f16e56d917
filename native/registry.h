// Registry: ref_id -> live Python object, for one bridge (native mode) or
// one subprocess worker (whose registry is python/esem_bridge/registry.py:
// then this one reads and writes that object's `objects` dict). Access only
// with the GIL held. ids are never reused within a bridge.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "py_ref.h"

namespace esem {

class Registry {
 public:
  // Backs the registry with a registry.py Registry: ids go in its
  // `objects` dict; next_id is read here and written back by SyncBack.
  bool UsePython(PyObject* registry);
  void SyncBack();

  uint64_t Add(OwnedRef obj) {
    uint64_t id = next_id_++;
    if (python_) {
      PutPython(id, obj.get());
    } else {
      objects_.emplace(id, std::move(obj));
    }
    return id;
  }
  // Borrowed; nullptr when the id is unknown or released.
  PyObject* Get(uint64_t id) const {
    if (python_) return GetPython(id);
    auto it = objects_.find(id);
    return it == objects_.end() ? nullptr : it->second.get();
  }
  bool Remove(uint64_t id) {
    if (python_) {
      DropPython(id);
      return true;
    }
    return objects_.erase(id) > 0;
  }
  void Clear() {
    objects_.clear();
    python_.Reset();
    dict_.Reset();
  }
  uint64_t NextId() const { return next_id_; }
  // Drops every id from `first` on (undoes a failed conversion).
  void RemoveFrom(uint64_t first) {
    for (uint64_t id = first; id < next_id_; id++) {
      if (python_) {
        DropPython(id);
      } else {
        objects_.erase(id);
      }
    }
  }

 private:
  PyObject* GetPython(uint64_t id) const;
  void PutPython(uint64_t id, PyObject* obj);
  void DropPython(uint64_t id);

  std::unordered_map<uint64_t, OwnedRef> objects_;
  uint64_t next_id_ = 1;
  OwnedRef python_;  // the registry.py Registry, when backed by one
  OwnedRef dict_;    // its objects dict
};

}  // namespace esem
