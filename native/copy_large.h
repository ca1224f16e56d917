// One copy of a large payload (a Buffer argument copied into a Python
// bytes, a TypedArray's data into an array) at memory speed. Above
// kStreamFrom bytes the copy writes with non-temporal stores: the payload
// is larger than this machine's L2 and most of its L3, so caching the
// destination only evicts what was there and makes every line be read
// before it is written. glibc's memcpy switches to such stores only past
// ~3/4 of the L3 (24 MiB on this project's machines), and a bytes
// object's data starts 32 bytes past a cache line, which its `rep movsb`
// copies slower. Measured here (medians of 30, 16 MiB into memory already
// touched, destination 32 bytes into a line): memcpy 0.70-0.94 ms,
// streamed 0.58-0.64 ms; 64 MiB 4.2-5.7 against 3.2-4.0 ms; 4 MiB the same.
// x86-64 only (SSE2 is part of it); elsewhere memcpy. Any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#endif

namespace esem {

constexpr size_t kStreamFrom = size_t{8} << 20;

inline void CopyLarge(void* to, const void* from, size_t n) {
#if defined(__x86_64__) || defined(_M_X64)
  if (n >= kStreamFrom) {
    auto* d = static_cast<char*>(to);
    const auto* s = static_cast<const char*>(from);
    size_t head = (64 - (reinterpret_cast<uintptr_t>(d) & 63)) & 63;
    std::memcpy(d, s, head);
    d += head;
    s += head;
    n -= head;
    for (size_t lines = n / 64; lines > 0; lines--, d += 64, s += 64) {
      __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
      __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16));
      __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 32));
      __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 48));
      _mm_stream_si128(reinterpret_cast<__m128i*>(d), a);
      _mm_stream_si128(reinterpret_cast<__m128i*>(d + 16), b);
      _mm_stream_si128(reinterpret_cast<__m128i*>(d + 32), c);
      _mm_stream_si128(reinterpret_cast<__m128i*>(d + 48), e);
    }
    _mm_sfence();  // the streamed stores are ordered before anything after the copy
    std::memcpy(d, s, n & 63);
    return;
  }
#endif
  std::memcpy(to, from, n);
}

}  // namespace esem
