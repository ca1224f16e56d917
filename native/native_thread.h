// Starts the addon's own threads (the Python host, spare and canceller
// threads, native/python_host.cc) with a stack of a known size instead of
// the platform's default, which is 512 KiB for secondary threads on macOS
// and 1 MiB on Windows: too little for Python code that recurses through C
// (each level a fresh run of the interpreter loop) up to the default
// recursion limit. Any thread.
#pragma once

#include <cstddef>
#include <functional>

namespace esem {

// 8 MiB, the usual Linux default (RLIMIT_STACK), and what CPython's own
// main thread gets there. A larger platform default is kept.
constexpr std::size_t kThreadStackBytes = std::size_t{8} << 20;

// Runs fn on a new detached thread whose stack is at least
// kThreadStackBytes. Throws std::system_error when the thread cannot be
// started, as std::thread does.
void StartDetachedThread(std::function<void()> fn);

}  // namespace esem
