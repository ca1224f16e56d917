// A budget in MiB from an environment variable, as bytes: the default when
// the variable is unset, empty, or not a whole number of MiB (up to 2^20).
#pragma once

#include <cstddef>
#include <cstdlib>

namespace esem {

inline size_t MibFromEnv(const char* name, size_t default_mb) {
  const char* text = std::getenv(name);
  if (!text || !*text) return default_mb << 20;
  char* end = nullptr;
  unsigned long long mb = std::strtoull(text, &end, 10);
  if (*end != '\0' || mb > (1ull << 20)) return default_mb << 20;
  return static_cast<size_t>(mb) << 20;
}

}  // namespace esem
