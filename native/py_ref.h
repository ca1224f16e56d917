// OwnedRef: the one owner of a strong PyObject* reference. Python thread
// only (every operation needs the GIL): construct, copy, destroy.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "py_api.h"

// ESEM_DEBUG_THREADS (cmake -DESEM_DEBUG=ON): every reference operation
// checks that this thread holds the GIL, and aborts with a message if not.
#ifdef ESEM_DEBUG_THREADS
#define ESEM_ASSERT_GIL(what)                                                   \
  do {                                                                          \
    if (!::esem::Py().PyGILState_Check()) {                                     \
      std::fprintf(stderr, "esem-bridge: %s without the GIL (%s:%d)\n", what, __FILE__, __LINE__); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)
#else
#define ESEM_ASSERT_GIL(what) \
  do {                        \
  } while (0)
#endif

namespace esem {

class OwnedRef {
 public:
  OwnedRef() = default;
  // Steals the reference (the result of a "new reference" C-API call).
  static OwnedRef Steal(PyObject* o) { return OwnedRef(o); }
  // Takes a new reference to a borrowed pointer.
  static OwnedRef Borrow(PyObject* o) {
    ESEM_ASSERT_GIL("OwnedRef::Borrow");
    if (o) Py().Py_IncRef(o);
    return OwnedRef(o);
  }

  OwnedRef(const OwnedRef& other) : ptr_(other.ptr_) {
    ESEM_ASSERT_GIL("OwnedRef copy");
    if (ptr_) Py().Py_IncRef(ptr_);
  }
  OwnedRef(OwnedRef&& other) noexcept : ptr_(other.ptr_) { other.ptr_ = nullptr; }
  OwnedRef& operator=(OwnedRef other) noexcept {
    std::swap(ptr_, other.ptr_);
    return *this;
  }
  ~OwnedRef() { Reset(); }

  void Reset() {
    if (ptr_) {
      ESEM_ASSERT_GIL("OwnedRef::Reset");
      PyObject* p = ptr_;
      ptr_ = nullptr;
      Py().Py_DecRef(p);
    }
  }
  // Gives the reference away (to a stealing C-API call such as PyTuple_SetItem).
  PyObject* Release() {
    PyObject* p = ptr_;
    ptr_ = nullptr;
    return p;
  }
  PyObject* get() const { return ptr_; }
  explicit operator bool() const { return ptr_ != nullptr; }

 private:
  explicit OwnedRef(PyObject* o) : ptr_(o) {}
  PyObject* ptr_ = nullptr;
};

}  // namespace esem
