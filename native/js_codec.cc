// napi_value <-> Value conversion. JS thread only.
#include "js_codec.h"

#include <cmath>
#include <cstring>
#include <unordered_map>

namespace esem {
namespace {

constexpr int kMaxDepth = 256;
constexpr double kMaxSafe = 9007199254740991.0;

napi_value Get(napi_env env, napi_ref ref) {
  napi_value v = nullptr;
  napi_get_reference_value(env, ref, &v);
  return v;
}

bool IsIdentifier(const std::string& key) {
  if (key.empty() || (key[0] >= '0' && key[0] <= '9')) return false;
  for (char c : key) {
    if (!(c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return false;
  }
  return true;
}


class Encoder {
 public:
  Encoder(napi_env env, const JsHelpers& h) : env_(env), h_(h) {}

  bool Encode(napi_value v, Value* out) {
    napi_valuetype type;
    napi_typeof(env_, v, &type);
    switch (type) {
      case napi_undefined:
      case napi_null:
        out->tag = Tag::kNone;
        return true;
      case napi_boolean:
        out->tag = Tag::kBool;
        napi_get_value_bool(env_, v, &out->b);
        return true;
      case napi_number:
        return Number(v, out);
      case napi_string: {
        size_t len = 0;
        napi_get_value_string_utf16(env_, v, nullptr, 0, &len);
        out->tag = Tag::kStr;
        out->utf16 = true;
        out->s.resize(len * 2 + 2);
        napi_get_value_string_utf16(env_, v, reinterpret_cast<char16_t*>(&out->s[0]), len + 1, &len);
        out->s.resize(len * 2);
        return true;
      }
      case napi_bigint:
        return BigInt(v, out);
      case napi_symbol:
        return Unsupported("a Symbol");
      case napi_function:
        return Function(v, out);
      case napi_object:
        return Object(v, out);
      case napi_external:
        return Unsupported("an external value");
    }
    return Unsupported("a value of unknown type");
  }

  // Where the failure was, innermost segment first (".key", "[3]"); built
  // only while unwinding from a failure, so success costs nothing.
  std::vector<std::string> path;
  std::string reason;
  // The error code, when not ESEM_UNSUPPORTED_VALUE (a proxy that cannot
  // be passed here); `reason` is then the whole rest of the message.
  std::string code;

 private:
  bool Unsupported(const std::string& what) {
    reason = what;
    return false;
  }

  napi_value Global(const char* name) {
    napi_value global, out = nullptr;
    if (napi_get_global(env_, &global) != napi_ok || napi_get_named_property(env_, global, name, &out) != napi_ok) {
      return nullptr;
    }
    return out;
  }

  bool InstanceOf(napi_value v, const char* ctor) {
    napi_value c = Global(ctor);
    napi_valuetype t;
    if (!c || napi_typeof(env_, c, &t) != napi_ok || t != napi_function) return false;
    bool is = false;
    return napi_instanceof(env_, v, c, &is) == napi_ok && is;
  }

  // Why an object that is not plain data cannot be passed: the same words,
  // in the same order, as unsupportedObject() in src/codec.ts.
  bool UnsupportedObject(napi_value v, napi_value proto) {
    bool is = false;
    if (napi_is_promise(env_, v, &is) == napi_ok && is) return Unsupported("a Promise (await it and pass its value)");
    if (napi_is_error(env_, v, &is) == napi_ok && is) {
      return Unsupported("an Error (pass its message, or a plain object of the fields you need)");
    }
    if (InstanceOf(v, "RegExp")) return Unsupported("a RegExp (pass its source string)");
    if (InstanceOf(v, "WeakMap")) return Unsupported("a WeakMap (its entries cannot be read)");
    if (InstanceOf(v, "WeakSet")) return Unsupported("a WeakSet (its items cannot be read)");
    for (const char* boxed : {"Number", "String", "Boolean", "BigInt", "Symbol"}) {
      if (InstanceOf(v, boxed)) return Unsupported("a boxed primitive (pass the primitive value itself)");
    }
    if (InstanceOf(v, "SharedArrayBuffer")) {
      return Unsupported("a SharedArrayBuffer (pass a TypedArray over it to send a copy)");
    }
    const std::string generic = "an object with a custom prototype (only plain objects become dicts)";
    napi_value key, ctor, name;
    napi_valuetype t;
    bool own = false;
    size_t len = 0;
    if (napi_create_string_utf8(env_, "constructor", NAPI_AUTO_LENGTH, &key) != napi_ok ||
        napi_has_own_property(env_, proto, key, &own) != napi_ok || !own ||
        napi_get_property(env_, proto, key, &ctor) != napi_ok || napi_typeof(env_, ctor, &t) != napi_ok ||
        (t != napi_function && t != napi_object) || napi_get_named_property(env_, ctor, "name", &name) != napi_ok ||
        napi_typeof(env_, name, &t) != napi_ok || t != napi_string ||
        napi_get_value_string_utf8(env_, name, nullptr, 0, &len) != napi_ok || len == 0) {
      ClearException();
      return Unsupported(generic);
    }
    return Unsupported("an instance of class " + JsUtf8(env_, name) + " (only plain objects become dicts)");
  }

  void ClearException() {
    bool pending = false;
    napi_is_exception_pending(env_, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env_, &ignored);
    }
  }

  bool Number(napi_value v, Value* out) {
    double d = 0;
    napi_get_value_double(env_, v, &d);
    // SPEC 9: an integral number (but -0) is a Python int; else a float.
    if (std::isfinite(d) && std::floor(d) == d && !(d == 0 && std::signbit(d))) {
      if (std::fabs(d) < 9223372036854775808.0) {
        out->tag = Tag::kInt;
        out->i = static_cast<int64_t>(d);
        return true;
      }
      out->tag = Tag::kBigInt;  // exact: a double this large is an integer
      return DoubleToHex(d, out);
    }
    out->tag = Tag::kFloat;
    out->f = d;
    return true;
  }

  static bool DoubleToHex(double d, Value* out) {
    int exp = 0;
    double m = std::frexp(std::fabs(d), &exp);  // |d| = m * 2^exp, m in [0.5, 1)
    uint64_t mant = static_cast<uint64_t>(std::ldexp(m, 53));
    int shift = exp - 53;  // >= 11 here
    std::vector<uint64_t> words{mant};
    while (shift >= 64) {
      words.insert(words.begin(), 0);
      shift -= 64;
    }
    uint64_t carry = 0;
    for (auto& w : words) {
      uint64_t next = shift ? (w >> (64 - shift)) : 0;
      w = (w << shift) | carry;
      carry = next;
    }
    if (carry) words.push_back(carry);
    out->s = d < 0 ? "-" : "";
    char buf[17];
    bool leading = true;
    for (size_t i = words.size(); i-- > 0;) {
      snprintf(buf, sizeof buf, leading ? "%llx" : "%016llx", static_cast<unsigned long long>(words[i]));
      if (leading && words[i] == 0 && i > 0) continue;
      out->s += buf;
      leading = false;
    }
    return true;
  }

  bool BigInt(napi_value v, Value* out) {
    bool lossless = false;
    int64_t small = 0;
    napi_get_value_bigint_int64(env_, v, &small, &lossless);
    if (lossless) {
      out->tag = Tag::kInt;
      out->i = small;
      return true;
    }
    size_t count = 0;
    int sign = 0;
    napi_get_value_bigint_words(env_, v, nullptr, &count, nullptr);
    std::vector<uint64_t> words(count);
    napi_get_value_bigint_words(env_, v, &sign, &count, words.data());
    out->tag = Tag::kBigInt;
    out->s = sign ? "-" : "";
    char buf[17];
    bool leading = true;
    for (size_t i = count; i-- > 0;) {
      if (leading && words[i] == 0 && i > 0) continue;
      snprintf(buf, sizeof buf, leading ? "%llx" : "%016llx", static_cast<unsigned long long>(words[i]));
      out->s += buf;
      leading = false;
    }
    if (leading) out->s += "0";
    return true;
  }

  // A proxy answers its bridge's private symbol with its ref id, or with
  // [id, ...attribute path] for a member such as `mod.fn`, or with
  // "CODE message" when it cannot be passed (released, of another bridge,
  // of a bridge that was shut down: src/proxy.ts, refAnswer).
  bool Function(napi_value v, Value* out) {
    napi_value id;
    napi_valuetype t;
    if (napi_get_property(env_, v, Get(env_, h_.ref_symbol), &id) == napi_ok &&
        napi_typeof(env_, id, &t) == napi_ok) {
      if (t == napi_string) {
        std::string answer = JsUtf8(env_, id);
        size_t space = answer.find(' ');
        if (space != std::string::npos && space > 0) {
          code = answer.substr(0, space);
          return Unsupported(answer.substr(space + 1));
        }
      }
      bool is_array = false;
      napi_is_array(env_, id, &is_array);
      if (t == napi_number || is_array) {
        out->tag = Tag::kRef;
        napi_value first = id;
        if (is_array) {
          uint32_t n = 0;
          napi_get_array_length(env_, id, &n);
          napi_get_element(env_, id, 0, &first);
          for (uint32_t i = 1; i < n; i++) {
            napi_value name;
            napi_get_element(env_, id, i, &name);
            out->items.push_back(Value::Str(JsUtf8(env_, name)));
          }
        }
        double d = 0;
        napi_get_value_double(env_, first, &d);
        out->ref = static_cast<uint64_t>(d);
        return true;
      }
    }
    return Unsupported("a JS function (Python cannot call back into JS yet)");
  }

  bool Enter(napi_value v) {
    if (stack_.size() >= kMaxDepth) return Unsupported("a structure nested too deeply");
    for (napi_value seen : stack_) {
      bool same = false;
      napi_strict_equals(env_, seen, v, &same);
      if (same) return Unsupported("a circular reference (a value that contains itself)");
    }
    stack_.push_back(v);
    return true;
  }

  bool Object(napi_value v, Value* out) {
    bool is = false;
    napi_is_array(env_, v, &is);
    if (is) return Array(v, out);
    napi_is_typedarray(env_, v, &is);
    if (is) return TypedArray(v, out);
    napi_value proto;
    napi_get_prototype(env_, v, &proto);
    napi_valuetype pt;
    napi_typeof(env_, proto, &pt);
    bool plain = pt == napi_null;
    if (!plain) napi_strict_equals(env_, proto, Get(env_, h_.object_prototype), &plain);
    if (plain) return Dict(v, out);
    napi_is_date(env_, v, &is);
    if (is) {
      out->tag = Tag::kDate;
      napi_get_date_value(env_, v, &out->f);
      return true;
    }
    napi_is_arraybuffer(env_, v, &is);
    if (is) {
      void* data = nullptr;
      size_t len = 0;
      napi_get_arraybuffer_info(env_, v, &data, &len);
      out->tag = Tag::kBytes;
      out->s.assign(static_cast<const char*>(data), len);
      return true;
    }
    napi_is_dataview(env_, v, &is);
    if (is) {
      void* data = nullptr;
      size_t len = 0;
      napi_get_dataview_info(env_, v, &len, &data, nullptr, nullptr);
      out->tag = Tag::kBytes;
      out->s.assign(static_cast<const char*>(data), len);
      return true;
    }
    napi_instanceof(env_, v, Get(env_, h_.map_ctor), &is);
    if (is) return Entries(v, Tag::kMap, out);
    napi_instanceof(env_, v, Get(env_, h_.set_ctor), &is);
    if (is) return Entries(v, Tag::kSet, out);
    return UnsupportedObject(v, proto);
  }

  bool Array(napi_value v, Value* out) {
    if (!Enter(v)) return false;
    uint32_t n = 0;
    napi_get_array_length(env_, v, &n);
    out->tag = Tag::kList;
    out->items.resize(n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value item;
      if (napi_get_element(env_, v, i, &item) != napi_ok) return Unsupported("an unreadable element");
      if (!Encode(item, &out->items[i])) {
        path.push_back("[" + std::to_string(i) + "]");
        return false;
      }
    }
    stack_.pop_back();
    return true;
  }

  bool Dict(napi_value v, Value* out) {
    if (!Enter(v)) return false;
    napi_value keys;
    napi_get_all_property_names(env_, v, napi_key_own_only,
                                static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                napi_key_numbers_to_strings, &keys);
    uint32_t n = 0;
    napi_get_array_length(env_, keys, &n);
    out->tag = Tag::kDict;
    out->items.resize(static_cast<size_t>(n) * 2);
    for (uint32_t i = 0; i < n; i++) {
      napi_value key, item;
      napi_get_element(env_, keys, i, &key);
      Value& k = out->items[2 * i];
      Encode(key, &k);  // a string
      if (napi_get_property(env_, v, key, &item) != napi_ok) return Unsupported("an unreadable property");
      if (!Encode(item, &out->items[2 * i + 1])) {
        std::string name = JsUtf8(env_, key);
        path.push_back(IsIdentifier(name) ? "." + name : "[\"" + name + "\"]");
        return false;
      }
    }
    stack_.pop_back();
    return true;
  }

  bool Entries(napi_value v, Tag tag, Value* out) {
    if (!Enter(v)) return false;
    napi_value flat, global;
    napi_get_global(env_, &global);
    if (napi_call_function(env_, global, Get(env_, h_.entries), 1, &v, &flat) != napi_ok) {
      return Unsupported("an unreadable Map or Set");
    }
    uint32_t n = 0;
    napi_get_array_length(env_, flat, &n);
    out->tag = tag;
    out->items.resize(n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value item;
      napi_get_element(env_, flat, i, &item);
      if (!Encode(item, &out->items[i])) {
        path.push_back(tag == Tag::kMap ? (i % 2 ? "<value " + std::to_string(i / 2) + ">" : "<key " + std::to_string(i / 2) + ">")
                                        : "<item " + std::to_string(i) + ">");
        return false;
      }
    }
    stack_.pop_back();
    return true;
  }

  bool TypedArray(napi_value v, Value* out) {
    napi_typedarray_type type;
    size_t length = 0, offset = 0;
    void* data = nullptr;
    napi_value buffer;
    napi_get_typedarray_info(env_, v, &type, &length, &data, &buffer, &offset);
    const char* format = nullptr;
    size_t size = 1;
    switch (type) {
      case napi_uint8_array:
      case napi_uint8_clamped_array:
        out->tag = Tag::kBytes;
        out->s.assign(static_cast<const char*>(data), length);
        return true;
      case napi_int8_array: format = "b"; size = 1; break;
      case napi_int16_array: format = "h"; size = 2; break;
      case napi_uint16_array: format = "H"; size = 2; break;
      case napi_int32_array: format = "i"; size = 4; break;
      case napi_uint32_array: format = "I"; size = 4; break;
      case napi_float32_array: format = "f"; size = 4; break;
      case napi_float64_array: format = "d"; size = 8; break;
      case napi_bigint64_array: format = "q"; size = 8; break;
      case napi_biguint64_array: format = "Q"; size = 8; break;
      default: return Unsupported("a TypedArray of an unsupported element type");
    }
    out->tag = Tag::kTyped;
    out->s.assign(static_cast<const char*>(data), length * size);
    out->items.push_back(Value::Str(format));
    return true;
  }

  napi_env env_;
  const JsHelpers& h_;
  std::vector<napi_value> stack_;
};

// --- Value -> JS ---------------------------------------------------------

class Decoder {
 public:
  Decoder(napi_env env, const JsHelpers& h) : env_(env), h_(h) {}

  napi_value Decode(Value& v) {
    napi_value out = nullptr;
    switch (v.tag) {
      case Tag::kNone:
        napi_get_null(env_, &out);
        break;
      case Tag::kBool:
        napi_get_boolean(env_, v.b, &out);
        break;
      case Tag::kInt:
        if (std::fabs(static_cast<double>(v.i)) <= kMaxSafe) {
          napi_create_double(env_, static_cast<double>(v.i), &out);
        } else {
          napi_create_bigint_int64(env_, v.i, &out);
        }
        break;
      case Tag::kBigInt:
        out = BigInt(v.s);
        break;
      case Tag::kFloat:
        napi_create_double(env_, v.f, &out);
        break;
      case Tag::kStr:
        if (v.utf16) {
          napi_create_string_utf16(env_, reinterpret_cast<const char16_t*>(v.s.data()), v.s.size() / 2, &out);
        } else {
          napi_create_string_utf8(env_, v.s.data(), v.s.size(), &out);
        }
        break;
      case Tag::kBytes:
      case Tag::kTyped: {
        out = HandOver(v.s, false);
        if (!out) {
          void* copy = nullptr;
          napi_create_buffer_copy(env_, v.s.size(), v.s.data(), &copy, &out);
        }
        break;
      }
      case Tag::kNdArray:
        out = NdArray(v);
        break;
      case Tag::kWire: {
        void* copy = nullptr;
        napi_value buffer, global;
        napi_create_buffer_copy(env_, v.s.size(), v.s.data(), &copy, &buffer);
        napi_get_global(env_, &global);
        if (napi_call_function(env_, global, Get(env_, h_.decode), 1, &buffer, &out) != napi_ok) return nullptr;
        break;
      }
      case Tag::kList: {
        napi_create_array_with_length(env_, v.items.size(), &out);
        for (size_t i = 0; i < v.items.size(); i++) {
          napi_value item = Decode(v.items[i]);
          if (!item) return nullptr;
          napi_set_element(env_, out, static_cast<uint32_t>(i), item);
        }
        break;
      }
      case Tag::kDict:
        out = Dict(v);
        break;
      case Tag::kMap:
      case Tag::kSet: {
        napi_value flat;
        napi_create_array_with_length(env_, v.items.size(), &flat);
        for (size_t i = 0; i < v.items.size(); i++) {
          napi_value item = Decode(v.items[i]);
          if (!item) return nullptr;
          napi_set_element(env_, flat, static_cast<uint32_t>(i), item);
        }
        napi_value global;
        napi_get_global(env_, &global);
        if (napi_call_function(env_, global, Get(env_, v.tag == Tag::kMap ? h_.make_map : h_.make_set), 1, &flat,
                               &out) != napi_ok) {
          return nullptr;
        }
        break;
      }
      case Tag::kDate:
        napi_create_date(env_, v.f, &out);
        break;
      case Tag::kRef:
        out = Ref(v);
        break;
    }
    return out;
  }

 private:
  // Keys repeat across the objects of one result (a list of records):
  // each distinct key string is made once per conversion.
  napi_value Key(Value& key) {
    if (key.tag != Tag::kStr || key.utf16 || key.s.size() > 64) return Decode(key);
    auto found = keys_.find(key.s);
    if (found != keys_.end()) return found->second;
    napi_value k = Decode(key);
    if (k && keys_.size() < 1024) keys_.emplace(key.s, k);
    return k;
  }

  napi_value Dict(Value& v) {
    napi_value out;
    napi_create_object(env_, &out);
    size_t n = v.items.size() / 2;
    props_.resize(n);
    std::vector<napi_property_descriptor> props;
    props.swap(props_);  // reuse the buffer; nested dicts take a fresh one
    for (size_t i = 0; i < n; i++) {
      Value& key = v.items[2 * i];
      napi_value k = Key(key);
      napi_value val = Decode(v.items[2 * i + 1]);
      if (!k || !val) return nullptr;
      props[i] = napi_property_descriptor{nullptr, k, nullptr, nullptr, nullptr, val, napi_default_jsproperty, nullptr};
    }
    // Defines (not assigns) each key, so "__proto__" is a plain key.
    bool ok = !n || napi_define_properties(env_, out, n, props.data()) == napi_ok;
    props.swap(props_);
    return ok ? out : nullptr;
  }

  // Large byte payloads are handed to JS without a second copy: the
  // Value's own string becomes the memory of an external Buffer or
  // ArrayBuffer, freed when JS collects it. nullptr (and `bytes` untouched)
  // when small, or where the runtime forbids external buffers (Electron).
  napi_value HandOver(std::string& bytes, bool array_buffer) {
    constexpr size_t kMinExternal = 64 * 1024;
    if (bytes.size() < kMinExternal) return nullptr;
    auto* owned = new std::string(std::move(bytes));
    size_t size = owned->size();
    auto release = [](napi_env env, void*, void* hint) {
      auto* s = static_cast<std::string*>(hint);
      int64_t ignored = 0;
      napi_adjust_external_memory(env, -static_cast<int64_t>(s->size()), &ignored);
      delete s;
    };
    napi_value out = nullptr;
    napi_status status = array_buffer
                             ? napi_create_external_arraybuffer(env_, &(*owned)[0], size, release, owned, &out)
                             : napi_create_external_buffer(env_, size, &(*owned)[0], release, owned, &out);
    if (status != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env_, &pending);
      if (pending) {
        napi_value ignored;
        napi_get_and_clear_last_exception(env_, &ignored);
      }
      bytes = std::move(*owned);
      delete owned;
      return nullptr;
    }
    int64_t adjusted = 0;
    napi_adjust_external_memory(env_, static_cast<int64_t>(size), &adjusted);  // so the GC feels its weight
    return out;
  }

  // A TypedArray over the array's bytes, with `shape` and `dtype`.
  napi_value NdArray(Value& v) {
    static const struct {
      const char* code;
      napi_typedarray_type type;
      size_t size;
    } kTypes[] = {{"f64", napi_float64_array, 8}, {"f32", napi_float32_array, 4}, {"i64", napi_bigint64_array, 8},
                  {"u64", napi_biguint64_array, 8}, {"i32", napi_int32_array, 4},   {"u32", napi_uint32_array, 4},
                  {"i16", napi_int16_array, 2},     {"u16", napi_uint16_array, 2}, {"i8", napi_int8_array, 1},
                  {"u8", napi_uint8_array, 1}};
    const std::string& code = v.items.at(0).s;
    for (const auto& t : kTypes) {
      if (code != t.code) continue;
      void* data = nullptr;
      napi_value out, shape, dtype;
      size_t size = v.s.size();
      napi_value buffer = HandOver(v.s, true);
      if (!buffer) {
        if (napi_create_arraybuffer(env_, size, &data, &buffer) != napi_ok) return nullptr;
        if (size) std::memcpy(data, v.s.data(), size);
      }
      napi_create_typedarray(env_, t.type, size / t.size, buffer, 0, &out);
      napi_create_array_with_length(env_, v.items.size() - 2, &shape);
      for (size_t i = 2; i < v.items.size(); i++) {
        napi_value dim;
        napi_create_double(env_, static_cast<double>(v.items[i].i), &dim);
        napi_set_element(env_, shape, static_cast<uint32_t>(i - 2), dim);
      }
      napi_create_string_utf8(env_, v.items.at(1).s.data(), v.items.at(1).s.size(), &dtype);
      napi_set_named_property(env_, out, "shape", shape);
      napi_set_named_property(env_, out, "dtype", dtype);
      return out;
    }
    napi_throw_error(env_, nullptr, "esem-bridge: unknown TypedArray element code");
    return nullptr;
  }

  napi_value BigInt(const std::string& hex) {
    bool negative = !hex.empty() && hex[0] == '-';
    size_t start = negative ? 1 : 0;
    std::vector<uint64_t> words;
    for (size_t end = hex.size(); end > start;) {
      size_t begin = end >= start + 16 ? end - 16 : start;
      words.push_back(std::stoull(hex.substr(begin, end - begin), nullptr, 16));
      end = begin;
    }
    if (words.empty()) words.push_back(0);
    napi_value out = nullptr;
    napi_create_bigint_words(env_, negative ? 1 : 0, words.size(), words.data(), &out);
    return out;
  }

  napi_value Ref(Value& v) {
    napi_value args[3];
    napi_create_double(env_, static_cast<double>(v.ref), &args[0]);
    napi_create_uint32(env_, v.type_index, &args[1]);
    if (v.desc) {
      const RefDescription& d = *v.desc;
      napi_value desc, s, members, flag;
      napi_create_object(env_, &desc);
      napi_create_string_utf8(env_, d.kind.data(), d.kind.size(), &s);
      napi_set_named_property(env_, desc, "kind", s);
      napi_create_string_utf8(env_, d.type_name.data(), d.type_name.size(), &s);
      napi_set_named_property(env_, desc, "typeName", s);
      napi_create_array_with_length(env_, d.members.size(), &members);
      for (size_t i = 0; i < d.members.size(); i++) {
        napi_create_string_utf8(env_, d.members[i].data(), d.members[i].size(), &s);
        napi_set_element(env_, members, static_cast<uint32_t>(i), s);
      }
      napi_set_named_property(env_, desc, "members", members);
      napi_get_boolean(env_, d.has_release, &flag);
      napi_set_named_property(env_, desc, "hasRelease", flag);
      napi_get_boolean(env_, d.callable, &flag);
      napi_set_named_property(env_, desc, "callable", flag);
      napi_get_boolean(env_, d.iterable, &flag);
      napi_set_named_property(env_, desc, "iterable", flag);
      args[2] = desc;
    } else {
      napi_get_undefined(env_, &args[2]);
    }
    napi_value global, out = nullptr;
    napi_get_global(env_, &global);
    if (napi_call_function(env_, global, Get(env_, h_.wrap), 3, args, &out) != napi_ok) return nullptr;
    return out;
  }

  napi_env env_;
  const JsHelpers& h_;
  std::unordered_map<std::string, napi_value> keys_;
  std::vector<napi_property_descriptor> props_;
};

}  // namespace

std::string JsUtf8(napi_env env, napi_value s) {
  // Attribute names are short: one call into a stack buffer, usually.
  char small[64];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, s, small, sizeof small, &len) == napi_ok && len < sizeof small - 4) {
    return std::string(small, len);
  }
  napi_get_value_string_utf8(env, s, nullptr, 0, &len);
  std::string out(len, '\0');
  napi_get_value_string_utf8(env, s, &out[0], len + 1, &len);
  return out;
}

void JsHelpers::Reset(napi_env env) {
  for (napi_ref* r : {&ref_symbol, &wrap, &make_error, &map_ctor, &set_ctor, &object_prototype, &entries, &make_map,
                      &make_set, &decode}) {
    if (*r) napi_delete_reference(env, *r);
    *r = nullptr;
  }
}

bool JsToValue(napi_env env, const JsHelpers& helpers, napi_value v, const char* root, int index, Value* out,
               ErrorInfo* error) {
  Encoder encoder(env, helpers);
  if (encoder.Encode(v, out)) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  std::string where = root;
  if (index >= 0) where += "[" + std::to_string(index) + "]";
  for (auto seg = encoder.path.rbegin(); seg != encoder.path.rend(); ++seg) where += *seg;
  if (encoder.code.empty() || encoder.code == "ESEM_UNSUPPORTED_VALUE") {
    *error = BridgeFailure("ESEM_UNSUPPORTED_VALUE", where + " is " + encoder.reason + ", which cannot be passed to Python");
  } else {
    *error = BridgeFailure(encoder.code, where + " is " + encoder.reason);
  }
  return false;
}

napi_value ValueToJs(napi_env env, const JsHelpers& helpers, Value& v) { return Decoder(env, helpers).Decode(v); }

napi_value ErrorToJs(napi_env env, const JsHelpers& helpers, const ErrorInfo& e) {
  napi_value args[4], global, out = nullptr;
  const std::string& code = e.type_or_code;
  const std::string& message = e.message;
  napi_get_boolean(env, e.python, &args[0]);
  napi_create_string_utf8(env, code.data(), code.size(), &args[1]);
  napi_create_string_utf8(env, message.data(), message.size(), &args[2]);
  napi_create_string_utf8(env, e.traceback.data(), e.traceback.size(), &args[3]);
  napi_get_global(env, &global);
  if (napi_call_function(env, global, Get(env, helpers.make_error), 4, args, &out) != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, message.data(), message.size(), &msg);
    napi_create_error(env, nullptr, msg, &out);
  }
  return out;
}

}  // namespace esem
