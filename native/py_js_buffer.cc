// The Python type behind shared(): esem_bridge.JsBuffer, a heap type made
// once per process with PyType_FromSpec, whose buffer slots export the JS
// memory (writable, with format, itemsize, shape and C strides). Python code
// sees a memoryview over it; the JsBuffer lives as long as that memoryview
// or anything exported from it (numpy arrays, casts, slices).
#include "py_js_buffer.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "job.h"

namespace esem {

void RefReturn::Give(napi_ref ref) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;  // the bridge is gone: the ref is leaked, never touched here
    wake = refs_.empty();
    refs_.push_back(ref);
  }
  if (wake && wake_) wake_();
}

// No Node-API call in this file: it also links into the wire fuzzer.

void RefReturn::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  refs_.clear();  // leaked: the environment may be going away
}

namespace {

// Every live JsHold, for LentRef (a handful: one per shared() argument
// that Python still holds, or whose job is in flight). Never destroyed: a
// hold may die during the process's exit.
struct LentHolds {
  std::mutex mutex;
  std::vector<JsHold*> holds;
};

LentHolds& Lent() {
  static auto* lent = new LentHolds();
  return *lent;
}

}  // namespace

JsHold::JsHold(napi_ref r, napi_env e, const void* d, size_t n) : ref(r), env(e), data(d), size(n) {
  std::lock_guard<std::mutex> lock(Lent().mutex);
  Lent().holds.push_back(this);
}

JsHold::~JsHold() {
  {
    std::lock_guard<std::mutex> lock(Lent().mutex);
    auto& holds = Lent().holds;
    holds.erase(std::remove(holds.begin(), holds.end(), this), holds.end());
  }
  if (ref && back) back->Give(ref);
}

size_t ForgetLent(napi_env env) {
  size_t n = 0;
  std::lock_guard<std::mutex> lock(Lent().mutex);
  for (JsHold* h : Lent().holds) {
    if (h->env != env) continue;
    h->env = nullptr;
    n++;
  }
  return n;
}

napi_ref LentRef(napi_env env, const void* data, size_t size) {
  auto at = reinterpret_cast<uintptr_t>(data);
  std::lock_guard<std::mutex> lock(Lent().mutex);
  for (const JsHold* h : Lent().holds) {
    auto start = reinterpret_cast<uintptr_t>(h->data);
    if (h->env == env && h->ref && at >= start && size <= h->size && at - start <= h->size - size) return h->ref;
  }
  return nullptr;
}

namespace {

// What a JsBuffer holds besides its object header (C++ members: made and
// destroyed by hand, since Python allocates the object).
struct JsBufferState {
  std::shared_ptr<JsHold> hold;
  char* data = nullptr;
  Py_ssize_t len = 0;
  Py_ssize_t itemsize = 1;
  char format[2] = {'B', 0};
  std::vector<Py_ssize_t> shape;
  std::vector<Py_ssize_t> strides;
};

struct JsBufferObject {
  PyObjectHead head;
  JsBufferState* state;
};

// An empty JS buffer may have no data pointer; Python wants one.
char empty_data[8];

JsBufferState* StateOf(PyObject* self) { return reinterpret_cast<JsBufferObject*>(self)->state; }

int GetBuffer(PyObject* self, PyBuffer* view, int flags) {
  JsBufferState* s = StateOf(self);
  Py().Py_IncRef(self);
  view->obj = self;
  view->buf = s->data;
  view->len = s->len;
  view->itemsize = s->itemsize;
  view->readonly = 0;
  bool nd = (flags & kPyBufNd) == kPyBufNd;
  view->ndim = nd ? static_cast<int>(s->shape.size()) : 1;
  view->format = (flags & kPyBufFormat) ? s->format : nullptr;
  view->shape = nd ? s->shape.data() : nullptr;
  view->strides = (flags & kPyBufStrides) == kPyBufStrides ? s->strides.data() : nullptr;
  view->suboffsets = nullptr;
  view->internal = nullptr;
  return 0;
}

// Any thread holding the GIL. The JS ref is never touched here: the hold
// gives it back to its bridge's JS thread when this was its last owner.
void Dealloc(PyObject* self) {
  const PyApi& py = Py();
  PyObject* type = TypeOf(self);
  delete StateOf(self);
  py.PyObject_Free(self);
  py.Py_DecRef(type);  // instances of heap types own their type (3.8+)
}

// 3.8 or older: PyType_FromSpec ignores buffer slots (bpo-40724, fixed in 3.9).
bool BufferSlotsIgnored() {
  int major = 0, minor = 0;
  return std::sscanf(Py().Py_GetVersion(), "%d.%d", &major, &minor) == 2 && major == 3 && minor < 9;
}

// tp_as_buffer's offset in PyTypeObject, the same in every 3.x on 64-bit
// (and 84 on 32-bit): checked against the 3.8 and 3.11 headers.
constexpr size_t kTpAsBuffer = sizeof(void*) == 8 ? 160 : 84;
struct BufferProcs {
  int (*get)(PyObject*, PyBuffer*, int);
  void (*release)(PyObject*, PyBuffer*);
};

PyObject* MakeType() {
  const PyApi& py = Py();
  bool by_hand = BufferSlotsIgnored();
  static char doc[] = "JS memory shared with Python by esem-bridge's shared(); read it through a memoryview.";
  PyTypeSlot slots[] = {
      {kPyTpDealloc, reinterpret_cast<void*>(&Dealloc)},
      {kPyTpDoc, doc},
      {by_hand ? 0 : kPyBfGetBuffer, reinterpret_cast<void*>(&GetBuffer)},
      {0, nullptr},
  };
  static char name[] = "esem_bridge.JsBuffer";
  PyTypeSpec spec{name, static_cast<int>(sizeof(JsBufferObject)), 0, 1u << 18 /* HAVE_VERSION_TAG */, slots};
  PyObject* type = py.PyType_FromSpec(&spec);
  if (type && by_hand) {
    // A heap type's tp_as_buffer points at its own (zeroed) PyBufferProcs.
    auto* procs = *reinterpret_cast<BufferProcs**>(reinterpret_cast<char*>(type) + kTpAsBuffer);
    if (procs) {
      procs->get = &GetBuffer;
    } else {
      py.Py_DecRef(type);
      py.PyErr_SetString(py.PyExc_RuntimeError, "esem-bridge: this Python's types have no buffer slots");
      type = nullptr;
    }
  }
  return type;
}

// The process's one JsBuffer type (one interpreter per process); GIL held.
PyObject* JsBufferType() {
  static PyObject* type = nullptr;
  if (!type) type = MakeType();
  return type;
}

}  // namespace

OwnedRef SharedView(const SideBuffer& side, char format, size_t itemsize, const std::vector<Py_ssize_t>& shape,
                    const std::shared_ptr<RefReturn>& back, std::string* bad) {
  const PyApi& py = Py();
  uint64_t count = 1;
  for (Py_ssize_t d : shape) count *= static_cast<uint64_t>(d);
  if (shape.empty() || count * itemsize != side.size) {
    *bad = "a shared buffer of " + std::to_string(side.size) + " bytes that its shape and item size do not fit";
    return OwnedRef();
  }
  PyObject* type = JsBufferType();
  if (!type) return OwnedRef();
  // The ref goes back to this bridge once Python lets go (set before the
  // first Python owner exists; the JS thread reads it only after the job).
  if (!side.hold->back) side.hold->back = back;
  auto state = std::make_unique<JsBufferState>();
  state->hold = side.hold;
  state->data = side.data ? const_cast<char*>(side.data) : empty_data;
  state->len = static_cast<Py_ssize_t>(side.size);
  state->itemsize = static_cast<Py_ssize_t>(itemsize);
  state->format[0] = format;
  state->shape = shape;
  state->strides.resize(shape.size());
  Py_ssize_t stride = state->itemsize;
  for (size_t i = shape.size(); i-- > 0;) {
    state->strides[i] = stride;
    stride *= shape[i];
  }
  OwnedRef obj = OwnedRef::Steal(py.PyType_GenericAlloc(type, 0));
  if (!obj) return obj;
  reinterpret_cast<JsBufferObject*>(obj.get())->state = state.release();
  return OwnedRef::Steal(py.PyMemoryView_FromObject(obj.get()));
}

}  // namespace esem
