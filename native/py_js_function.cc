// The native JsFunction type (py_js_function.h). Layout: the object header,
// the vectorcall pointer, the JS function's id, its table (a strong
// reference, as callback.py's JsFunction holds it), the weak reference list
// (the table finds a live one through a weakref and hears when it dies) and
// the bridge's channel, held weakly. No cycle can pass through one (the
// table holds it only weakly), so it is not tracked by the GC.
#include "py_js_function.h"

#include <cstddef>
#include <cstdio>
#include <memory>

#include "channel.h"
#include "py_callbacks.h"
#include "py_ref.h"

namespace esem {
namespace {

struct JsFunctionObject {
  PyObjectHead head;
  VectorcallFunc vectorcall;
  long long id;
  PyObject* table;
  PyObject* weaklist;
  std::weak_ptr<Channel>* channel;
};

JsFunctionObject* As(PyObject* o) { return reinterpret_cast<JsFunctionObject*>(o); }

PyObject* Interned(const char* s) { return Py().PyUnicode_InternFromString(s); }  // kept for the process

// 1 when an asyncio loop runs on this thread (Python called from inside a
// coroutine), 0 when none does, -1 with a Python error set. asyncio is not
// imported for it: a program that never loaded it has no loop.
int LoopRunning() {
  const PyApi& py = Py();
  static PyObject* key = Interned("asyncio.events");
  static PyObject* name = Interned("_get_running_loop");
  static PyObject* empty = py.PyTuple_New(0);
  static PyObject* get = nullptr;
  if (!key || !name || !empty) return -1;
  if (!get) {
    // Looked up until asyncio is first imported, then kept: its
    // _get_running_loop reads the thread's running loop wherever it is.
    PyObject* modules = py.PyImport_GetModuleDict();
    PyObject* events = modules ? py.PyDict_GetItem(modules, key) : nullptr;  // borrowed
    if (!events) return 0;
    get = py.PyObject_GetAttr(events, name);
    if (!get) {
      py.PyErr_Clear();  // asyncio part-way through its import: no loop runs yet
      return 0;
    }
  }
  OwnedRef loop = OwnedRef::Steal(py.PyObject_Call(get, empty, nullptr));
  if (!loop) return -1;
  return loop.get() != py._Py_NoneStruct ? 1 : 0;
}

// table.call(id, args, kwargs): an awaitable of the JS function's result,
// run on the loop's executor (the loop is not blocked while JS runs).
PyObject* CallFromLoop(JsFunctionObject* f, const JsCallArgs& args) {
  const PyApi& py = Py();
  static PyObject* call = Interned("call");
  if (!call) return nullptr;
  OwnedRef tuple, kwargs;
  if (!ArgsAsObjects(args, &tuple, &kwargs)) return nullptr;
  OwnedRef method = OwnedRef::Steal(py.PyObject_GetAttr(f->table, call));
  OwnedRef id = OwnedRef::Steal(py.PyLong_FromLongLong(f->id));
  OwnedRef argv = OwnedRef::Steal(py.PyTuple_New(3));
  if (!method || !id || !argv) return nullptr;
  py.PyTuple_SetItem(argv.get(), 0, id.Release());
  py.PyTuple_SetItem(argv.get(), 1, tuple.Release());
  py.PyTuple_SetItem(argv.get(), 2, kwargs.Release());
  return py.PyObject_Call(method.get(), argv.get(), nullptr);
}

PyObject* Call(JsFunctionObject* f, const JsCallArgs& args) {
  int loop = LoopRunning();
  if (loop < 0) return nullptr;
  if (loop) return CallFromLoop(f, args);
  return InvokeJsFunction(f->channel->lock(), f->id, args);
}

PyObject* Vectorcall(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  const PyApi& py = Py();
  size_t n = nargsf & ~kVectorcallArgumentsOffset;
  Py_ssize_t nkw = kwnames ? py.PyTuple_Size(kwnames) : 0;
  if (nkw <= 0) return Call(As(self), JsCallArgs{args, n, nullptr, nullptr});
  OwnedRef kwargs = OwnedRef::Steal(py.PyDict_New());
  if (!kwargs) return nullptr;
  for (Py_ssize_t j = 0; j < nkw; j++) {
    if (py.PyDict_SetItem(kwargs.get(), py.PyTuple_GetItem(kwnames, j), args[n + static_cast<size_t>(j)]) < 0) return nullptr;
  }
  return Call(As(self), JsCallArgs{args, n, nullptr, kwargs.get()});
}

PyObject* TpCall(PyObject* self, PyObject* args, PyObject* kwargs) {
  const PyApi& py = Py();
  PyObject* items[kPlainArgs];
  Py_ssize_t n = py.PyTuple_Size(args);
  if (n < 0) return nullptr;
  for (Py_ssize_t i = 0; i < n && i < static_cast<Py_ssize_t>(kPlainArgs); i++) items[i] = py.PyTuple_GetItem(args, i);
  return Call(As(self), JsCallArgs{items, static_cast<size_t>(n), args, kwargs});
}

// JsFunction(id, table).
PyObject* New(PyObject* type, PyObject* args, PyObject* kwargs) {
  const PyApi& py = Py();
  if (py.PyTuple_Size(args) != 2 || (kwargs && py.PyDict_Size(kwargs) != 0)) {
    py.PyErr_SetString(py.PyExc_TypeError, "JsFunction(id, table)");
    return nullptr;
  }
  int overflow = 0;
  long long id = py.PyLong_AsLongLongAndOverflow(py.PyTuple_GetItem(args, 0), &overflow);
  if (id == -1 && py.PyErr_Occurred()) return nullptr;
  if (overflow || id < 1) {
    py.PyErr_SetString(py.PyExc_ValueError, "JsFunction(id, table): a JS function id out of range");
    return nullptr;
  }
  PyObject* table = py.PyTuple_GetItem(args, 1);
  OwnedRef invoke = OwnedRef::Steal(py.PyObject_GetAttrString(table, "_invoke"));
  std::weak_ptr<Channel> channel;
  if (!invoke || !InvokerChannel(invoke.get(), &channel)) {
    py.PyErr_Clear();
    py.PyErr_SetString(py.PyExc_TypeError, "JsFunction(id, table): the table must be an esem-bridge bridge's");
    return nullptr;
  }
  PyObject* o = py.PyType_GenericAlloc(type, 0);  // zeroed
  if (!o) return nullptr;
  JsFunctionObject* f = As(o);
  f->vectorcall = &Vectorcall;
  f->id = id;
  f->table = OwnedRef::Borrow(table).Release();
  f->channel = new std::weak_ptr<Channel>(std::move(channel));
  return o;
}

void Dealloc(PyObject* self) {
  const PyApi& py = Py();
  JsFunctionObject* f = As(self);
  PyObject* type = TypeOf(self);
  if (f->weaklist) py.PyObject_ClearWeakRefs(self);  // the table's dropper runs here
  if (f->table) py.Py_DecRef(f->table);
  delete f->channel;
  py.PyObject_Free(self);
  py.Py_DecRef(type);  // instances of heap types own their type (3.8+)
}

PyObject* Repr(PyObject* self) {
  char text[48];
  std::snprintf(text, sizeof text, "<JS function #%lld>", As(self)->id);
  return Py().PyUnicode_FromString(text);
}

// tp_weaklistoffset and tp_vectorcall_offset in PyTypeObject, the same in
// every 3.x on 64-bit: checked against the 3.8, 3.11 and 3.13 headers.
constexpr size_t kTpWeaklistOffset = sizeof(void*) == 8 ? 208 : 104;

PyObject* MakeType() {
  const PyApi& py = Py();
  // 3.8's PyType_FromSpec ignores the offset members (3.9 reads them):
  // there the weak list offset is set by hand and calls take tp_call.
  bool by_hand = py.major == 3 && py.minor < 9;
  static char doc[] = "A JS function, callable from any Python thread: it runs on the JS thread that passed it.";
  static char name[] = "esem_bridge.callback.JsFunction";
  static char id_name[] = "_id", table_name[] = "_table", weak_name[] = "__weaklistoffset__", vector_name[] = "__vectorcalloffset__";
  PyMemberDefinition members[] = {
      {id_name, kPyTLongLong, static_cast<Py_ssize_t>(offsetof(JsFunctionObject, id)), kPyReadOnly, nullptr},
      {table_name, kPyTObject, static_cast<Py_ssize_t>(offsetof(JsFunctionObject, table)), kPyReadOnly, nullptr},
      {weak_name, kPyTPySsizeT, static_cast<Py_ssize_t>(offsetof(JsFunctionObject, weaklist)), kPyReadOnly, nullptr},
      {vector_name, kPyTPySsizeT, static_cast<Py_ssize_t>(offsetof(JsFunctionObject, vectorcall)), kPyReadOnly, nullptr},
      {nullptr, 0, 0, 0, nullptr},
  };
  if (by_hand) members[2] = members[3] = members[4];
  PyTypeSlot slots[] = {
      {kPyTpNew, reinterpret_cast<void*>(&New)},
      {kPyTpDealloc, reinterpret_cast<void*>(&Dealloc)},
      {kPyTpCall, reinterpret_cast<void*>(&TpCall)},
      {kPyTpRepr, reinterpret_cast<void*>(&Repr)},
      {kPyTpMembers, members},
      {kPyTpDoc, doc},
      {0, nullptr},
  };
  unsigned int flags = 1u << 18 /* HAVE_VERSION_TAG */;
  if (!by_hand) flags |= static_cast<unsigned int>(kTpFlagsHaveVectorcall);
  PyTypeSpec spec{name, static_cast<int>(sizeof(JsFunctionObject)), 0, flags, slots};
  PyObject* type = py.PyType_FromSpec(&spec);  // copies the members
  if (type && by_hand) {
    *reinterpret_cast<Py_ssize_t*>(reinterpret_cast<char*>(type) + kTpWeaklistOffset) =
        static_cast<Py_ssize_t>(offsetof(JsFunctionObject, weaklist));
  }
  return type;
}

}  // namespace

PyObject* JsFunctionType() {
  static PyObject* type = nullptr;
  if (!type) type = MakeType();
  return type;
}

}  // namespace esem
