// JSON text straight to PyObjects (py_json.h): the cold lane's arguments,
// as JSON.stringify wrote them after src/json-lane.ts checked that every
// value has one meaning in both forms. The text is still checked as it is
// read (it crossed a boundary): a malformed one fails the call with
// ESEM_INTERNAL, never reads past its end. Python thread only (GIL held).
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "py_error.h"
#include "py_json.h"

namespace esem {
namespace {

constexpr double kTwo53 = 9007199254740992.0;

class JsonReader {
 public:
  JsonReader(const char* data, size_t size) : py_(Py()), p_(data), end_(data + size) {}

  // One value; empty with bad_ set (malformed text) or a Python error set.
  OwnedRef Value(int depth);
  bool AtEnd() {
    Space();
    return p_ == end_;
  }
  bool Expect(char c) {
    Space();
    if (p_ < end_ && *p_ == c) {
      p_++;
      return true;
    }
    return false;
  }
  [[gnu::noinline, gnu::cold]] OwnedRef Bad(const char* what) {
    if (bad_.empty()) bad_ = what;
    return OwnedRef();
  }
  const std::string& bad() const { return bad_; }

 private:
  void Space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) p_++;
  }
  bool Literal(const char* word, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }
  OwnedRef Number();
  OwnedRef String(bool key);
  OwnedRef Array(int depth);
  OwnedRef Object(int depth);
  bool Unescape(const char* from, const char* to, std::string* out, bool* lone);

  const PyApi& py_;
  const char* p_;
  const char* end_;
  std::string bad_;
  std::string scratch_;        // an escaped string's text
  std::vector<OwnedRef> items_;  // the items of the arrays being read
  // Keys seen in this text, by their raw bytes: records repeat a few keys,
  // and one str object per key text makes dict inserts cheaper.
  struct KeySlot {
    const char* text = nullptr;
    size_t size = 0;
    PyObject* key = nullptr;  // owned by keys_
  };
  static constexpr size_t kKeySlots = 128;
  KeySlot key_slots_[kKeySlots];
  std::vector<OwnedRef> keys_;
};

OwnedRef JsonReader::Number() {
  const char* start = p_;
  bool negative = p_ < end_ && *p_ == '-';
  if (negative) p_++;
  const char* digits = p_;
  uint64_t magnitude = 0;
  bool exact = true;  // the digits so far fit without rounding
  while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
    if (magnitude > (UINT64_MAX - 9) / 10) exact = false;
    if (exact) magnitude = magnitude * 10 + static_cast<uint64_t>(*p_ - '0');
    p_++;
  }
  if (p_ == digits) return Bad("a number without digits");
  bool integer_text = !(p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E'));
  if (integer_text && exact && magnitude <= (1ULL << 53)) {
    long long v = static_cast<long long>(magnitude);
    return OwnedRef::Steal(py_.PyLong_FromLongLong(negative ? -v : v));
  }
  while (p_ < end_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '.' || *p_ == 'e' || *p_ == 'E' || *p_ == '+' || *p_ == '-')) p_++;
  // Locale-independent and correctly rounded: the C++17 library's parser
  // where it has one, else Python's (which reads a NUL-terminated copy).
  double d = 0;
#if defined(__cpp_lib_to_chars) && !defined(__APPLE__)
  auto r = std::from_chars(start, p_, d);
  if (r.ec != std::errc() || r.ptr != p_) return Bad("a malformed number");
#else
  std::string token(start, static_cast<size_t>(p_ - start));
  char* stop = nullptr;
  d = py_.PyOS_string_to_double(token.c_str(), &stop, nullptr);
  if (stop != token.c_str() + token.size()) {
    py_.PyErr_Clear();
    return Bad("a malformed number");
  }
#endif
  // SPEC §9, as the wire format has it: an integral number (but -0) is an
  // int, exactly the double's value; else a float.
  if (std::isfinite(d) && d == std::floor(d) && !(d == 0 && std::signbit(d))) {
    if (std::fabs(d) < kTwo53) return OwnedRef::Steal(py_.PyLong_FromLongLong(static_cast<long long>(d)));
    return OwnedRef::Steal(py_.PyLong_FromDouble(d));
  }
  return OwnedRef::Steal(py_.PyFloat_FromDouble(d));
}

// Appends the UTF-8 of the escaped text [from, to) to *out. A lone
// surrogate (JSON.stringify escapes those) gets its 3-byte form, which
// only the "surrogatepass" decoder reads: *lone says there was one.
bool JsonReader::Unescape(const char* from, const char* to, std::string* out, bool* lone) {
  auto hex4 = [&](const char* at, uint32_t* v) {
    if (to - at < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; i++) {
      char c = at[i];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      *v = *v * 16 + static_cast<uint32_t>(d);
    }
    return true;
  };
  for (const char* p = from; p < to;) {
    if (*p != '\\') {
      out->push_back(*p++);
      continue;
    }
    if (++p >= to) return false;
    char c = *p++;
    switch (c) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '/': out->push_back('/'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        uint32_t cp;
        if (!hex4(p, &cp)) return false;
        p += 4;
        uint32_t low;
        if (cp >= 0xD800 && cp <= 0xDBFF && to - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &low) &&
            low >= 0xDC00 && low <= 0xDFFF) {
          p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
          *lone = true;
        }
        if (cp < 0x80) {
          out->push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

OwnedRef JsonReader::String(bool key) {
  p_++;  // the opening quote
  const char* start = p_;
  bool escaped = false;
  while (p_ < end_ && *p_ != '"') {
    if (*p_ == '\\') {
      escaped = true;
      if (++p_ >= end_) break;
    }
    p_++;
  }
  if (p_ >= end_) return Bad("a string without its closing quote");
  const char* stop = p_++;
  size_t n = static_cast<size_t>(stop - start);
  KeySlot* slot = nullptr;
  if (key && !escaped) {
    size_t h = n;
    if (n) h = h * 31 + static_cast<unsigned char>(start[0]) * 7 + static_cast<unsigned char>(start[n - 1]) * 131 + static_cast<unsigned char>(start[n / 2]);
    slot = &key_slots_[h % kKeySlots];
    if (slot->key && slot->size == n && std::memcmp(slot->text, start, n) == 0) return OwnedRef::Borrow(slot->key);
  }
  OwnedRef s;
  if (!escaped) {
    s = OwnedRef::Steal(py_.PyUnicode_FromStringAndSize(start, static_cast<Py_ssize_t>(n)));
  } else {
    scratch_.clear();
    bool lone = false;
    if (!Unescape(start, stop, &scratch_, &lone)) return Bad("a malformed escape in a string");
    Py_ssize_t size = static_cast<Py_ssize_t>(scratch_.size());
    s = OwnedRef::Steal(lone ? py_.PyUnicode_DecodeUTF8(scratch_.data(), size, "surrogatepass")
                             : py_.PyUnicode_FromStringAndSize(scratch_.data(), size));
  }
  if (s && slot) {
    keys_.push_back(s);
    *slot = {start, n, s.get()};
  }
  return s;
}

OwnedRef JsonReader::Array(int depth) {
  p_++;  // '['
  size_t base = items_.size();
  if (!Expect(']')) {
    do {
      OwnedRef item = Value(depth + 1);
      if (!item) return item;
      items_.push_back(std::move(item));
    } while (Expect(','));
    if (!Expect(']')) return Bad("an array without its closing bracket");
  }
  size_t n = items_.size() - base;
  OwnedRef list = OwnedRef::Steal(py_.PyList_New(static_cast<Py_ssize_t>(n)));
  if (!list) return list;
  for (size_t i = 0; i < n; i++) py_.PyList_SetItem(list.get(), static_cast<Py_ssize_t>(i), items_[base + i].Release());  // steals
  items_.resize(base);
  return list;
}

OwnedRef JsonReader::Object(int depth) {
  p_++;  // '{'
  OwnedRef dict = OwnedRef::Steal(py_.PyDict_New());
  if (!dict || Expect('}')) return dict;
  do {
    Space();
    if (p_ >= end_ || *p_ != '"') return Bad("an object key that is not a string");
    OwnedRef key = String(true);
    if (!key) return key;
    if (!Expect(':')) return Bad("an object key without its colon");
    OwnedRef value = Value(depth + 1);
    if (!value || py_.PyDict_SetItem(dict.get(), key.get(), value.get()) < 0) return OwnedRef();
  } while (Expect(','));
  if (!Expect('}')) return Bad("an object without its closing brace");
  return dict;
}

OwnedRef JsonReader::Value(int depth) {
  Space();
  if (p_ >= end_) return Bad("the text ended where a value was due");
  char c = *p_;
  if (c == '"') return String(false);
  if (c == '-' || (c >= '0' && c <= '9')) return Number();
  if ((c == '[' || c == '{') && depth > kMaxJsonDepth + 1) return Bad("values nested too deeply");
  if (c == '[') return Array(depth);
  if (c == '{') return Object(depth);
  if (Literal("true", 4)) return OwnedRef::Borrow(py_._Py_TrueStruct);
  if (Literal("false", 5)) return OwnedRef::Borrow(py_._Py_FalseStruct);
  if (Literal("null", 4)) return OwnedRef::Borrow(py_._Py_NoneStruct);
  return Bad("an unexpected character");
}

}  // namespace

OwnedRef ReadJsonValue(const char* data, size_t size, std::string* bad) {
  JsonReader reader(data, size);
  OwnedRef value = reader.Value(1);  // at the depth of a call's arguments, as ReadJsonArguments reads them
  if (value && !reader.AtEnd()) value = reader.Bad("text after the value");
  if (!value) *bad = reader.bad();
  return value;
}

bool ReadJsonArguments(PyContext& ctx, const Job& job, OwnedRef* list, OwnedRef* kw, ErrorInfo* error) {
  JsonReader reader(job.wire.data(), job.wire.size());
  if (reader.Expect('[')) {
    *list = reader.Value(1);
    if (*list && !reader.Expect(',')) *list = reader.Bad("no keyword arguments after the positional ones");
    if (*list) *kw = reader.Value(1);
    if (*kw && !(reader.Expect(']') && reader.AtEnd())) *kw = reader.Bad("text after the arguments");
  } else {
    reader.Bad("arguments that are not an array");
  }
  if (*kw) return true;
  *error = reader.bad().empty() ? FetchPythonError(ctx) : BridgeFailure("ESEM_INTERNAL", "malformed JSON arguments: " + reader.bad());
  return false;
}

}  // namespace esem
