// PyObjects straight to JSON text (py_json.h): the cold lane's results.
// Exact builtin types only, read through the C-API (no Python code runs, so
// nothing can change under the walk); anything else and the caller writes
// the wire format instead. Python thread only (GIL held).
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

#include "py_api.h"
#include "py_json.h"
#include "wire_tags.h"

namespace esem {
namespace {

// The largest magnitude JS numbers hold exactly; the wire format gives
// larger ints to JS as BigInt, so they take that form.
constexpr long long kMaxSafeInteger = (1LL << 53) - 1;

class JsonWriter {
 public:
  JsonWriter(std::string* out, size_t limit) : py_(Py()), out_(*out), limit_(limit) {}

  bool Value(PyObject* o, int depth);
  bool ascii() const { return ascii_; }

 private:
  bool Str(PyObject* o);
  bool Float(PyObject* o);

  const PyApi& py_;
  std::string& out_;
  size_t limit_;
  bool ascii_ = true;
};

bool JsonWriter::Str(PyObject* o) {
  Py_ssize_t n = 0;
  const char* s = py_.PyUnicode_AsUTF8AndSize(o, &n);
  if (!s) {
    py_.PyErr_Clear();  // lone surrogates: the wire format carries them
    return false;
  }
  out_.push_back('"');
  const char* run = s;
  const char* end = s + n;
  for (const char* p = s; p < end; p++) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c >= 0x80) {
      ascii_ = false;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out_.append(run, static_cast<size_t>(p - run));
    run = p + 1;
    // JSON.stringify's escapes: the short forms, else \u00XX.
    const char* short_form = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : nullptr;
    if (short_form) {
      out_.append(short_form, 2);
    } else {
      static const char kHex[] = "0123456789abcdef";
      char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out_.append(esc, 6);
    }
  }
  out_.append(run, static_cast<size_t>(end - run));
  out_.push_back('"');
  return true;
}

bool JsonWriter::Float(PyObject* o) {
  double d = py_.PyFloat_AsDouble(o);
  if (!std::isfinite(d)) return false;  // NaN and the infinities have no JSON form
  // The shortest text that reads back as the same double (JSON.parse
  // reads it so too); "1" for 1.0, as JS prints it. The C++17 library's
  // where it has one (Apple's needs macOS 13.3), else Python's repr.
#if defined(__cpp_lib_to_chars) && !defined(__APPLE__)
  char digits[32];
  auto r = std::to_chars(digits, digits + sizeof digits, d);
  if (r.ec == std::errc()) {
    out_.append(digits, static_cast<size_t>(r.ptr - digits));
    return true;
  }
#endif
  char* text = py_.PyOS_double_to_string(d, 'r', 0, 0, nullptr);
  if (!text) {
    py_.PyErr_Clear();
    return false;
  }
  out_.append(text);
  py_.PyMem_Free(text);
  return true;
}

bool JsonWriter::Value(PyObject* o, int depth) {
  PyObject* t = TypeOf(o);
  if (t == py_.PyUnicode_Type) return Str(o);
  if (t == py_.PyLong_Type) {
    int overflow = 0;
    long long n = py_.PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || n > kMaxSafeInteger || n < -kMaxSafeInteger) return false;
    char digits[24];
    auto r = std::to_chars(digits, digits + sizeof digits, n);
    out_.append(digits, static_cast<size_t>(r.ptr - digits));
    return true;
  }
  if (t == py_.PyFloat_Type) return Float(o);
  if (o == py_._Py_NoneStruct) {
    out_.append("null", 4);
    return true;
  }
  if (t == py_.PyBool_Type) {
    if (o == py_._Py_TrueStruct) {
      out_.append("true", 4);
    } else {
      out_.append("false", 5);
    }
    return true;
  }
  if (depth >= kMaxJsonDepth || out_.size() > limit_) return false;
  if (t == py_.PyList_Type || t == py_.PyTuple_Type) {
    bool tuple = t == py_.PyTuple_Type;
    Py_ssize_t n = tuple ? py_.PyTuple_Size(o) : py_.PyList_Size(o);
    // A list the wire format may pack (IntList, FloatList: its first item
    // a number) is faster by wire even cold: 20 000 floats echoed by a
    // fresh worker took 9.7 ms as JSON, 5.1 ms by wire.
    if (n >= static_cast<Py_ssize_t>(wire::kPackedMin)) {
      PyObject* first = tuple ? py_.PyTuple_GetItem(o, 0) : py_.PyList_GetItem(o, 0);
      if (first && (TypeOf(first) == py_.PyLong_Type || TypeOf(first) == py_.PyFloat_Type)) return false;
    }
    out_.push_back('[');
    for (Py_ssize_t i = 0; i < n; i++) {
      if (i) out_.push_back(',');
      PyObject* item = tuple ? py_.PyTuple_GetItem(o, i) : py_.PyList_GetItem(o, i);  // borrowed
      if (!item || !Value(item, depth + 1) || out_.size() > limit_) return false;
    }
    out_.push_back(']');
    return true;
  }
  if (t == py_.PyDict_Type) {
    out_.push_back('{');
    Py_ssize_t pos = 0;
    PyObject *k = nullptr, *v = nullptr;
    bool first = true;
    while (py_.PyDict_Next(o, &pos, &k, &v)) {  // borrowed
      if (TypeOf(k) != py_.PyUnicode_Type) return false;  // a Map, or a str subclass's key
      if (!first) out_.push_back(',');
      first = false;
      if (!Str(k)) return false;
      out_.push_back(':');
      if (!Value(v, depth + 1) || out_.size() > limit_) return false;
    }
    out_.push_back('}');
    return true;
  }
  return false;
}

}  // namespace

bool WriteJson(PyObject* o, size_t limit, std::string* out, bool* ascii) {
  JsonWriter writer(out, limit);
  if (!writer.Value(o, 0)) return false;
  *ascii = writer.ascii();
  return true;
}

bool WriteJsonContainer(PyObject* o, size_t limit, std::string* out, bool* ascii, bool* overflow) {
  const PyApi& py = Py();
  PyObject* t = TypeOf(o);
  *overflow = false;
  if (t != py.PyList_Type && t != py.PyTuple_Type && t != py.PyDict_Type) return false;
  try {
    if (WriteJson(o, limit, out, ascii)) return true;
  } catch (const std::exception&) {  // out of memory: the wire format may still fit
  }
  *overflow = out->size() > limit;
  out->clear();
  return false;
}

}  // namespace esem
