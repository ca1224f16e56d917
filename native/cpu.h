// Which CPU the calling thread runs on (-1 where the platform cannot say).
// The spinning hand-off uses it to stop spinning when the JS thread and the
// Python thread share one core: there a spin only delays the other side.
#pragma once

#if defined(__linux__)
#include <sched.h>
#endif

namespace esem {

inline int CurrentCpu() {
#if defined(__linux__)
  return sched_getcpu();
#else
  return -1;
#endif
}

// True when both threads are known to be on the same CPU.
inline bool SameCpu(int a, int b) { return a >= 0 && a == b; }

}  // namespace esem
