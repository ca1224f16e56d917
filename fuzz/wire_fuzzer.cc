// libFuzzer harness for the native wire decoder (native/wire.cc), built
// without Python or Node by scripts/fuzz-wire.sh. Any input must either
// parse or fail with an error string: no crash, no sanitizer report, no
// exception, no allocation the input cannot account for. What parses is
// written back and parsed again (when it has no Ref or Typed value, whose
// Python -> JS layout differs) and must come back the same.
// Seeds: fuzz/corpus/wire (node fuzz/make-seeds.mjs). Run: scripts/fuzz-wire.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "wire.h"

namespace {

bool OneWay(const esem::Value& v) {
  if (v.tag == esem::Tag::kRef || v.tag == esem::Tag::kTyped) return true;
  for (const esem::Value& item : v.items) {
    if (OneWay(item)) return true;
  }
  return false;
}

// Levels below v (a scalar: 0).
int Depth(const esem::Value& v) {
  int deepest = 0;
  for (const esem::Value& item : v.items) {
    int d = Depth(item) + 1;
    if (d > deepest) deepest = d;
  }
  return deepest;
}

bool Same(const esem::Value& a, const esem::Value& b) {
  if (a.tag != b.tag || a.items.size() != b.items.size()) return false;
  switch (a.tag) {
    case esem::Tag::kBool:
      if (a.b != b.b) return false;
      break;
    case esem::Tag::kInt:
    case esem::Tag::kFloat:
    case esem::Tag::kDate:
      if (std::memcmp(&a.i, &b.i, 8) != 0) return false;  // bit for bit: NaN, -0
      break;
    case esem::Tag::kStr:
      if (a.utf16 != b.utf16) return false;
      [[fallthrough]];
    default:
      if (a.s != b.s) return false;
  }
  for (size_t i = 0; i < a.items.size(); i++) {
    if (!Same(a.items[i], b.items[i])) return false;
  }
  return true;
}

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "wire_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  esem::Value parsed;
  std::string error;
  if (!esem::ParseWire(bytes, &parsed, &error)) {
    if (error.empty()) Fail("rejected without an error", "");
    return 0;
  }
  if (!error.empty()) Fail("parsed but set an error", error);
  if (parsed.tag != esem::Tag::kList) Fail("top level is not a list", "");
  // The round trip writes the values as one list (one key table, as the
  // reader has), one level deeper than they came.
  if (OneWay(parsed) || Depth(parsed) > 256) return 0;
  std::string written;
  esem::WriteWire(parsed, &written);
  esem::Value again;
  if (!esem::ParseWire(written, &again, &error)) Fail("its own output does not parse", error);
  if (again.items.size() != 1 || !Same(parsed, again.items[0])) Fail("round trip differs", "");
  esem::WorthWire(parsed, 0);
  esem::WorthWire(parsed, 48);
  return 0;
}
