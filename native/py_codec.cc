// Value <-> PyObject conversion (SPEC section 3). Python thread only.
#include "py_codec.h"

#include <cmath>
#include <unordered_map>

#include "py_error.h"

namespace esem {
namespace {

constexpr int kMaxDepth = 256;

OwnedRef Fail(PyContext& ctx, ErrorInfo* error) {
  *error = FetchPythonError(ctx);
  return OwnedRef();
}

OwnedRef StrToPython(const Value& v) {
  const PyApi& py = Py();
  if (v.utf16) {
    int byteorder = -1;  // little-endian, as napi gives it on every platform we build for
    return OwnedRef::Steal(py.PyUnicode_DecodeUTF16(v.s.data(), static_cast<Py_ssize_t>(v.s.size()),
                                                    "surrogatepass", &byteorder));
  }
  return OwnedRef::Steal(py.PyUnicode_FromStringAndSize(v.s.data(), static_cast<Py_ssize_t>(v.s.size())));
}

OwnedRef CallOne(PyObject* fn, OwnedRef arg) {
  const PyApi& py = Py();
  OwnedRef args = OwnedRef::Steal(py.PyTuple_New(1));
  py.PyTuple_SetItem(args.get(), 0, arg.Release());
  return OwnedRef::Steal(py.PyObject_Call(fn, args.get(), nullptr));
}

// Dict keys repeat across the records of one argument: each distinct
// short key becomes one str object (hashed once) per conversion.
using KeyCache = std::unordered_map<std::string, OwnedRef>;

OwnedRef ToPythonAt(PyContext& ctx, const Value& v, ErrorInfo* error, KeyCache* keys, int depth);

OwnedRef DictKey(PyContext& ctx, const Value& k, ErrorInfo* error, KeyCache* keys, int depth) {
  if (k.tag != Tag::kStr || k.utf16 || k.s.size() > 64) return ToPythonAt(ctx, k, error, keys, depth);
  auto found = keys->find(k.s);
  if (found != keys->end()) return found->second;
  OwnedRef key = ToPythonAt(ctx, k, error, keys, depth);
  if (key && keys->size() < 4096) keys->emplace(k.s, key);
  return key;
}

OwnedRef ToPythonAt(PyContext& ctx, const Value& v, ErrorInfo* error, KeyCache* keys, int depth) {
  const PyApi& py = Py();
  // Both readers (wire.cc, js_codec.cc) stop at this depth already; the
  // check keeps this recursion bounded whatever built v.
  if (depth > kMaxDepth + 1) {
    *error = BridgeFailure("ESEM_INTERNAL", "an argument is nested too deeply to convert");
    return OwnedRef();
  }
  OwnedRef out;
  switch (v.tag) {
    case Tag::kNone:
      return OwnedRef::Borrow(py._Py_NoneStruct);
    case Tag::kBool:
      return OwnedRef::Borrow(v.b ? py._Py_TrueStruct : py._Py_FalseStruct);
    case Tag::kInt:
      out = OwnedRef::Steal(py.PyLong_FromLongLong(v.i));
      break;
    case Tag::kBigInt:
      out = OwnedRef::Steal(py.PyLong_FromString(v.s.c_str(), nullptr, 16));
      break;
    case Tag::kFloat:
      out = OwnedRef::Steal(py.PyFloat_FromDouble(v.f));
      break;
    case Tag::kStr:
      out = StrToPython(v);
      break;
    case Tag::kBytes:
      out = OwnedRef::Steal(py.PyBytes_FromStringAndSize(v.s.data(), static_cast<Py_ssize_t>(v.s.size())));
      break;
    case Tag::kList: {
      out = OwnedRef::Steal(py.PyList_New(static_cast<Py_ssize_t>(v.items.size())));
      if (!out) break;
      for (size_t i = 0; i < v.items.size(); i++) {
        OwnedRef item = ToPythonAt(ctx, v.items[i], error, keys, depth + 1);
        if (!item) return OwnedRef();
        py.PyList_SetItem(out.get(), static_cast<Py_ssize_t>(i), item.Release());  // steals
      }
      return out;
    }
    case Tag::kDict:
    case Tag::kMap: {
      out = OwnedRef::Steal(py.PyDict_New());
      if (!out) break;
      for (size_t i = 0; i + 1 < v.items.size(); i += 2) {
        OwnedRef key = v.tag == Tag::kDict ? DictKey(ctx, v.items[i], error, keys, depth + 1)
                                           : ToPythonAt(ctx, v.items[i], error, keys, depth + 1);
        if (!key) return OwnedRef();
        OwnedRef val = ToPythonAt(ctx, v.items[i + 1], error, keys, depth + 1);
        if (!val) return OwnedRef();
        if (py.PyDict_SetItem(out.get(), key.get(), val.get()) < 0) return Fail(ctx, error);
      }
      return out;
    }
    case Tag::kSet: {
      out = OwnedRef::Steal(py.PySet_New(nullptr));
      if (!out) break;
      for (const Value& item : v.items) {
        OwnedRef x = ToPythonAt(ctx, item, error, keys, depth + 1);
        if (!x) return OwnedRef();
        if (py.PySet_Add(out.get(), x.get()) < 0) return Fail(ctx, error);
      }
      return out;
    }
    case Tag::kDate:
      out = CallOne(ctx.datetime_from_ms.get(), OwnedRef::Steal(py.PyFloat_FromDouble(v.f)));
      break;
    case Tag::kRef: {
      PyObject* o = ctx.registry.Get(v.ref);
      if (!o) {
        *error = BridgeFailure("ESEM_RELEASED",
                               "a proxy passed as an argument was released; its Python object is gone");
        return OwnedRef();
      }
      // items: attribute path below the object (a proxy of `obj.a.b`).
      OwnedRef target = OwnedRef::Borrow(o);
      for (const Value& name : v.items) {
        if (name.tag != Tag::kStr) {
          *error = BridgeFailure("ESEM_INTERNAL", "a proxy path name that is not a string");
          return OwnedRef();
        }
        OwnedRef key = StrToPython(name);
        if (!key) return Fail(ctx, error);
        target = OwnedRef::Steal(py.PyObject_GetAttr(target.get(), key.get()));
        if (!target) return Fail(ctx, error);
      }
      return target;
    }
    case Tag::kWire:     // parsed by the executor before conversion
    case Tag::kNdArray:  // produced by Python only
      *error = BridgeFailure("ESEM_INTERNAL", "an ndarray value cannot be sent to Python");
      return OwnedRef();
    case Tag::kTyped: {
      if (v.items.empty() || v.items[0].tag != Tag::kStr) {
        *error = BridgeFailure("ESEM_INTERNAL", "a typed array without its element format");
        return OwnedRef();
      }
      OwnedRef bytes = OwnedRef::Steal(py.PyBytes_FromStringAndSize(v.s.data(), static_cast<Py_ssize_t>(v.s.size())));
      if (!bytes) break;
      OwnedRef args = OwnedRef::Steal(py.PyTuple_New(2));
      py.PyTuple_SetItem(args.get(), 0, bytes.Release());
      py.PyTuple_SetItem(args.get(), 1, StrToPython(v.items[0]).Release());
      out = OwnedRef::Steal(py.PyObject_Call(ctx.typed_view.get(), args.get(), nullptr));
      break;
    }
  }
  if (!out) return Fail(ctx, error);
  return out;
}

// --- Python -> Value ---------------------------------------------------

class Encoder {
 public:
  Encoder(PyContext& ctx) : ctx_(ctx), py_(Py()) {}

  bool Encode(PyObject* o, Value* out, int depth);

 private:
  bool Int(PyObject* o, Value* out) {
    int overflow = 0;
    long long n = py_.PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0) {
      if (n == -1 && py_.PyErr_Occurred()) return false;
      out->tag = Tag::kInt;
      out->i = n;
      return true;
    }
    OwnedRef spec = OwnedRef::Steal(py_.PyUnicode_FromString("x"));
    OwnedRef hex = OwnedRef::Steal(py_.PyObject_Format(o, spec.get()));
    if (!hex) return false;
    Py_ssize_t len = 0;
    const char* s = py_.PyUnicode_AsUTF8AndSize(hex.get(), &len);
    if (!s) return false;
    out->tag = Tag::kBigInt;
    out->s.assign(s, static_cast<size_t>(len));
    return true;
  }

  bool Str(PyObject* o, Value* out) {
    out->tag = Tag::kStr;
    Py_ssize_t len = 0;
    const char* s = py_.PyUnicode_AsUTF8AndSize(o, &len);
    if (s) {
      out->s.assign(s, static_cast<size_t>(len));
      return true;
    }
    // Lone surrogates have no UTF-8 form; JS strings can hold them.
    py_.PyErr_Clear();
    OwnedRef b = OwnedRef::Steal(py_.PyUnicode_AsEncodedString(o, "utf-16-le", "surrogatepass"));
    if (!b) return false;
    char* data = nullptr;
    if (py_.PyBytes_AsStringAndSize(b.get(), &data, &len) < 0) return false;
    out->utf16 = true;
    out->s.assign(data, static_cast<size_t>(len));
    return true;
  }

  bool Buffer(PyObject* o, Value* out) {
    PyBuffer view;
    if (py_.PyObject_GetBuffer(o, &view, kPyBufSimple) < 0) return false;
    out->tag = Tag::kBytes;
    out->s.assign(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
    py_.PyBuffer_Release(&view);
    return true;
  }

  bool Sequence(PyObject* o, bool is_tuple, Value* out, int depth) {
    Py_ssize_t n = is_tuple ? py_.PyTuple_Size(o) : py_.PyList_Size(o);
    if (n < 0) return false;
    out->tag = Tag::kList;
    out->items.reserve(static_cast<size_t>(n));
    for (Py_ssize_t i = 0; i < n; i++) {
      // A list can shrink while a nested conversion runs Python code.
      PyObject* item = is_tuple ? py_.PyTuple_GetItem(o, i) : py_.PyList_GetItem(o, i);
      if (!item) return false;
      OwnedRef hold = OwnedRef::Borrow(item);
      out->items.emplace_back();
      if (!Encode(hold.get(), &out->items.back(), depth + 1)) return false;
    }
    return true;
  }

  bool Dict(PyObject* o, Value* out, int depth) {
    Py_ssize_t size = py_.PyDict_Size(o);
    if (size < 0) return false;
    out->items.reserve(static_cast<size_t>(size) * 2);
    bool all_str = true;
    Py_ssize_t pos = 0;
    PyObject *k = nullptr, *v = nullptr;
    while (py_.PyDict_Next(o, &pos, &k, &v)) {
      OwnedRef hk = OwnedRef::Borrow(k), hv = OwnedRef::Borrow(v);
      out->items.emplace_back();
      if (!Encode(hk.get(), &out->items.back(), depth + 1)) return false;
      if (out->items.back().tag != Tag::kStr) all_str = false;
      out->items.emplace_back();
      if (!Encode(hv.get(), &out->items.back(), depth + 1)) return false;
    }
    out->tag = all_str ? Tag::kDict : Tag::kMap;
    return true;
  }

  bool Iterable(PyObject* o, Tag tag, Value* out, int depth) {
    OwnedRef it = OwnedRef::Steal(py_.PyObject_GetIter(o));
    if (!it) return false;
    out->tag = tag;
    while (true) {
      OwnedRef item = OwnedRef::Steal(py_.PyIter_Next(it.get()));
      if (!item) return !py_.PyErr_Occurred();
      out->items.emplace_back();
      if (!Encode(item.get(), &out->items.back(), depth + 1)) return false;
    }
  }

  bool Ref(PyObject* o, Value* out);

  // A numeric ndarray -> kNdArray (copied). Returns 0 done, -1 error, 1 not
  // convertible (the caller makes a proxy).
  int NdArray(PyObject* o, Value* out) {
    OwnedRef parts = CallOne(ctx_.ndarray_parts.get(), OwnedRef::Borrow(o));
    if (!parts) return -1;
    if (parts.get() == py_._Py_NoneStruct) return 1;
    PyBuffer view;
    if (py_.PyObject_GetBuffer(py_.PyTuple_GetItem(parts.get(), 0), &view, kPyBufSimple) < 0) return -1;
    out->tag = Tag::kNdArray;
    out->s.assign(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
    py_.PyBuffer_Release(&view);
    for (Py_ssize_t i = 1; i <= 2; i++) {
      out->items.emplace_back();
      if (!Str(py_.PyTuple_GetItem(parts.get(), i), &out->items.back())) return -1;
    }
    PyObject* shape = py_.PyTuple_GetItem(parts.get(), 3);
    for (Py_ssize_t i = 0; i < py_.PyTuple_Size(shape); i++) {
      out->items.emplace_back();
      if (!Int(py_.PyTuple_GetItem(shape, i), &out->items.back())) return -1;
    }
    return 0;
  }

  PyContext& ctx_;
  const PyApi& py_;
};

bool Encoder::Encode(PyObject* o, Value* out, int depth) {
  if (depth > kMaxDepth) {
    py_.PyErr_SetString(py_.PyExc_ValueError,
                        "the result is nested too deeply to convert (a structure that contains itself?)");
    return false;
  }
  PyObject* t = TypeOf(o);
  if (o == py_._Py_NoneStruct) {
    out->tag = Tag::kNone;
    return true;
  }
  if (t == py_.PyBool_Type) {
    out->tag = Tag::kBool;
    out->b = o == py_._Py_TrueStruct;
    return true;
  }
  if (t == py_.PyLong_Type) return Int(o, out);
  if (t == py_.PyFloat_Type) {
    out->tag = Tag::kFloat;
    out->f = py_.PyFloat_AsDouble(o);
    return true;
  }
  if (t == py_.PyUnicode_Type) return Str(o, out);
  if (t == py_.PyList_Type) return Sequence(o, false, out, depth);
  if (t == py_.PyTuple_Type) return Sequence(o, true, out, depth);
  if (t == py_.PyDict_Type) return Dict(o, out, depth);
  if (t == py_.PyBytes_Type || t == py_.PyByteArray_Type || t == py_.PyMemoryView_Type) return Buffer(o, out);

  // Subclasses and the rarer types.
  unsigned long flags = py_.PyType_GetFlags(t);
  if (flags & kTpFlagsLongSubclass) {
    if (py_.PyType_IsSubtype(t, py_.PyBool_Type)) {
      out->tag = Tag::kBool;
      out->b = py_.PyObject_IsInstance(o, py_.PyBool_Type) && o == py_._Py_TrueStruct;
      return true;
    }
    return Int(o, out);
  }
  if (flags & kTpFlagsUnicodeSubclass) return Str(o, out);
  if (flags & kTpFlagsListSubclass) return Sequence(o, false, out, depth);
  if (flags & kTpFlagsTupleSubclass) return Sequence(o, true, out, depth);
  if (flags & kTpFlagsDictSubclass) return Dict(o, out, depth);
  if (flags & kTpFlagsBytesSubclass) return Buffer(o, out);
  if (py_.PyType_IsSubtype(t, py_.PyFloat_Type)) {
    out->tag = Tag::kFloat;
    out->f = py_.PyFloat_AsDouble(o);
    return !(out->f == -1.0 && py_.PyErr_Occurred());
  }
  if (py_.PyType_IsSubtype(t, py_.PySet_Type) || py_.PyType_IsSubtype(t, py_.PyFrozenSet_Type)) {
    return Iterable(o, Tag::kSet, out, depth);
  }
  if (py_.PyType_IsSubtype(t, py_.PyByteArray_Type)) return Buffer(o, out);
  if (py_.PyType_IsSubtype(t, ctx_.datetime_type.get())) {
    OwnedRef ms = CallOne(ctx_.datetime_to_ms.get(), OwnedRef::Borrow(o));
    if (!ms) return false;
    out->tag = Tag::kDate;
    out->f = py_.PyFloat_AsDouble(ms.get());
    return true;
  }
  if (PyObject* ndarray = ctx_.NumpyArray()) {
    int is_array = py_.PyObject_IsInstance(o, ndarray);
    if (is_array < 0) return false;
    if (is_array) {
      int done = NdArray(o, out);
      if (done <= 0) return done == 0;
    }
  }
  if (PyObject* generic = ctx_.NumpyGeneric()) {
    int is_scalar = py_.PyObject_IsInstance(o, generic);
    if (is_scalar < 0) return false;
    if (is_scalar) {
      OwnedRef item = OwnedRef::Steal(py_.PyObject_GetAttrString(o, "item"));
      if (!item) return false;
      OwnedRef args = OwnedRef::Steal(py_.PyTuple_New(0));
      OwnedRef plain = OwnedRef::Steal(py_.PyObject_Call(item.get(), args.get(), nullptr));
      if (!plain) return false;
      // item() of a numeric scalar is a builtin; anything else (datetime64,
      // void) would loop, so only builtins recurse.
      PyObject* pt = TypeOf(plain.get());
      if (pt == py_.PyLong_Type || pt == py_.PyFloat_Type || pt == py_.PyBool_Type || pt == py_.PyUnicode_Type ||
          pt == py_.PyBytes_Type) {
        return Encode(plain.get(), out, depth + 1);
      }
    }
  }
  return Ref(o, out);
}

bool Encoder::Ref(PyObject* o, Value* out) {
  out->tag = Tag::kRef;
  PyObject* t = TypeOf(o);
  auto found = ctx_.type_index.find(t);
  if (found != ctx_.type_index.end()) {
    out->type_index = found->second;
    out->ref = ctx_.registry.Add(OwnedRef::Borrow(o));
    return true;
  }
  OwnedRef d = CallOne(ctx_.describe.get(), OwnedRef::Borrow(o));
  if (!d) return false;
  if (py_.PyTuple_Size(d.get()) != 7) {
    py_.PyErr_SetString(py_.PyExc_TypeError, "esem_bridge.ops.describe returned a bad description");
    return false;
  }
  auto desc = std::make_unique<RefDescription>();
  Value text;
  if (!Str(py_.PyTuple_GetItem(d.get(), 1), &text)) return false;
  desc->kind = std::move(text.s);
  if (!Str(py_.PyTuple_GetItem(d.get(), 2), &text)) return false;
  desc->type_name = std::move(text.s);
  PyObject* members = py_.PyTuple_GetItem(d.get(), 3);
  Py_ssize_t n = py_.PyTuple_Size(members);
  desc->members.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; i++) {
    Value m;
    if (!Str(py_.PyTuple_GetItem(members, i), &m)) return false;
    desc->members.push_back(std::move(m.s));
  }
  desc->has_release = py_.PyTuple_GetItem(d.get(), 4) == py_._Py_TrueStruct;
  desc->callable = py_.PyTuple_GetItem(d.get(), 5) == py_._Py_TrueStruct;
  desc->iterable = py_.PyTuple_GetItem(d.get(), 6) == py_._Py_TrueStruct;
  if (py_.PyTuple_GetItem(d.get(), 0) == py_._Py_TrueStruct) {
    ctx_.described_types.push_back(OwnedRef::Borrow(t));
    out->type_index = static_cast<uint32_t>(ctx_.described_types.size());
    ctx_.type_index.emplace(t, out->type_index);
  }
  out->new_type = true;
  out->desc = std::move(desc);
  out->ref = ctx_.registry.Add(OwnedRef::Borrow(o));
  return true;
}

// Only std::bad_alloc can be thrown here (by std::string and std::vector);
// it becomes the call's MemoryError and never leaves the Python thread.
ErrorInfo OutOfMemory(const char* what) {
  ErrorInfo e;
  e.python = true;
  e.type_or_code = "MemoryError";
  e.message = std::string("out of memory while converting ") + what;
  return e;
}

}  // namespace

OwnedRef ToPython(PyContext& ctx, const Value& v, ErrorInfo* error) {
  try {
    if (v.items.empty()) return ToPythonAt(ctx, v, error, nullptr, 0);
    KeyCache keys;
    return ToPythonAt(ctx, v, error, &keys, 0);
  } catch (const std::exception&) {
    *error = OutOfMemory("an argument");
    return OwnedRef();
  }
}

bool ToValue(PyContext& ctx, PyObject* o, Value* out, ErrorInfo* error) {
  uint64_t first_id = ctx.registry.NextId();
  size_t described = ctx.described_types.size();
  bool done = false;
  bool out_of_memory = false;
  try {
    Encoder encoder(ctx);
    done = encoder.Encode(o, out, 0);
  } catch (const std::exception&) {
    out_of_memory = true;
    if (Py().PyErr_Occurred()) Py().PyErr_Clear();
  }
  if (done) return true;
  // Unregister what this conversion registered, and forget the types it
  // described: the JS side never sees either.
  ctx.registry.RemoveFrom(first_id);
  while (ctx.described_types.size() > described) {
    ctx.type_index.erase(ctx.described_types.back().get());
    ctx.described_types.pop_back();
  }
  *error = out_of_memory ? OutOfMemory("the result") : FetchPythonError(ctx);
  *out = Value();
  return false;
}

}  // namespace esem
