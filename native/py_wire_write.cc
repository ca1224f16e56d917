// PyObjects straight to wire bytes (Python -> JS layouts). Exact builtin
// types are written here; every other object goes through
// esem_bridge.ops.plain_form, the one rule both modes share (a proxy, a
// replacement value, a typed array, a date or bytes). Binary payloads of
// kSideThreshold bytes or more are lent to JS beside the bytes (exports),
// not copied. Python thread only (GIL held).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "py_error.h"
#include "py_json.h"
#include "py_wire.h"
#include "wire_buffers.h"
#include "wire_tags.h"

namespace esem {
namespace {

using namespace wire;

constexpr double kMaxSafe = 9007199254740991.0;
constexpr const char* kTooDeep = "the result is nested too deeply to convert (a structure that contains itself?)";

// plain_form's answers (python/esem_bridge/ops.py).
enum PlainKind { kKeep = 0, kReplace = 1, kArray = 2, kAsDate = 3, kAsBytes = 4 };

OwnedRef CallOne(PyObject* fn, PyObject* arg) {
  const PyApi& py = Py();
  OwnedRef args = OwnedRef::Steal(py.PyTuple_New(1));
  if (!args) return args;
  py.PyTuple_SetItem(args.get(), 0, OwnedRef::Borrow(arg).Release());
  return OwnedRef::Steal(py.PyObject_Call(fn, args.get(), nullptr));
}

// The message's bytes: written at `at_`, into room made ahead (the string
// is resized up to kAhead past what is written, and cut back to it when the
// writer ends), so a small write is a copy and a bump; std::string::append
// checked the capacity and kept the terminating NUL at every one (a 10 000-
// record result: ~5 % of its writing in _M_append). The room is zero-filled
// when made, so it stays small, and a large piece (a payload written
// inline) is appended, not copied over zeros: room of half the message
// made that way made 1 000 000 records 15-45 % slower to write, and a
// 16 MiB bytes in a list 70 %.
class Out {
 public:
  explicit Out(std::string* s) : s_(*s), at_(s->size()) {}
  ~Out() { s_.resize(at_); }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  // Where the next n bytes go (call Advance(n) once they are written).
  char* Room(size_t n) {
    if (s_.size() - at_ < n) Grow(n);
    return &s_[at_];
  }
  void Advance(size_t n) { at_ += n; }
  void Put(const void* v, size_t n) {
    if (n >= kAhead) {
      s_.resize(at_);
      s_.append(static_cast<const char*>(v), n);
      at_ += n;
      return;
    }
    std::memcpy(Room(n), v, n);
    at_ += n;
  }
  void Byte(uint8_t v) {
    *Room(1) = static_cast<char>(v);
    at_++;
  }
  size_t size() const { return at_; }
  size_t capacity() const { return s_.capacity(); }
  char* At(size_t pos) { return &s_[pos]; }
  // Room for `size` bytes in all: a large message takes a kept buffer
  // (wire_buffers.h), the largest, since its final size is not known.
  void Reserve(size_t size) {
    if (size <= s_.size()) return;
    if (size >= kKeptFrom) {
      std::string kept = TakeWireBuffer();
      if (kept.capacity() >= size) {
        kept.append(s_, 0, at_);
        s_.swap(kept);
        return;
      }
      KeepWireBuffer(&kept);
    }
    s_.reserve(size);
  }

 private:
  static constexpr size_t kAhead = size_t{1} << 16;

  // kAhead more than needed, zero-filled; the capacity still doubles.
  void Grow(size_t n) {
    size_t want = at_ + n + kAhead;
    if (want > s_.capacity()) s_.reserve(std::max(want, 2 * s_.capacity()));
    s_.resize(want);
  }

  std::string& s_;
  size_t at_;
};

class Writer {
 public:
  // `top`: where a result that is one object goes (as a scalar ref, so JS
  // need not decode bytes for it); nullptr to write it as bytes.
  // `exports` null: every payload inline (the subprocess worker).
  // `described`: where the indices of the types this writer describes go.
  Writer(PyContext& ctx, std::string* out, std::vector<ExportPtr>* exports, Scalar* top, std::vector<uint32_t>* described)
      : ctx_(ctx), py_(Py()), out_(out), exports_(exports), top_(top), described_(*described) {}

  // The ids this writer registered (a failed write removes exactly these:
  // other threads may register meanwhile).
  const std::vector<uint64_t>& registered() const { return registered_; }

  bool Value(PyObject* o, int depth);
  // o as a Ref (or a scalar ref at the top), whatever its type.
  bool RefOf(PyObject* o) { return top_ ? ScalarRef(o) : Ref(o, 1); }

  // Registers o and fills in its type index; `desc` gets describe()'s tuple
  // when JS has not seen the type yet (else stays empty).
  bool Register(PyObject* o, uint64_t* id, uint32_t* type_index, OwnedRef* desc);

 private:
  void U8(uint8_t v) { out_.Byte(v); }
  void Raw(const void* v, size_t n) { out_.Put(v, n); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void F64(double v) { Raw(&v, 8); }
  // A tag and a 4- or 8-byte payload in one write.
  template <typename T>
  void Tagged(uint8_t tag, T v) {
    char* p = out_.Room(1 + sizeof(T));
    p[0] = static_cast<char>(tag);
    std::memcpy(p + 1, &v, sizeof(T));
    out_.Advance(1 + sizeof(T));
  }
  void Text(uint8_t tag, const char* s, size_t n) {
    char* p = out_.Room(5 + n);
    p[0] = static_cast<char>(tag);
    uint32_t len = static_cast<uint32_t>(n);
    std::memcpy(p + 1, &len, 4);
    std::memcpy(p + 5, s, n);
    out_.Advance(5 + n);
  }
  // A container at `depth` with n items: its items are one level deeper.
  bool Room(int depth, Py_ssize_t n) {
    if (depth < kMaxWireDepth || n == 0) return true;
    py_.PyErr_SetString(py_.PyExc_ValueError, kTooDeep);
    return false;
  }
  bool Fits(Py_ssize_t n, const char* what) {
    if (static_cast<uint64_t>(n) < kSideLength) return true;
    py_.PyErr_SetString(py_.PyExc_ValueError, (std::string(what) + " of 4 GiB or more cannot be sent to JS").c_str());
    return false;
  }

  bool Str(PyObject* o);
  bool Key(PyObject* k);
  bool Int(PyObject* o);
  int Leaf(PyObject* o);
  bool Sequence(PyObject* o, bool tuple, int depth);
  bool Packed(PyObject* o, bool tuple, Py_ssize_t n);
  bool Dict(PyObject* o, int depth);
  bool SetItems(PyObject* o, int depth);
  bool Buffer(PyObject* o, uint8_t tag);
  bool Array(PyObject* parts);
  bool Ref(PyObject* o, int depth);
  bool ScalarRef(PyObject* o);
  bool Other(PyObject* o, int depth);

  PyContext& ctx_;
  const PyApi& py_;
  Out out_;
  std::vector<ExportPtr>* exports_;
  Scalar* top_;
  std::vector<uint32_t>& described_;
  std::vector<uint64_t> registered_;
  // The message's key table: by object first, then by text.
  std::unordered_map<PyObject*, uint32_t> key_objects_;
  std::unordered_map<std::string_view, uint32_t> key_texts_;
  std::vector<OwnedRef> key_refs_;  // keeps every key (and its UTF-8 text) alive
  uint32_t next_key_ = 0;
  struct KeySlot {
    PyObject* key = nullptr;
    uint32_t index = 0;
  };
  static constexpr size_t kKeyCacheSize = 64;
  KeySlot key_cache_[kKeyCacheSize];
};

bool Writer::Str(PyObject* o) {
  Py_ssize_t n = 0;
  const char* s = py_.PyUnicode_AsUTF8AndSize(o, &n);
  if (s) {
    if (!Fits(n, "a string")) return false;
    Text(kStr, s, static_cast<size_t>(n));
    return true;
  }
  // Lone surrogates have no UTF-8 form; JS strings can hold them.
  py_.PyErr_Clear();
  OwnedRef b = OwnedRef::Steal(py_.PyUnicode_AsEncodedString(o, "utf-16-le", "surrogatepass"));
  char* data = nullptr;
  if (!b || py_.PyBytes_AsStringAndSize(b.get(), &data, &n) < 0) return false;
  if (!Fits(n, "a string")) return false;
  U8(kStr16);
  U32(static_cast<uint32_t>(n / 2));
  Raw(data, static_cast<size_t>(n));
  return true;
}

bool Writer::Key(PyObject* k) {
  // Records repeat a few key objects: a small cache by address answers
  // most lookups before the hash table (keys stay alive in key_refs_, so an
  // address cannot be reused within the message).
  KeySlot& slot = key_cache_[(reinterpret_cast<uintptr_t>(k) >> 4) % kKeyCacheSize];
  if (slot.key == k) {
    Tagged(kKeyRef, slot.index);
    return true;
  }
  auto found = key_objects_.find(k);
  if (found != key_objects_.end()) {
    slot = {k, found->second};
    Tagged(kKeyRef, found->second);
    return true;
  }
  Py_ssize_t n = 0;
  const char* s = py_.PyUnicode_AsUTF8AndSize(k, &n);
  if (!s) {
    // No UTF-8 form (lone surrogates): sent as Str16, which takes an index
    // like any key sent in full; found again by object only.
    py_.PyErr_Clear();
    key_objects_.emplace(k, next_key_++);
    key_refs_.push_back(OwnedRef::Borrow(k));
    return Str(k);
  }
  std::string_view text(s, static_cast<size_t>(n));
  auto same = key_texts_.find(text);
  if (same != key_texts_.end()) {
    key_objects_.emplace(k, same->second);
    key_refs_.push_back(OwnedRef::Borrow(k));
    Tagged(kKeyRef, same->second);
    return true;
  }
  uint32_t index = next_key_++;
  key_refs_.push_back(OwnedRef::Borrow(k));
  key_objects_.emplace(k, index);
  key_texts_.emplace(text, index);
  if (!Fits(n, "a dict key")) return false;
  Text(kStr, s, static_cast<size_t>(n));
  return true;
}

bool Writer::Int(PyObject* o) {
  int overflow = 0;
  long long n = py_.PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow == 0) {
    if (n == -1 && py_.PyErr_Occurred()) return false;
    Tagged(kInt, static_cast<int64_t>(n));
    return true;
  }
  OwnedRef spec = OwnedRef::Steal(py_.PyUnicode_FromString("x"));
  OwnedRef hex = spec ? OwnedRef::Steal(py_.PyObject_Format(o, spec.get())) : OwnedRef();
  Py_ssize_t len = 0;
  const char* s = hex ? py_.PyUnicode_AsUTF8AndSize(hex.get(), &len) : nullptr;
  if (!s) return false;
  Text(kBigInt, s, static_cast<size_t>(len));
  return true;
}

// The common leaves, written without running any Python code: 1 written,
// 0 not one of them (the caller converts it in full), -1 error.
int Writer::Leaf(PyObject* o) {
  PyObject* t = TypeOf(o);
  if (t == py_.PyLong_Type) {
    int overflow = 0;
    long long n = py_.PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) return 0;
    if (n == -1 && py_.PyErr_Occurred()) return -1;
    Tagged(kInt, static_cast<int64_t>(n));
    return 1;
  }
  if (t == py_.PyUnicode_Type) {
    Py_ssize_t n = 0;
    const char* s = py_.PyUnicode_AsUTF8AndSize(o, &n);
    if (!s) {
      py_.PyErr_Clear();
      return 0;
    }
    if (!Fits(n, "a string")) return -1;
    Text(kStr, s, static_cast<size_t>(n));
    return 1;
  }
  if (t == py_.PyFloat_Type) {
    Tagged(kFloat, py_.PyFloat_AsDouble(o));
    return 1;
  }
  if (o == py_._Py_NoneStruct) {
    U8(kNone);
    return 1;
  }
  if (t == py_.PyBool_Type) {
    Tagged(kBool, static_cast<uint8_t>(o == py_._Py_TrueStruct ? 1 : 0));
    return 1;
  }
  return 0;
}

// The n items of list or tuple `o` as `tag`, u32 n, then each as a T that
// `convert` makes of it; false, with nothing written, at the first item it
// refuses. No Python code runs.
template <typename T, typename Convert>
bool WritePacked(Out& out, const PyApi& py, uint8_t tag, PyObject* o, bool tuple, Py_ssize_t n, Convert convert) {
  size_t total = 5 + sizeof(T) * static_cast<size_t>(n);
  char* p = out.Room(total);
  p[0] = static_cast<char>(tag);
  uint32_t count = static_cast<uint32_t>(n);
  std::memcpy(p + 1, &count, 4);
  p += 5;
  for (Py_ssize_t i = 0; i < n; i++, p += sizeof(T)) {
    PyObject* item = tuple ? py.PyTuple_GetItem(o, i) : py.PyList_GetItem(o, i);
    T v;
    if (!item || !convert(item, &v)) return false;  // nothing advanced: nothing written
    std::memcpy(p, &v, sizeof(T));  // little-endian hosts only, as the rest of the format
  }
  out.Advance(total);
  return true;
}

// A list or tuple of at least kPackedMin exact ints within int32 (an
// IntList) or exact floats (a FloatList), chosen by its first item; false,
// with nothing written, otherwise.
bool Writer::Packed(PyObject* o, bool tuple, Py_ssize_t n) {
  PyObject* first = tuple ? py_.PyTuple_GetItem(o, 0) : py_.PyList_GetItem(o, 0);
  if (!first) return false;
  const PyApi& py = py_;
  if (TypeOf(first) == py.PyLong_Type) {
    return WritePacked<int32_t>(out_, py, kIntList, o, tuple, n, [&py](PyObject* x, int32_t* v) {
      if (TypeOf(x) != py.PyLong_Type) return false;
      int overflow = 0;
      long long i = py.PyLong_AsLongLongAndOverflow(x, &overflow);
      if (overflow || i < INT32_MIN || i > INT32_MAX) return false;
      *v = static_cast<int32_t>(i);
      return true;
    });
  }
  if (TypeOf(first) == py.PyFloat_Type) {
    return WritePacked<double>(out_, py, kFloatList, o, tuple, n, [&py](PyObject* x, double* v) {
      if (TypeOf(x) != py.PyFloat_Type) return false;
      *v = py.PyFloat_AsDouble(x);
      return true;
    });
  }
  return false;  // most lists: no room made for nothing
}

bool Writer::Sequence(PyObject* o, bool tuple, int depth) {
  Py_ssize_t n = tuple ? py_.PyTuple_Size(o) : py_.PyList_Size(o);
  if (n < 0 || !Fits(n, "a list") || !Room(depth, n)) return false;
  if (static_cast<size_t>(n) >= kPackedMin && Packed(o, tuple, n)) return true;
  U8(kList);
  size_t count_at = out_.size();
  U32(static_cast<uint32_t>(n));
  if (out_.capacity() - out_.size() < static_cast<size_t>(n) * 9) out_.Reserve(out_.size() + static_cast<size_t>(n) * 9);
  Py_ssize_t written = 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    // A list can shrink while a nested conversion runs Python code.
    PyObject* item = tuple ? py_.PyTuple_GetItem(o, i) : py_.PyList_GetItem(o, i);
    if (!item) {
      if (tuple) return false;
      py_.PyErr_Clear();
      break;
    }
    int leaf = Leaf(item);
    if (leaf < 0) return false;
    if (leaf == 0) {
      OwnedRef hold = OwnedRef::Borrow(item);  // Python code may run below: keep the item alive
      if (!Value(hold.get(), depth + 1)) return false;
    }
    written++;
  }
  uint32_t count = static_cast<uint32_t>(written);
  std::memcpy(out_.At(count_at), &count, 4);
  return true;
}

bool Writer::Dict(PyObject* o, int depth) {
  Py_ssize_t n = py_.PyDict_Size(o);
  if (n < 0 || !Fits(n, "a dict") || !Room(depth, n)) return false;
  // Str keys (str and its subclasses) only: a plain object; else a Map.
  bool all_str = true;
  Py_ssize_t pos = 0;
  PyObject *k = nullptr, *v = nullptr;
  while (all_str && py_.PyDict_Next(o, &pos, &k, &v)) {
    PyObject* t = TypeOf(k);
    all_str = t == py_.PyUnicode_Type || (py_.PyType_GetFlags(t) & kTpFlagsUnicodeSubclass);
  }
  U8(all_str ? kDict : kMap);
  U32(static_cast<uint32_t>(n));
  pos = 0;
  Py_ssize_t written = 0;
  while (py_.PyDict_Next(o, &pos, &k, &v)) {
    if (written == n) {
      py_.PyErr_SetString(py_.PyExc_RuntimeError, "dictionary changed size during conversion");
      return false;
    }
    // Held only where Python code may run (a nested conversion): Key()
    // and Leaf() run none (a key that needs its Str16 form is held by
    // Key() first), so the dict cannot drop them meanwhile.
    OwnedRef held;
    if (all_str) {
      if (!Key(k)) return false;
    } else {
      OwnedRef hk = OwnedRef::Borrow(k);
      held = OwnedRef::Borrow(v);
      if (!Value(hk.get(), depth + 1)) return false;
    }
    int leaf = Leaf(v);
    if (leaf < 0) return false;
    if (leaf == 0) {
      if (!held) held = OwnedRef::Borrow(v);
      if (!Value(held.get(), depth + 1)) return false;
    }
    written++;
  }
  if (written != n) {
    py_.PyErr_SetString(py_.PyExc_RuntimeError, "dictionary changed size during conversion");
    return false;
  }
  return true;
}

bool Writer::SetItems(PyObject* o, int depth) {
  OwnedRef it = OwnedRef::Steal(py_.PyObject_GetIter(o));
  if (!it) return false;
  U8(kSet);
  size_t count_at = out_.size();
  U32(0);
  uint32_t n = 0;
  while (true) {
    OwnedRef item = OwnedRef::Steal(py_.PyIter_Next(it.get()));
    if (!item) {
      if (py_.PyErr_Occurred()) return false;
      break;
    }
    if (n == 0 && !Room(depth, 1)) return false;
    if (!Value(item.get(), depth + 1)) return false;
    n++;
  }
  std::memcpy(out_.At(count_at), &n, 4);
  return true;
}

// A buffer's bytes: inline when small, else lent to JS (the tag's payload
// says which). `tag` is kBytes, or 0 for the data of an array (its header
// already written).
bool Writer::Buffer(PyObject* o, uint8_t tag) {
  ExportPtr e(new BufferExport());
  // Writable where Python allows it (a bytearray, a writable ndarray), so
  // JS and Python share one memory; else read-only.
  if (py_.PyObject_GetBuffer(o, &e->view, kPyBufWritable) == 0) {
    e->writable = true;
  } else {
    py_.PyErr_Clear();
    if (py_.PyObject_GetBuffer(o, &e->view, kPyBufSimple) < 0) {
      e.release();  // nothing to release
      return false;
    }
  }
  if (tag) U8(tag);
  size_t n = static_cast<size_t>(e->view.len);
  if (n < kSideThreshold || !exports_) {
    if (!Fits(static_cast<Py_ssize_t>(n), "a byte string")) {
      py_.PyBuffer_Release(&e->view);
      e.release();
      return false;
    }
    U32(static_cast<uint32_t>(n));
    Raw(e->view.buf, n);
    py_.PyBuffer_Release(&e->view);
    e.reset();
    return true;
  }
  U32(kSideLength);
  U32(static_cast<uint32_t>(exports_->size()));
  exports_->push_back(std::move(e));
  return true;
}

// plain_form's (buffer, code, dtype, shape): tag NdArray.
bool Writer::Array(PyObject* parts) {
  if (TypeOf(parts) != py_.PyTuple_Type || py_.PyTuple_Size(parts) != 4) {
    py_.PyErr_SetString(py_.PyExc_TypeError, "esem_bridge.ops.plain_form returned a bad array");
    return false;
  }
  PyObject* code = py_.PyTuple_GetItem(parts, 1);
  PyObject* dtype = py_.PyTuple_GetItem(parts, 2);
  PyObject* shape = py_.PyTuple_GetItem(parts, 3);
  if (TypeOf(code) != py_.PyUnicode_Type || TypeOf(dtype) != py_.PyUnicode_Type || TypeOf(shape) != py_.PyTuple_Type) {
    py_.PyErr_SetString(py_.PyExc_TypeError, "esem_bridge.ops.plain_form returned a bad array");
    return false;
  }
  U8(kNdArray);
  if (!Str(code) || !Str(dtype)) return false;
  Py_ssize_t ndim = py_.PyTuple_Size(shape);
  U32(static_cast<uint32_t>(ndim));
  for (Py_ssize_t i = 0; i < ndim; i++) {
    int overflow = 0;
    long long d = py_.PyLong_AsLongLongAndOverflow(py_.PyTuple_GetItem(shape, i), &overflow);
    if ((d == -1 && py_.PyErr_Occurred()) || overflow) return false;
    F64(static_cast<double>(d));
  }
  return Buffer(py_.PyTuple_GetItem(parts, 0), 0);
}

bool Writer::Register(PyObject* o, uint64_t* id, uint32_t* type_index, OwnedRef* desc) {
  PyObject* t = TypeOf(o);
  auto found = ctx_.type_index.find(t);
  *type_index = found != ctx_.type_index.end() ? found->second : 0;
  // Described once per message: by a delivered one (committed) or earlier in this one.
  bool known = *type_index != 0 && (ctx_.type_committed[*type_index - 1] ||
                                    std::find(described_.begin(), described_.end(), *type_index) != described_.end());
  if (!known) {
    // describe() runs Python: another thread may describe the type meanwhile
    // (then it has two indices, both valid).
    *desc = CallOne(ctx_.describe.get(), o);
    if (!*desc) return false;
    if (TypeOf(desc->get()) != py_.PyTuple_Type || py_.PyTuple_Size(desc->get()) != 8) {
      py_.PyErr_SetString(py_.PyExc_TypeError, "esem_bridge.ops.describe returned a bad description");
      return false;
    }
    if (*type_index == 0 && py_.PyTuple_GetItem(desc->get(), 0) == py_._Py_TrueStruct) {
      ctx_.described_types.push_back(OwnedRef::Borrow(t));
      ctx_.type_committed.push_back(0);
      *type_index = static_cast<uint32_t>(ctx_.described_types.size());
      ctx_.type_index.emplace(t, *type_index);
    }
    if (*type_index != 0) described_.push_back(*type_index);
  }
  *id = ctx_.registry.Add(OwnedRef::Borrow(o));
  registered_.push_back(*id);
  return true;
}

bool Writer::Ref(PyObject* o, int depth) {
  if (depth == 0 && top_) return ScalarRef(o);
  uint64_t id;
  uint32_t type_index;
  OwnedRef desc;
  if (!Register(o, &id, &type_index, &desc)) return false;
  U8(kRef);
  F64(static_cast<double>(id));
  U32(type_index);
  U8(desc ? 1 : 0);
  if (!desc) return true;
  PyObject* d = desc.get();
  PyObject* members = py_.PyTuple_GetItem(d, 3);
  if (!Str(py_.PyTuple_GetItem(d, 1)) || !Str(py_.PyTuple_GetItem(d, 2))) return false;
  Py_ssize_t m = py_.PyTuple_Size(members);
  if (m < 0) return false;
  U32(static_cast<uint32_t>(m));
  for (Py_ssize_t i = 0; i < m; i++) {
    if (!Str(py_.PyTuple_GetItem(members, i))) return false;
  }
  for (Py_ssize_t i = 4; i <= 6; i++) U8(py_.PyTuple_GetItem(d, i) == py_._Py_TrueStruct ? 1 : 0);
  // The bitmap of members that are methods (ops.describe): (m + 7) / 8 bytes.
  PyObject* callables = py_.PyTuple_GetItem(d, 7);
  char* bits = nullptr;
  Py_ssize_t n = 0;
  if (TypeOf(callables) != py_.PyBytes_Type || py_.PyBytes_AsStringAndSize(callables, &bits, &n) < 0 || n != (m + 7) / 8) {
    if (!py_.PyErr_Occurred()) py_.PyErr_SetString(py_.PyExc_TypeError, "esem_bridge.ops.describe returned a bad description");
    return false;
  }
  Raw(bits, static_cast<size_t>(n));
  return true;
}

bool Text8(const PyApi& py, PyObject* o, std::string* out) {
  Py_ssize_t n = 0;
  const char* s = py.PyUnicode_AsUTF8AndSize(o, &n);
  if (!s) return false;
  out->assign(s, static_cast<size_t>(n));
  return true;
}

bool Writer::ScalarRef(PyObject* o) {
  OwnedRef desc;
  top_->kind = Scalar::Kind::kRef;
  if (!Register(o, &top_->ref, &top_->type_index, &desc)) return false;
  if (!desc) return true;
  auto d = std::make_unique<RefDescription>();
  PyObject* t = desc.get();
  if (!Text8(py_, py_.PyTuple_GetItem(t, 1), &d->kind) || !Text8(py_, py_.PyTuple_GetItem(t, 2), &d->type_name)) {
    return false;
  }
  PyObject* members = py_.PyTuple_GetItem(t, 3);
  Py_ssize_t m = py_.PyTuple_Size(members);
  if (m < 0) return false;
  d->members.resize(static_cast<size_t>(m));
  for (Py_ssize_t i = 0; i < m; i++) {
    if (!Text8(py_, py_.PyTuple_GetItem(members, i), &d->members[static_cast<size_t>(i)])) return false;
  }
  d->has_release = py_.PyTuple_GetItem(t, 4) == py_._Py_TrueStruct;
  d->callable = py_.PyTuple_GetItem(t, 5) == py_._Py_TrueStruct;
  d->iterable = py_.PyTuple_GetItem(t, 6) == py_._Py_TrueStruct;
  char* bits = nullptr;
  Py_ssize_t n = 0;
  PyObject* callables = py_.PyTuple_GetItem(t, 7);
  if (TypeOf(callables) != py_.PyBytes_Type || py_.PyBytes_AsStringAndSize(callables, &bits, &n) < 0 || n != (m + 7) / 8) {
    if (!py_.PyErr_Occurred()) py_.PyErr_SetString(py_.PyExc_TypeError, "esem_bridge.ops.describe returned a bad description");
    return false;
  }
  d->callables.resize(static_cast<size_t>(m));
  for (Py_ssize_t i = 0; i < m; i++) d->callables[static_cast<size_t>(i)] = (static_cast<uint8_t>(bits[i >> 3]) >> (i & 7)) & 1;
  top_->desc = std::move(d);
  return true;
}

bool Writer::Other(PyObject* o, int depth) {
  PyObject* t = TypeOf(o);
  if (t == py_.PyModule_Type || ctx_.proxy_types.count(t)) return Ref(o, depth);
  if (t == ctx_.js_function_type.get()) {
    // One of this bridge's JS functions goes back as itself; another
    // bridge's is a Python object like any other.
    OwnedRef table = OwnedRef::Steal(py_.PyObject_GetAttrString(o, "_table"));
    if (!table) return false;
    if (table.get() == ctx_.callbacks.get()) {
      OwnedRef id = OwnedRef::Steal(py_.PyObject_GetAttrString(o, "_id"));
      if (!id) return false;
      int overflow = 0;
      long long v = py_.PyLong_AsLongLongAndOverflow(id.get(), &overflow);
      if (v == -1 && py_.PyErr_Occurred()) return false;
      U8(kJsFunction);
      F64(static_cast<double>(v));
      return true;
    }
    return Ref(o, depth);
  }
  OwnedRef answer = CallOne(ctx_.plain_form.get(), o);
  if (!answer) return false;
  if (TypeOf(answer.get()) != py_.PyTuple_Type || py_.PyTuple_Size(answer.get()) != 2) {
    py_.PyErr_SetString(py_.PyExc_TypeError, "esem_bridge.ops.plain_form returned a bad answer");
    return false;
  }
  int overflow = 0;
  long long kind = py_.PyLong_AsLongLongAndOverflow(py_.PyTuple_GetItem(answer.get(), 0), &overflow);
  PyObject* value = py_.PyTuple_GetItem(answer.get(), 1);
  switch (kind) {
    case kKeep:
      if (value == py_._Py_TrueStruct && ctx_.proxy_types.size() < 4096) {
        ctx_.proxy_types.emplace(t, OwnedRef::Borrow(t));
      }
      return Ref(o, depth);
    case kReplace:
      if (value == o) return Ref(o, depth);  // a rule that gives the object back: keep it
      return Value(value, depth + 1);
    case kArray:
      return Array(value);
    case kAsDate: {
      double ms = py_.PyFloat_AsDouble(value);
      if (ms == -1.0 && py_.PyErr_Occurred()) return false;
      U8(kDate);
      F64(ms);
      return true;
    }
    case kAsBytes:
      return Buffer(value, kBytes);
  }
  if (!py_.PyErr_Occurred()) py_.PyErr_SetString(py_.PyExc_TypeError, "esem_bridge.ops.plain_form returned a bad kind");
  return false;
}

bool Writer::Value(PyObject* o, int depth) {
  if (depth > kMaxWireDepth + 1) {  // a guard for chains of plain_form replacements
    py_.PyErr_SetString(py_.PyExc_ValueError, kTooDeep);
    return false;
  }
  int leaf = Leaf(o);  // None, bool, an int that fits in i64, float, str with a UTF-8 form
  if (leaf != 0) return leaf > 0;
  PyObject* t = TypeOf(o);
  if (t == py_.PyLong_Type) return Int(o);      // a bigint
  if (t == py_.PyUnicode_Type) return Str(o);   // lone surrogates: Str16
  if (t == py_.PyList_Type) return Sequence(o, false, depth);
  if (t == py_.PyTuple_Type) return Sequence(o, true, depth);
  if (t == py_.PyDict_Type) return Dict(o, depth);
  if (t == py_.PyBytes_Type || t == py_.PyByteArray_Type) return Buffer(o, kBytes);
  if (t == py_.PySet_Type || t == py_.PyFrozenSet_Type) return SetItems(o, depth);
  // Subclasses of the builtins convert by their contents, read through the
  // C-API (no method of theirs runs: a hostile keys() or __iter__ is never
  // called), except named tuples, which plain_form keeps as proxies.
  unsigned long flags = py_.PyType_GetFlags(t);
  if (flags & kTpFlagsLongSubclass) return Int(o);  // IntEnum, IntFlag: their value
  if (flags & kTpFlagsUnicodeSubclass) return Str(o);  // StrEnum too
  if (flags & kTpFlagsListSubclass) return Sequence(o, false, depth);
  if (flags & kTpFlagsDictSubclass) return Dict(o, depth);
  if (flags & kTpFlagsBytesSubclass) return Buffer(o, kBytes);
  if (flags & kTpFlagsTupleSubclass) {
    if (!py_.PyObject_HasAttrString(t, "_fields")) return Sequence(o, true, depth);
  } else if (py_.PyType_IsSubtype(t, py_.PyFloat_Type)) {
    double f = py_.PyFloat_AsDouble(o);
    if (f == -1.0 && py_.PyErr_Occurred()) return false;
    U8(kFloat);
    F64(f);
    return true;
  } else if (py_.PyType_IsSubtype(t, py_.PySet_Type) || py_.PyType_IsSubtype(t, py_.PyFrozenSet_Type)) {
    return SetItems(o, depth);
  }
  return Other(o, depth);
}

// Only std::bad_alloc can be thrown here (std::string and the maps); it
// becomes the call's MemoryError and never leaves the Python thread.
ErrorInfo OutOfMemory() {
  ErrorInfo e;
  e.python = true;
  e.type_or_code = "MemoryError";
  e.message = "out of memory while converting the result";
  return e;
}

bool SafeInt(const PyApi& py, PyObject* o, int64_t* out) {
  int overflow = 0;
  long long n = py.PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow || (n == -1 && py.PyErr_Occurred())) {
    py.PyErr_Clear();
    return false;
  }
  if (static_cast<double>(n) > kMaxSafe || static_cast<double>(n) < -kMaxSafe) return false;
  *out = n;
  return true;
}

// The scalar form of a result, when it has one: None, bool, an int JS holds
// as a number, a float, a str with a UTF-8 form.
bool AsScalar(PyObject* o, Scalar* out) {
  const PyApi& py = Py();
  PyObject* t = TypeOf(o);
  if (o == py._Py_NoneStruct) {
    out->kind = Scalar::Kind::kNone;
  } else if (t == py.PyBool_Type) {
    out->kind = Scalar::Kind::kBool;
    out->b = o == py._Py_TrueStruct;
  } else if (t == py.PyLong_Type) {
    if (!SafeInt(py, o, &out->i)) return false;
    out->kind = Scalar::Kind::kInt;
  } else if (t == py.PyFloat_Type) {
    out->kind = Scalar::Kind::kFloat;
    out->f = py.PyFloat_AsDouble(o);
  } else if (t == py.PyUnicode_Type) {
    Py_ssize_t n = 0;
    const char* s = py.PyUnicode_AsUTF8AndSize(o, &n);
    if (!s) {
      py.PyErr_Clear();
      return false;
    }
    out->kind = Scalar::Kind::kStr;
    out->s.assign(s, static_cast<size_t>(n));
  } else {
    return false;
  }
  return true;
}

// Unregisters what a failed conversion registered: the JS side never sees
// it. (Types it described stay uncommitted: described again next time.)
void Rollback(PyContext& ctx, const std::vector<uint64_t>& ids) {
  for (uint64_t id : ids) ctx.registry.Remove(id);
}

}  // namespace

// The cold lane (native/py_json.h): a plain list, tuple or dict as JSON
// text, when all of it has a JSON form; else nothing written.
static bool WriteJsonResult(PyObject* o, Job* job) {
  bool ascii = false;
  // Past the limit the JS thread closes the lane (Bridge::Drain).
  if (!WriteJsonContainer(o, job->json_limit, &job->result_wire, &ascii, &job->json_overflow)) return false;
  job->result_json = true;
  job->result_ascii = ascii;
  return true;
}

bool WriteResult(PyContext& ctx, PyObject* o, Job* job, ErrorInfo* error) {
  bool as_ref = job->keep_result && o != Py()._Py_NoneStruct;
  if (!as_ref && AsScalar(o, &job->result)) return true;
  if (!as_ref && job->json_limit && WriteJsonResult(o, job)) return true;
  bool done = false;
  bool out_of_memory = false;
  std::vector<uint64_t> registered;
  try {
    Writer writer(ctx, &job->result_wire, &job->exports, &job->result, &job->described);
    done = as_ref ? writer.RefOf(o) : writer.Value(o, 0);
    if (!done) registered = writer.registered();
  } catch (const std::exception&) {
    out_of_memory = true;
    if (Py().PyErr_Occurred()) Py().PyErr_Clear();
  }
  if (done) return true;
  Rollback(ctx, registered);
  *error = out_of_memory ? OutOfMemory() : FetchPythonError(ctx);
  job->result = Scalar();
  job->result_wire.clear();
  job->exports.clear();
  job->described.clear();
  return false;
}

bool WriteForJs(PyContext& ctx, PyObject* o, Job* job) {
  bool done = false;
  std::vector<uint64_t> registered;
  try {
    Writer writer(ctx, &job->result_wire, &job->exports, nullptr, &job->described);
    done = writer.Value(o, 0);
    if (!done) registered = writer.registered();
  } catch (const std::exception&) {
    Py().PyErr_SetString(Py().PyExc_MemoryError, "out of memory while converting a callback's arguments");
  }
  if (done) return true;
  Rollback(ctx, registered);
  job->result_wire.clear();
  job->exports.clear();
  job->described.clear();
  return false;
}

bool WriteValue(PyContext& ctx, PyObject* o, std::string* out, bool as_ref) {
  size_t start = out->size();
  bool done = false;
  std::vector<uint32_t> described;
  std::vector<uint64_t> registered;
  try {
    Writer writer(ctx, out, nullptr, nullptr, &described);
    done = as_ref ? writer.RefOf(o) : writer.Value(o, 0);
    if (!done) registered = writer.registered();
  } catch (const std::exception&) {
    Py().PyErr_SetString(Py().PyExc_MemoryError, "out of memory while converting the result");
  }
  if (done) {
    ctx.CommitTypes(described);  // the worker sends its replies in the order it writes them
    return true;
  }
  Rollback(ctx, registered);
  out->resize(start);
  return false;
}

}  // namespace esem
