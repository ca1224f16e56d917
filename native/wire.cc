// Wire format reader (JS arguments) and writer (Python results).
#include "wire.h"

#include <cstring>
#include <unordered_map>
#include <vector>

namespace esem {
namespace {

// Wire tags beyond Value's own (src/codec.ts).
constexpr uint8_t kWireStr16 = 15;
constexpr uint8_t kWireKeyRef = 16;

class Reader {
 public:
  explicit Reader(const std::string& b) : p_(b.data()), end_(b.data() + b.size()) {}

  bool Value_(Value* out, int depth) {
    if (depth > 256) return Bad("nested too deeply");
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
      case 3:
        out->tag = Tag::kBigInt;
        return Bytes(&out->s);
      case 4:
        out->tag = Tag::kFloat;
        return Raw(&out->f, 8);
      case 5:
        out->tag = Tag::kStr;
        return Bytes(&out->s);
      case kWireStr16: {
        uint32_t n;
        if (!U32(&n) || !Need(static_cast<size_t>(n) * 2)) return false;
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
        return Items(tag == 7 ? Tag::kList : Tag::kSet, 1, out, depth);
      case 8:
        return DictItems(out, depth);
      case 9:
        return Items(Tag::kMap, 2, out, depth);
      case 11:
        out->tag = Tag::kDate;
        return Raw(&out->f, 8);
      case 12: {
        double id;
        uint32_t n;
        if (!Raw(&id, 8) || !U32(&n)) return false;
        out->tag = Tag::kRef;
        out->ref = static_cast<uint64_t>(id);
        out->items.resize(n);
        for (uint32_t i = 0; i < n; i++) {
          if (!Value_(&out->items[i], depth + 1) || out->items[i].tag != Tag::kStr) return Bad("bad ref path");
        }
        return true;
      }
      case 13: {
        uint8_t format;
        if (!U8(&format)) return false;
        out->tag = Tag::kTyped;
        out->items.push_back(Value::Str(std::string(1, static_cast<char>(format))));
        return Bytes(&out->s);
      }
    }
    return Bad("unknown tag " + std::to_string(tag));
  }

  bool AtEnd() const { return p_ == end_; }
  std::string error;

 private:
  bool Bad(const std::string& what) {
    error = "malformed wire data: " + what;
    return false;
  }
  bool Need(size_t n) { return static_cast<size_t>(end_ - p_) >= n || Bad("truncated"); }
  bool U8(uint8_t* v) {
    if (!Need(1)) return false;
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool U32(uint32_t* v) { return Raw(v, 4); }
  bool Raw(void* v, size_t n) {
    if (!Need(n)) return false;
    std::memcpy(v, p_, n);  // little-endian hosts only (x64, arm64)
    p_ += n;
    return true;
  }
  bool Bytes(std::string* s) {
    uint32_t n;
    if (!U32(&n) || !Need(n)) return false;
    s->assign(p_, n);
    p_ += n;
    return true;
  }
  bool Items(Tag tag, uint32_t per, Value* out, int depth) {
    uint32_t n;
    if (!U32(&n)) return false;
    if (static_cast<uint64_t>(n) * per > static_cast<uint64_t>(end_ - p_)) return Bad("count past the end");
    out->tag = tag;
    out->items.resize(static_cast<size_t>(n) * per);
    for (auto& item : out->items) {
      if (!Value_(&item, depth + 1)) return false;
    }
    return true;
  }
  bool DictItems(Value* out, int depth) {
    uint32_t n;
    if (!U32(&n)) return false;
    if (static_cast<uint64_t>(n) * 2 > static_cast<uint64_t>(end_ - p_)) return Bad("count past the end");
    out->tag = Tag::kDict;
    out->items.resize(static_cast<size_t>(n) * 2);
    for (uint32_t i = 0; i < n; i++) {
      Value& key = out->items[2 * i];
      if (!Need(1)) return false;
      if (static_cast<uint8_t>(*p_) == kWireKeyRef) {
        p_++;
        uint32_t index;
        if (!U32(&index) || index >= keys_.size()) return Bad("bad key reference");
        key.tag = Tag::kStr;
        key.utf16 = keys_[index].utf16;
        key.s = keys_[index].s;
      } else {
        if (!Value_(&key, depth + 1) || key.tag != Tag::kStr) return Bad("a dict key that is not a string");
        keys_.push_back({key.s, key.utf16});
      }
      if (!Value_(&out->items[2 * i + 1], depth + 1)) return false;
    }
    return true;
  }

  struct Key {
    std::string s;
    bool utf16;
  };
  const char* p_;
  const char* end_;
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
        Str(v.items.at(0));
        Str(v.items.at(1));
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

}  // namespace

bool ParseWire(const std::string& bytes, Value* out, std::string* error) {
  Reader reader(bytes);
  out->tag = Tag::kList;
  while (!reader.AtEnd()) {
    out->items.emplace_back();
    if (!reader.Value_(&out->items.back(), 0)) {
      *error = reader.error;
      return false;
    }
  }
  return true;
}

void WriteWire(const Value& v, std::string* out) { Writer(out).Write(v); }

bool WorthWire(const Value& v, int threshold) {
  if (threshold < 0) return false;
  if (threshold == 0) return true;
  size_t limit = static_cast<size_t>(threshold);
  return (v.tag == Tag::kList || v.tag == Tag::kDict || v.tag == Tag::kMap || v.tag == Tag::kSet) &&
         CountNodes(v, limit + 1) > limit;
}

}  // namespace esem
