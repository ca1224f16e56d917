// Wire format reader (JS arguments) and writer (Python results).
#include "wire.h"

#include <cstring>
#include <exception>
#include <unordered_map>
#include <vector>

namespace esem {
namespace {

// Wire tags beyond Value's own (src/codec.ts).
constexpr uint8_t kWireStr16 = 15;
constexpr uint8_t kWireKeyRef = 16;
// Deeper input is refused with an error (the reader recurses; the encoders
// on both sides stop at 256 too).
constexpr int kMaxWireDepth = 256;

// Every length and count read from the bytes is checked against what is
// left before anything is allocated: a count of n items needs at least
// n * (smallest item) bytes. Reservations share one budget of one item per
// input byte (every value takes a byte at least), so nested containers
// whose counts each claim the rest of the input cannot multiply it; past
// the budget storage grows with the items actually read. Nothing here
// throws but std::bad_alloc, which ParseWire catches.
class Reader {
 public:
  explicit Reader(const std::string& b)
      : begin_(b.data()), p_(b.data()), end_(b.data() + b.size()), reserve_budget_(b.size()) {}

  bool Value_(Value* out, int depth) {
    if (depth > kMaxWireDepth) return Bad("nested more than " + std::to_string(kMaxWireDepth) + " levels deep");
    uint8_t tag;
    if (!U8(&tag)) return false;
    switch (tag) {
      case 0:
        out->tag = Tag::kNone;
        return true;
      case 1: {
        uint8_t b;
        if (!U8(&b)) return false;
        out->tag = Tag::kBool;
        out->b = b != 0;
        return true;
      }
      case 2:
        out->tag = Tag::kInt;
        return Raw(&out->i, 8);
      case 3: {
        size_t at = Offset() - 1;
        out->tag = Tag::kBigInt;
        if (!Bytes(&out->s)) return false;
        if (!IsHex(out->s)) return Bad("a bigint at byte " + std::to_string(at) + " that is not hex digits");
        return true;
      }
      case 4:
        out->tag = Tag::kFloat;
        return Raw(&out->f, 8);
      case 5:
        out->tag = Tag::kStr;
        return Bytes(&out->s);
      case kWireStr16: {
        uint32_t n;
        if (!U32(&n) || !Need(static_cast<size_t>(n) * 2, "a UTF-16 string")) return false;
        out->tag = Tag::kStr;
        out->utf16 = true;
        out->s.assign(p_, static_cast<size_t>(n) * 2);
        p_ += static_cast<size_t>(n) * 2;
        return true;
      }
      case 6:
        out->tag = Tag::kBytes;
        return Bytes(&out->s);
      case 7:
      case 10:
        return Items(tag == 7 ? Tag::kList : Tag::kSet, 1, kMinValue, out, depth);
      case 8:
        return DictItems(out, depth);
      case 9:
        return Items(Tag::kMap, 2, kMinValue, out, depth);
      case 11:
        out->tag = Tag::kDate;
        return Raw(&out->f, 8);
      case 12:
        return Ref(out, depth);
      case 13: {
        uint8_t format;
        if (!U8(&format)) return false;
        out->tag = Tag::kTyped;
        out->items.emplace_back(Value::Str(std::string(1, static_cast<char>(format))));
        return Bytes(&out->s);
      }
    }
    return Bad("unknown tag " + std::to_string(tag) + " at byte " + std::to_string(Offset() - 1));
  }

  bool AtEnd() const { return p_ == end_; }
  size_t Offset() const { return static_cast<size_t>(p_ - begin_); }
  std::string error;

 private:
  // The fewest bytes a value takes (None), and a string (tag and length).
  static constexpr size_t kMinValue = 1;
  static constexpr size_t kMinStr = 5;

  // What src/codec.ts writes for a bigint: an optional '-', then lower-case
  // hex digits (PyLong_FromString would stop at a NUL, and take spaces).
  static bool IsHex(const std::string& s) {
    size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
    if (i == s.size()) return false;
    for (; i < s.size(); i++) {
      char c = s[i];
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
  }
  bool Bad(const std::string& what) {
    if (error.empty()) error = "malformed wire data: " + what;
    return false;
  }
  size_t Left() const { return static_cast<size_t>(end_ - p_); }
  bool Need(size_t n, const char* what) {
    if (Left() >= n) return true;
    return Bad(std::string(what) + " at byte " + std::to_string(Offset()) + " needs " + std::to_string(n) +
               (n == 1 ? " byte, " : " bytes, ") + std::to_string(Left()) + " left");
  }
  bool U8(uint8_t* v) {
    if (!Need(1, "a value")) return false;
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool U32(uint32_t* v) { return Raw(v, 4); }
  bool Raw(void* v, size_t n) {
    if (!Need(n, "a number")) return false;
    std::memcpy(v, p_, n);  // little-endian hosts only (x64, arm64)
    p_ += n;
    return true;
  }
  bool Bytes(std::string* s) {
    uint32_t n;
    if (!U32(&n) || !Need(n, "a string")) return false;
    s->assign(p_, n);
    p_ += n;
    return true;
  }
  void Reserve(Value* out, size_t n) {
    n = n < reserve_budget_ ? n : reserve_budget_;
    reserve_budget_ -= n;
    out->items.reserve(n);
  }
  // A count of n entries, each at least min_entry bytes.
  bool Count(uint32_t* n, uint64_t min_entry) {
    if (!U32(n)) return false;
    if (static_cast<uint64_t>(*n) * min_entry > Left()) {
      return Bad("a count of " + std::to_string(*n) + " at byte " + std::to_string(Offset() - 4) +
                 " is more than the " + std::to_string(Left()) + " bytes left can hold");
    }
    return true;
  }
  bool Items(Tag tag, uint32_t per, size_t min_size, Value* out, int depth) {
    uint32_t n;
    if (!Count(&n, static_cast<uint64_t>(per) * min_size)) return false;
    out->tag = tag;
    size_t total = static_cast<size_t>(n) * per;
    Reserve(out, total);
    for (size_t i = 0; i < total; i++) {
      out->items.emplace_back();
      if (!Value_(&out->items.back(), depth + 1)) return false;
    }
    return true;
  }
  bool Ref(Value* out, int depth) {
    double id;
    uint32_t n;
    if (!Raw(&id, 8)) return false;
    // Registry ids are integers below 2^53 (they pass through JS numbers).
    if (!(id >= 0 && id <= 9007199254740991.0) || id != static_cast<double>(static_cast<uint64_t>(id))) {
      return Bad("a proxy id that is not a registry id");
    }
    if (!Count(&n, kMinStr)) return false;
    out->tag = Tag::kRef;
    out->ref = static_cast<uint64_t>(id);
    Reserve(out, n);
    for (uint32_t i = 0; i < n; i++) {
      out->items.emplace_back();
      if (!Value_(&out->items.back(), depth + 1)) return false;
      if (out->items.back().tag != Tag::kStr) return Bad("a proxy path name that is not a string");
    }
    return true;
  }
  bool DictItems(Value* out, int depth) {
    uint32_t n;
    // An entry: a key (Str or KeyRef, 5 bytes at least) and a value.
    if (!Count(&n, kMinStr + kMinValue)) return false;
    out->tag = Tag::kDict;
    Reserve(out, static_cast<size_t>(n) * 2);
    for (uint32_t i = 0; i < n; i++) {
      out->items.emplace_back();
      Value& key = out->items.back();
      if (!Need(1, "a dict key")) return false;
      if (static_cast<uint8_t>(*p_) == kWireKeyRef) {
        p_++;
        uint32_t index;
        if (!U32(&index)) return false;
        if (index >= keys_.size()) {
          return Bad("key reference " + std::to_string(index) + " at byte " + std::to_string(Offset() - 5) +
                     " names none of the " + std::to_string(keys_.size()) + " keys read so far");
        }
        key.tag = Tag::kStr;
        key.utf16 = keys_[index].utf16;
        key.s = keys_[index].s;
      } else {
        if (!Value_(&key, depth + 1)) return false;
        if (key.tag != Tag::kStr) return Bad("a dict key that is not a string");
        keys_.push_back({key.s, key.utf16});
      }
      out->items.emplace_back();
      if (!Value_(&out->items.back(), depth + 1)) return false;
    }
    return true;
  }

  struct Key {
    std::string s;
    bool utf16;
  };
  const char* begin_;
  const char* p_;
  const char* end_;
  size_t reserve_budget_;  // items
  std::vector<Key> keys_;
};

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  void Write(const Value& v) {
    switch (v.tag) {
      case Tag::kNone:
        return U8(0);
      case Tag::kBool:
        U8(1);
        return U8(v.b ? 1 : 0);
      case Tag::kInt:
        U8(2);
        return Raw(&v.i, 8);
      case Tag::kBigInt:
        U8(3);
        return Bytes(v.s);
      case Tag::kFloat:
        U8(4);
        return Raw(&v.f, 8);
      case Tag::kStr:
        return Str(v);
      case Tag::kBytes:
      case Tag::kTyped:
        U8(6);
        return Bytes(v.s);
      case Tag::kList:
      case Tag::kSet:
      case Tag::kMap: {
        U8(v.tag == Tag::kList ? 7 : v.tag == Tag::kSet ? 10 : 9);
        U32(static_cast<uint32_t>(v.tag == Tag::kMap ? v.items.size() / 2 : v.items.size()));
        for (const Value& item : v.items) Write(item);
        return;
      }
      case Tag::kDict: {
        U8(8);
        U32(static_cast<uint32_t>(v.items.size() / 2));
        for (size_t i = 0; i + 1 < v.items.size(); i += 2) {
          Key(v.items[i]);
          Write(v.items[i + 1]);
        }
        return;
      }
      case Tag::kDate:
        U8(11);
        return Raw(&v.f, 8);
      case Tag::kRef:
        return Ref(v);
      case Tag::kNdArray: {
        U8(14);
        // items: element code, dtype name, dims (py_codec.cc's NdArray makes all three or fails).
        Str(v.items[0]);
        Str(v.items[1]);
        U32(static_cast<uint32_t>(v.items.size() - 2));
        for (size_t i = 2; i < v.items.size(); i++) {
          double d = static_cast<double>(v.items[i].i);
          Raw(&d, 8);
        }
        return Bytes(v.s);
      }
      case Tag::kWire:
        out_->append(v.s);
        return;
    }
  }

 private:
  void U8(uint8_t b) { out_->push_back(static_cast<char>(b)); }
  void U32(uint32_t n) { Raw(&n, 4); }
  void Raw(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }
  void Bytes(const std::string& s) {
    U32(static_cast<uint32_t>(s.size()));
    out_->append(s);
  }
  void Str(const Value& v) {
    if (v.utf16) {
      U8(kWireStr16);
      U32(static_cast<uint32_t>(v.s.size() / 2));
      out_->append(v.s);
      return;
    }
    U8(5);
    Bytes(v.s);
  }
  void PlainStr(const std::string& s) {
    U8(5);
    Bytes(s);
  }
  // Every key sent in full takes the next index on both sides; only UTF-8
  // keys are looked up again (UTF-16 ones are rare).
  void Key(const Value& k) {
    if (!k.utf16) {
      auto found = keys_.find(k.s);
      if (found != keys_.end()) {
        U8(kWireKeyRef);
        return U32(found->second);
      }
      keys_.emplace(k.s, static_cast<uint32_t>(next_key_));
    }
    next_key_++;
    Str(k);
  }
  void Ref(const Value& v) {
    U8(12);
    double id = static_cast<double>(v.ref);
    Raw(&id, 8);
    U32(v.type_index);
    U8(v.desc ? 1 : 0);
    if (!v.desc) return;
    PlainStr(v.desc->kind);
    PlainStr(v.desc->type_name);
    U32(static_cast<uint32_t>(v.desc->members.size()));
    for (const auto& m : v.desc->members) PlainStr(m);
    U8(v.desc->has_release);
    U8(v.desc->callable);
    U8(v.desc->iterable);
  }

  std::string* out_;
  std::unordered_map<std::string, uint32_t> keys_;
  size_t next_key_ = 0;
};

size_t CountNodes(const Value& v, size_t limit) {
  size_t n = 1;
  for (const Value& item : v.items) {
    if (n >= limit) break;
    n += CountNodes(item, limit - n);
  }
  return n;
}

// Whether every length in v fits the wire format's 32-bit fields.
bool FitsWire(const Value& v) {
  constexpr size_t kMax = 0xffffffffu;
  if (v.s.size() > kMax || v.items.size() > kMax) return false;
  for (const Value& item : v.items) {
    if (!FitsWire(item)) return false;
  }
  return true;
}

}  // namespace

bool ParseWire(const std::string& bytes, Value* out, std::string* error) {
  Reader reader(bytes);
  out->tag = Tag::kList;
  try {
    while (!reader.AtEnd()) {
      out->items.emplace_back();
      if (!reader.Value_(&out->items.back(), 0)) {
        *error = reader.error;
        return false;
      }
    }
  } catch (const std::exception& e) {  // std::bad_alloc: the input is checked, memory may still run out
    *error = std::string("could not decode the wire data: ") + e.what();
    return false;
  }
  return true;
}

void WriteWire(const Value& v, std::string* out) { Writer(out).Write(v); }

bool WorthWire(const Value& v, int threshold) {
  if (threshold < 0) return false;
  if (threshold == 0) return FitsWire(v);
  size_t limit = static_cast<size_t>(threshold);
  return (v.tag == Tag::kList || v.tag == Tag::kDict || v.tag == Tag::kMap || v.tag == Tag::kSet) &&
         CountNodes(v, limit + 1) > limit && FitsWire(v);
}

}  // namespace esem
