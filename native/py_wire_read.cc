// Wire bytes (JS -> Python layouts) straight to PyObjects. Every length and
// count is checked against the bytes left before anything is allocated or
// read: a count of n items needs n * (smallest item) bytes, so no input can
// make this allocate more than a small multiple of its own size. Nothing
// here throws; failures are ErrorInfo. Python thread only (GIL held).
#include <cstring>
#include <string>
#include <vector>

#include "channel.h"
#include "copy_large.h"
#include "py_error.h"
#include "py_js_buffer.h"
#include "py_json.h"
#include "py_wire.h"
#include "wire_tags.h"

namespace esem {
namespace {

using namespace wire;

constexpr size_t kMinValue = 1;  // the fewest bytes a value takes (None)
constexpr size_t kMinStr = 5;    // a string: tag and length

class Reader {
 public:
  Reader(PyContext& ctx, const char* data, size_t size, const std::vector<SideBuffer>& side,
         std::shared_ptr<RefReturn> returns = nullptr)
      : ctx_(ctx), py_(Py()), begin_(data), p_(data), end_(data + size), side_(side), returns_(std::move(returns)) {}
  Reader(PyContext& ctx, const Job& job)
      : Reader(ctx, job.WireData(), job.WireSize(), job.side, job.channel ? job.channel->returns : nullptr) {}

  OwnedRef Value(int depth);
  bool AtEnd() const { return p_ == end_; }
  // Why the last read failed, for a caller that raises it in Python:
  // malformed bytes or a released proxy (with *message), or 0: a Python
  // error is set.
  const char* FailureCode(std::string* message) const {
    if (released_) {
      *message = "a proxy passed as an argument was released; its Python object is gone";
      return "ESEM_RELEASED";
    }
    if (!bad_.empty()) {
      *message = "malformed wire data: " + bad_;
      return "ESEM_INTERNAL";
    }
    return nullptr;
  }
  // After a failed read: malformed bytes, or the Python error of a build step.
  ErrorInfo TakeError() {
    std::string message;
    const char* code = FailureCode(&message);
    return code ? BridgeFailure(code, message) : FetchPythonError(ctx_);
  }
  [[gnu::noinline, gnu::cold]] OwnedRef Bad(const std::string& what) {
    if (bad_.empty()) bad_ = what;
    return OwnedRef();
  }

 private:
  size_t Offset() const { return static_cast<size_t>(p_ - begin_); }
  // Whether a container at `depth` may hold items: the documented 256
  // levels (enforced by the writers), plus the level of a call's argument
  // list, which src/codec.ts does not count.
  static bool Deep(int depth) { return depth > kMaxWireDepth; }
  size_t Left() const { return static_cast<size_t>(end_ - p_); }
  std::string At() const { return " at byte " + std::to_string(Offset()); }

  bool Need(size_t n, const char* what) {
    if (__builtin_expect(Left() >= n, 1)) return true;
    return Short(n, what);
  }
  // The failure paths, out of the hot loop.
  [[gnu::noinline, gnu::cold]] bool Short(size_t n, const char* what) {
    Bad(std::string(what) + At() + " needs " + std::to_string(n) + (n == 1 ? " byte, " : " bytes, ") +
        std::to_string(Left()) + " left");
    return false;
  }
  [[gnu::noinline, gnu::cold]] OwnedRef TooDeep() {
    return Bad("nested more than " + std::to_string(kMaxWireDepth) + " levels deep");
  }
  [[gnu::noinline, gnu::cold]] OwnedRef UnknownTag(uint8_t tag) {
    return Bad("unknown tag " + std::to_string(tag) + " at byte " + std::to_string(Offset() - 1));
  }
  bool U8(uint8_t* v) {
    if (!Need(1, "a value")) return false;
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool Raw(void* v, size_t n) {
    if (!Need(n, "a number")) return false;
    std::memcpy(v, p_, n);  // little-endian hosts only (x64, arm64)
    p_ += n;
    return true;
  }
  bool U32(uint32_t* v) { return Raw(v, 4); }
  // A count of n entries of at least min_entry bytes each.
  bool Count(uint32_t* n, uint64_t min_entry) {
    if (!U32(n)) return false;
    if (__builtin_expect(static_cast<uint64_t>(*n) * min_entry > Left(), 0)) return Overcount(*n);
    return true;
  }
  [[gnu::noinline, gnu::cold]] bool Overcount(uint32_t n) {
    Bad("a count of " + std::to_string(n) + " at byte " + std::to_string(Offset() - 4) + " is more than the " +
        std::to_string(Left()) + " bytes left can hold");
    return false;
  }
  // A string's bytes (u32 n, n bytes), not copied.
  bool Text(const char** data, size_t* size) {
    uint32_t n;
    if (!U32(&n) || !Need(n, "a string")) return false;
    *data = p_;
    *size = n;
    p_ += n;
    return true;
  }
  // A binary payload: inline (u32 n, n bytes) or beside (kSideLength, u32
  // index); `*shared`, when given, is set to the side buffer if shared().
  bool Payload(const char** data, size_t* size, const SideBuffer** shared = nullptr) {
    if (shared) *shared = nullptr;
    uint32_t n;
    if (!U32(&n)) return false;
    if (n != kSideLength) {
      if (!Need(n, "a string")) return false;
      *data = p_;
      *size = n;
      p_ += n;
      return true;
    }
    uint32_t index;
    if (!U32(&index)) return false;
    if (index >= side_.size()) {
      Bad("side buffer " + std::to_string(index) + At() + " of " + std::to_string(side_.size()));
      return false;
    }
    *data = side_[index].data;
    *size = side_[index].size;
    if (shared && side_[index].hold) *shared = &side_[index];
    return true;
  }
  // A memoryview over a shared() JS buffer, with `format` and `shape`
  // (or its size in items when shape is empty).
  OwnedRef Shared(const SideBuffer& side, char format, std::vector<Py_ssize_t> shape);
  // A bytes (or bytearray) copy of a payload: one CopyLarge into the new
  // object. (PEP 782 soft-deprecates PyBytes_FromStringAndSize(NULL, n) in
  // 3.15 for PyBytesWriter: still maintained, no warning, no removal set.)
  OwnedRef BytesOf(const char* data, size_t size) {
    OwnedRef b = OwnedRef::Steal(py_.PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size)));
    char* to = nullptr;
    Py_ssize_t n = 0;
    if (b && py_.PyBytes_AsStringAndSize(b.get(), &to, &n) == 0) CopyLarge(to, data, size);
    return b;
  }
  OwnedRef ByteArrayOf(const char* data, size_t size) {
    OwnedRef b = OwnedRef::Steal(py_.PyByteArray_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size)));
    if (b && size) CopyLarge(py_.PyByteArray_AsString(b.get()), data, size);
    return b;
  }

  OwnedRef Str(uint8_t tag);
  // A dict key, borrowed from the message's key table (which holds it until the reader ends).
  PyObject* Key();
  OwnedRef BigInt();
  OwnedRef Items(uint8_t tag, int depth);
  OwnedRef Packed(uint8_t tag, int depth);
  OwnedRef Dict(int depth);
  OwnedRef Map(int depth);
  OwnedRef Ref(int depth);
  OwnedRef JsFunction();
  OwnedRef Json();
  OwnedRef Typed();
  OwnedRef NdArray();
  OwnedRef Call2(PyObject* fn, OwnedRef a, OwnedRef b);

  PyContext& ctx_;
  const PyApi& py_;
  const char* begin_;
  const char* p_;
  const char* end_;
  const std::vector<SideBuffer>& side_;
  std::shared_ptr<RefReturn> returns_;  // where shared() refs go back to
  std::vector<OwnedRef> keys_;  // the message's key table
  std::string bad_;
  bool released_ = false;  // a Ref named an id the registry no longer has
};

// JSON text of one value (the cold lane of the subprocess mode).
OwnedRef Reader::Json() {
  uint32_t n;
  if (!U32(&n) || !Need(n, "JSON text")) return OwnedRef();
  std::string bad;
  OwnedRef value = ReadJsonValue(p_, n, &bad);
  if (!value) return bad.empty() ? OwnedRef() : Bad("malformed JSON text" + At() + ": " + bad);
  p_ += n;
  return value;
}

OwnedRef Reader::Str(uint8_t tag) {
  if (tag == kStr) {
    const char* s;
    size_t n;
    if (!Text(&s, &n)) return OwnedRef();
    return OwnedRef::Steal(py_.PyUnicode_FromStringAndSize(s, static_cast<Py_ssize_t>(n)));
  }
  uint32_t units;
  if (!U32(&units) || !Need(static_cast<size_t>(units) * 2, "a UTF-16 string")) return OwnedRef();
  int byteorder = -1;  // little-endian
  const char* s = p_;
  p_ += static_cast<size_t>(units) * 2;
  return OwnedRef::Steal(py_.PyUnicode_DecodeUTF16(s, static_cast<Py_ssize_t>(units) * 2, "surrogatepass", &byteorder));
}

PyObject* Reader::Key() {
  uint8_t tag;
  if (!U8(&tag)) return nullptr;
  if (tag == kKeyRef) {
    size_t at = Offset() - 1;
    uint32_t i;
    if (!U32(&i)) return nullptr;
    if (i >= keys_.size()) {
      Bad("key reference " + std::to_string(i) + " at byte " + std::to_string(at) + " names none of the " +
          std::to_string(keys_.size()) + " keys read so far");
      return nullptr;
    }
    return keys_[i].get();
  }
  if (tag != kStr && tag != kStr16) {
    Bad("a dict key" + At() + " that is not a string");
    return nullptr;
  }
  OwnedRef key = Str(tag);
  if (!key) return nullptr;
  keys_.push_back(std::move(key));
  return keys_.back().get();
}

OwnedRef Reader::BigInt() {
  const char* s;
  size_t n;
  size_t at = Offset() - 1;
  if (!Text(&s, &n)) return OwnedRef();
  // What src/codec.ts writes: an optional '-', then lower-case hex digits
  // (PyLong_FromString would stop at a NUL, and take spaces or '_').
  size_t i = n > 0 && s[0] == '-' ? 1 : 0;
  bool ok = i < n;
  for (size_t j = i; j < n && ok; j++) ok = (s[j] >= '0' && s[j] <= '9') || (s[j] >= 'a' && s[j] <= 'f');
  if (!ok) return Bad("a bigint at byte " + std::to_string(at) + " that is not hex digits");
  std::string text(s, n);
  return OwnedRef::Steal(py_.PyLong_FromString(text.c_str(), nullptr, 16));
}

// An IntList (i32 items) or a FloatList (f64 items) as a list.
OwnedRef Reader::Packed(uint8_t tag, int depth) {
  size_t width = tag == kIntList ? 4 : 8;
  uint32_t n;
  if (!Count(&n, width)) return OwnedRef();
  if (n && Deep(depth)) return TooDeep();
  OwnedRef list = OwnedRef::Steal(py_.PyList_New(n));
  if (!list) return list;
  for (uint32_t i = 0; i < n; i++, p_ += width) {
    // In bounds: Count checked n items' bytes (little-endian hosts, as Raw).
    PyObject* item;
    if (tag == kIntList) {
      int32_t v;
      std::memcpy(&v, p_, 4);
      item = py_.PyLong_FromLongLong(v);
    } else {
      double v;
      std::memcpy(&v, p_, 8);
      item = py_.PyFloat_FromDouble(v);
    }
    if (!item) return OwnedRef();
    py_.PyList_SetItem(list.get(), i, item);  // steals
  }
  return list;
}

OwnedRef Reader::Items(uint8_t tag, int depth) {
  uint32_t n;
  if (!Count(&n, kMinValue)) return OwnedRef();
  if (n && Deep(depth)) return TooDeep();
  if (tag == kList) {
    OwnedRef list = OwnedRef::Steal(py_.PyList_New(n));
    if (!list) return list;
    for (uint32_t i = 0; i < n; i++) {
      OwnedRef item = Value(depth + 1);
      if (!item) return item;
      py_.PyList_SetItem(list.get(), i, item.Release());  // steals
    }
    return list;
  }
  OwnedRef set = OwnedRef::Steal(py_.PySet_New(nullptr));
  if (!set) return set;
  for (uint32_t i = 0; i < n; i++) {
    OwnedRef item = Value(depth + 1);
    if (!item || py_.PySet_Add(set.get(), item.get()) < 0) return OwnedRef();
  }
  return set;
}

OwnedRef Reader::Dict(int depth) {
  uint32_t n;
  if (!Count(&n, kMinStr + kMinValue)) return OwnedRef();  // a key (Str or KeyRef) and a value
  if (n && Deep(depth)) return TooDeep();
  OwnedRef dict = OwnedRef::Steal(py_.PyDict_New());
  if (!dict) return dict;
  for (uint32_t i = 0; i < n; i++) {
    PyObject* key = Key();  // held by the key table
    if (!key) return OwnedRef();
    OwnedRef value = Value(depth + 1);
    if (!value || py_.PyDict_SetItem(dict.get(), key, value.get()) < 0) return OwnedRef();
  }
  return dict;
}

OwnedRef Reader::Map(int depth) {
  uint32_t n;
  if (!Count(&n, 2 * kMinValue)) return OwnedRef();
  if (n && Deep(depth)) return TooDeep();
  OwnedRef dict = OwnedRef::Steal(py_.PyDict_New());
  if (!dict) return dict;
  for (uint32_t i = 0; i < n; i++) {
    OwnedRef key = Value(depth + 1);
    if (!key) return key;
    OwnedRef value = Value(depth + 1);
    if (!value || py_.PyDict_SetItem(dict.get(), key.get(), value.get()) < 0) return OwnedRef();
  }
  return dict;
}

OwnedRef Reader::Ref(int depth) {
  double id;
  uint32_t n;
  if (!Raw(&id, 8)) return OwnedRef();
  // Registry ids are integers below 2^53 (they pass through JS numbers).
  if (!(id >= 0 && id <= 9007199254740991.0) || id != static_cast<double>(static_cast<uint64_t>(id))) {
    return Bad("a proxy id that is not a registry id");
  }
  if (!Count(&n, kMinStr)) return OwnedRef();
  // The names are read before the registry is asked, so a bad path is
  // reported as malformed whether or not the object is still there.
  std::vector<OwnedRef> names;
  names.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    uint8_t tag;
    if (!U8(&tag)) return OwnedRef();
    if (tag != kStr && tag != kStr16) return Bad("a proxy path name that is not a string");
    names.push_back(Str(tag));
    if (!names.back()) return OwnedRef();
  }
  (void)depth;
  PyObject* o = ctx_.registry.Get(static_cast<uint64_t>(id));
  if (!o) {
    released_ = true;
    return OwnedRef();
  }
  OwnedRef target = OwnedRef::Borrow(o);
  for (const OwnedRef& name : names) {
    target = OwnedRef::Steal(py_.PyObject_GetAttr(target.get(), name.get()));
    if (!target) return target;
  }
  return target;
}

OwnedRef Reader::JsFunction() {
  double id;
  if (!Raw(&id, 8)) return OwnedRef();
  if (!(id >= 1 && id <= 9007199254740991.0) || id != static_cast<double>(static_cast<uint64_t>(id))) {
    return Bad("a JS function id that is not a whole number");
  }
  if (!ctx_.callback_function) return Bad("a JS function where this bridge takes none");
  OwnedRef n = OwnedRef::Steal(py_.PyLong_FromLongLong(static_cast<long long>(id)));
  if (!n) return n;
  OwnedRef args = OwnedRef::Steal(py_.PyTuple_New(1));
  if (!args) return args;
  py_.PyTuple_SetItem(args.get(), 0, n.Release());
  return OwnedRef::Steal(py_.PyObject_Call(ctx_.callback_function.get(), args.get(), nullptr));
}

OwnedRef Reader::Call2(PyObject* fn, OwnedRef a, OwnedRef b) {
  if (!a || !b) return OwnedRef();
  OwnedRef args = OwnedRef::Steal(py_.PyTuple_New(2));
  if (!args) return args;
  py_.PyTuple_SetItem(args.get(), 0, a.Release());
  py_.PyTuple_SetItem(args.get(), 1, b.Release());
  return OwnedRef::Steal(py_.PyObject_Call(fn, args.get(), nullptr));
}

size_t ItemSize(char format) {
  switch (format) {
    case 'h': case 'H': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'q': case 'Q': case 'd': return 8;
    default: return 1;
  }
}

// The struct format of an NdArray element code (docs/protocol.md), or 0.
char ElementFormat(PyObject* code) {
  static const struct { const char* code; char format; } kCodes[] = {
      {"f64", 'd'}, {"f32", 'f'}, {"i64", 'q'}, {"u64", 'Q'}, {"i32", 'i'},
      {"u32", 'I'}, {"i16", 'h'}, {"u16", 'H'}, {"i8", 'b'}, {"u8", 'B'},
  };
  Py_ssize_t n = 0;
  const char* s = Py().PyUnicode_AsUTF8AndSize(code, &n);
  if (!s) return 0;
  for (const auto& c : kCodes) {
    if (static_cast<size_t>(n) == std::strlen(c.code) && std::memcmp(s, c.code, n) == 0) return c.format;
  }
  return 0;
}

OwnedRef Reader::Shared(const SideBuffer& side, char format, std::vector<Py_ssize_t> shape) {
  size_t itemsize = ItemSize(format);
  if (side.size % itemsize != 0) return Bad("a shared buffer whose size is not a whole number of items");
  if (shape.empty()) shape.push_back(static_cast<Py_ssize_t>(side.size / itemsize));
  std::string bad;
  OwnedRef view = SharedView(side, format, itemsize, shape, returns_, &bad);
  if (!view && !bad.empty()) return Bad(bad);
  return view;
}

OwnedRef Reader::Typed() {
  uint8_t format;
  const char* data;
  size_t size;
  const SideBuffer* shared;
  if (!U8(&format) || !Payload(&data, &size, &shared)) return OwnedRef();
  if (!std::strchr("bhHiIfdqQ", format) || format == 0) return Bad("a typed array format that is not one of bhHiIfdqQ");
  if (shared) return Shared(*shared, static_cast<char>(format), {});
  char fmt[2] = {static_cast<char>(format), 0};
  return Call2(ctx_.typed_view.get(), BytesOf(data, size), OwnedRef::Steal(py_.PyUnicode_FromString(fmt)));
}

OwnedRef Reader::NdArray() {
  uint8_t tag;
  OwnedRef code, dtype;
  if (!U8(&tag)) return OwnedRef();
  if (tag != kStr) return Bad("an array element code that is not a string");
  if (!(code = Str(tag))) return code;
  if (!U8(&tag)) return OwnedRef();
  if (tag != kStr) return Bad("an array dtype that is not a string");
  if (!(dtype = Str(tag))) return dtype;
  uint32_t ndim;
  if (!Count(&ndim, 8)) return OwnedRef();
  if (ndim > 64) return Bad("an array of more than 64 dimensions");
  OwnedRef shape = OwnedRef::Steal(py_.PyTuple_New(ndim));
  if (!shape) return shape;
  std::vector<Py_ssize_t> dims(ndim);
  for (uint32_t i = 0; i < ndim; i++) {
    double d;
    if (!Raw(&d, 8)) return OwnedRef();
    if (!(d >= 0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<uint64_t>(d))) {
      return Bad("an array dimension that is not a whole number");
    }
    dims[i] = static_cast<Py_ssize_t>(d);
    py_.PyTuple_SetItem(shape.get(), i, py_.PyLong_FromLongLong(static_cast<long long>(d)));
  }
  const char* data;
  size_t size;
  const SideBuffer* shared;
  if (!Payload(&data, &size, &shared)) return OwnedRef();
  if (shared) {
    // shared(): a memoryview of this shape over the JS memory (numpy.asarray
    // of it is the ndarray, no copy); the element type is the TypedArray's.
    char format = ElementFormat(code.get());
    if (!format) return Bad("a shared array element code that is not one of the TypedArray codes");
    if (ndim == 0) return Bad("a shared array of no dimensions");
    return Shared(*shared, format, std::move(dims));
  }
  // A bytearray: numpy.frombuffer over it gives a writable array, no copy.
  OwnedRef bytes = ByteArrayOf(data, size);
  if (!bytes) return bytes;
  OwnedRef fn = OwnedRef::Steal(py_.PyObject_GetAttrString(ctx_.ops.get(), "ndarray_from"));
  if (!fn) return fn;
  OwnedRef args = OwnedRef::Steal(py_.PyTuple_New(4));
  if (!args) return args;
  py_.PyTuple_SetItem(args.get(), 0, bytes.Release());
  py_.PyTuple_SetItem(args.get(), 1, code.Release());
  py_.PyTuple_SetItem(args.get(), 2, dtype.Release());
  py_.PyTuple_SetItem(args.get(), 3, shape.Release());
  return OwnedRef::Steal(py_.PyObject_Call(fn.get(), args.get(), nullptr));
}

OwnedRef Reader::Value(int depth) {
  // Containers check their own depth (Deep); this guards the recursion.
  if (__builtin_expect(depth > kMaxWireDepth + 2, 0)) return TooDeep();
  uint8_t tag;
  if (!U8(&tag)) return OwnedRef();
  switch (tag) {
    case kNone:
      return OwnedRef::Borrow(py_._Py_NoneStruct);
    case kBool: {
      uint8_t b;
      if (!U8(&b)) return OwnedRef();
      return OwnedRef::Borrow(b ? py_._Py_TrueStruct : py_._Py_FalseStruct);
    }
    case kInt: {
      int64_t i;
      if (!Raw(&i, 8)) return OwnedRef();
      return OwnedRef::Steal(py_.PyLong_FromLongLong(i));
    }
    case kBigInt:
      return BigInt();
    case kFloat: {
      double f;
      if (!Raw(&f, 8)) return OwnedRef();
      return OwnedRef::Steal(py_.PyFloat_FromDouble(f));
    }
    case kStr:
    case kStr16:
      return Str(tag);
    case kBytes: {
      const char* data;
      size_t size;
      const SideBuffer* shared;
      if (!Payload(&data, &size, &shared)) return OwnedRef();
      if (shared) return Shared(*shared, 'B', {});
      return BytesOf(data, size);
    }
    case kList:
    case kSet:
      return Items(tag, depth);
    case kIntList:
    case kFloatList:
      return Packed(tag, depth);
    case kJson:
      return Json();
    case kDict:
      return Dict(depth);
    case kMap:
      return Map(depth);
    case kDate: {
      double ms;
      if (!Raw(&ms, 8)) return OwnedRef();
      OwnedRef args = OwnedRef::Steal(py_.PyTuple_New(1));
      if (!args) return args;
      py_.PyTuple_SetItem(args.get(), 0, py_.PyFloat_FromDouble(ms));
      return OwnedRef::Steal(py_.PyObject_Call(ctx_.datetime_from_ms.get(), args.get(), nullptr));
    }
    case kRef:
      return Ref(depth);
    case kJsFunction:
      return JsFunction();
    case kTyped:
      return Typed();
    case kNdArray:
      return NdArray();
  }
  return UnknownTag(tag);
}

// Pauses Python's cyclic garbage collector while a large message becomes
// objects: the reader makes trees (no new cycles), and without the pause
// every 700 new containers start a collection, and the growing heap full
// ones (the cost of a million records grew faster than their count). The
// collector's state is put back as it was (a program that disabled it keeps
// it disabled).
class CollectorPause {
 public:
  CollectorPause(PyContext& ctx, size_t size) : ctx_(ctx) {
    if (size < kPauseFrom) return;
    const PyApi& py = Py();
    OwnedRef none = OwnedRef::Steal(py.PyTuple_New(0));
    OwnedRef on = none ? OwnedRef::Steal(py.PyObject_Call(ctx.gc_isenabled.get(), none.get(), nullptr)) : OwnedRef();
    if (on && on.get() == py._Py_TrueStruct) {
      OwnedRef done = OwnedRef::Steal(py.PyObject_Call(ctx.gc_disable.get(), none.get(), nullptr));
      paused_ = static_cast<bool>(done);
    }
    if (py.PyErr_Occurred()) py.PyErr_Clear();
  }
  ~CollectorPause() {
    if (!paused_) return;
    const PyApi& py = Py();
    // Keep an error the reader set: the enable call must not clobber it.
    PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
    py.PyErr_Fetch(&type, &value, &tb);
    OwnedRef none = OwnedRef::Steal(py.PyTuple_New(0));
    if (none) OwnedRef::Steal(py.PyObject_Call(ctx_.gc_enable.get(), none.get(), nullptr));
    if (py.PyErr_Occurred()) py.PyErr_Clear();
    if (type) py.PyErr_Restore(type, value, tb);
  }

 private:
  static constexpr size_t kPauseFrom = 1u << 16;  // bytes of wire: small calls do not pay two calls
  PyContext& ctx_;
  bool paused_ = false;
};

}  // namespace

bool ReadArguments(PyContext& ctx, const Job& job, OwnedRef* args, OwnedRef* kwargs, ErrorInfo* error) {
  const PyApi& py = Py();
  CollectorPause pause(ctx, job.WireSize());
  OwnedRef list, kw;
  if (job.json) {
    if (!ReadJsonArguments(ctx, job, &list, &kw, error)) return false;
  } else {
    JsMemoryRead reading(job);
    if (!reading.ok()) {
      *error = ShutDownBeforeRun();
      return false;
    }
    Reader reader(ctx, job);
    uint8_t tag = job.WireSize() == 0 ? 0xff : static_cast<uint8_t>(job.WireData()[0]);
    if (tag != kList) {
      *error = BridgeFailure("ESEM_INTERNAL", "malformed wire arguments");
      return false;
    }
    list = reader.Value(0);
    kw = list ? reader.Value(0) : OwnedRef();
    if (kw && !reader.AtEnd()) kw = reader.Bad("bytes after the arguments");
    if (!kw) {
      *error = reader.TakeError();
      return false;
    }
  }
  if (TypeOf(list.get()) != py.PyList_Type) {
    *error = BridgeFailure("ESEM_INTERNAL", "malformed arguments: positional arguments that are not a list");
    return false;
  }
  Py_ssize_t n = py.PyList_Size(list.get());
  *args = OwnedRef::Steal(py.PyTuple_New(n));
  if (!*args) {
    *error = FetchPythonError(ctx);
    return false;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    py.PyTuple_SetItem(args->get(), i, OwnedRef::Borrow(py.PyList_GetItem(list.get(), i)).Release());
  }
  if (kw.get() == py._Py_NoneStruct) {
    kwargs->Reset();
  } else if (TypeOf(kw.get()) == py.PyDict_Type) {
    *kwargs = std::move(kw);
  } else {
    *error = BridgeFailure("ESEM_INTERNAL", "malformed arguments: keyword arguments that are not a dict");
    return false;
  }
  return true;
}

OwnedRef ReadValue(PyContext& ctx, const Job& job, ErrorInfo* error) {
  JsMemoryRead reading(job);
  if (!reading.ok()) {
    *error = ShutDownBeforeRun();
    return OwnedRef();
  }
  Reader reader(ctx, job);
  OwnedRef value = reader.Value(0);
  if (value && !reader.AtEnd()) value = reader.Bad("bytes after the value");
  if (!value) *error = reader.TakeError();
  return value;
}

bool ReadValues(PyContext& ctx, const char* data, size_t size, PyObject* out, std::string* code, std::string* message) {
  static const std::vector<SideBuffer> kNoSide;
  CollectorPause pause(ctx, size);
  Reader reader(ctx, data, size, kNoSide);
  const PyApi& py = Py();
  while (!reader.AtEnd()) {
    OwnedRef value = reader.Value(0);  // as codec.py reads a frame's values
    if (!value || py.PyList_Append(out, value.get()) < 0) {
      const char* failure = reader.FailureCode(message);
      if (failure) *code = failure;
      return false;
    }
  }
  return true;
}

}  // namespace esem
