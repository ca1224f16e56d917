// The Python-backed form of Registry (the subprocess worker's registry.py).
#include "registry.h"

namespace esem {

bool Registry::UsePython(PyObject* registry) {
  const PyApi& py = Py();
  OwnedRef dict = OwnedRef::Steal(py.PyObject_GetAttrString(registry, "objects"));
  OwnedRef next = OwnedRef::Steal(py.PyObject_GetAttrString(registry, "next_id"));
  if (!dict || !next || TypeOf(dict.get()) != py.PyDict_Type) return false;
  int overflow = 0;
  long long n = py.PyLong_AsLongLongAndOverflow(next.get(), &overflow);
  if (overflow || n < 1) return false;
  python_ = OwnedRef::Borrow(registry);
  dict_ = std::move(dict);
  next_id_ = static_cast<uint64_t>(n);
  return true;
}

void Registry::SyncBack() {
  if (!python_) return;
  const PyApi& py = Py();
  OwnedRef next = OwnedRef::Steal(py.PyLong_FromUnsignedLongLong(next_id_));
  if (!next || py.PyObject_SetAttrString(python_.get(), "next_id", next.get()) < 0) py.PyErr_Clear();
}

PyObject* Registry::GetPython(uint64_t id) const {
  const PyApi& py = Py();
  OwnedRef key = OwnedRef::Steal(py.PyLong_FromUnsignedLongLong(id));
  return key ? py.PyDict_GetItem(dict_.get(), key.get()) : nullptr;  // borrowed
}

void Registry::PutPython(uint64_t id, PyObject* obj) {
  const PyApi& py = Py();
  OwnedRef key = OwnedRef::Steal(py.PyLong_FromUnsignedLongLong(id));
  if (!key || py.PyDict_SetItem(dict_.get(), key.get(), obj) < 0) py.PyErr_Clear();
}

void Registry::DropPython(uint64_t id) {
  const PyApi& py = Py();
  OwnedRef key = OwnedRef::Steal(py.PyLong_FromUnsignedLongLong(id));
  if (key && py.PyDict_DelItem(dict_.get(), key.get()) < 0) py.PyErr_Clear();
}

}  // namespace esem
