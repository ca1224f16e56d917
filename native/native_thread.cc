// Thread start with an explicit stack size: pthread attributes on POSIX,
// _beginthreadex on Windows. Any thread.
#include "native_thread.h"

#include <cerrno>
#include <cstdint>
#include <memory>
#include <system_error>

#include "windows_lean.h"
#ifdef _WIN32
#include <process.h>
#else
#include <pthread.h>
#endif

namespace esem {
namespace {

using Body = std::function<void()>;

#ifdef _WIN32
unsigned __stdcall Trampoline(void* arg) {
  std::unique_ptr<Body> body(static_cast<Body*>(arg));
  (*body)();
  return 0;
}
#else
void* Trampoline(void* arg) {
  std::unique_ptr<Body> body(static_cast<Body*>(arg));
  (*body)();
  return nullptr;
}
#endif

}  // namespace

void StartDetachedThread(std::function<void()> fn) {
  auto body = std::make_unique<Body>(std::move(fn));
#ifdef _WIN32
  // The stack size is the reserve (not committed up front), as for the main thread.
  uintptr_t handle = _beginthreadex(nullptr, static_cast<unsigned>(kThreadStackBytes), Trampoline, body.get(),
                                    STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
  if (handle == 0) throw std::system_error(errno, std::generic_category(), "_beginthreadex");
  body.release();  // the thread owns it now
  CloseHandle(reinterpret_cast<HANDLE>(handle));
#else
  pthread_attr_t attr;
  int rc = pthread_attr_init(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_attr_init");
  std::size_t size = 0;
  if (pthread_attr_getstacksize(&attr, &size) != 0 || size < kThreadStackBytes) {
    rc = pthread_attr_setstacksize(&attr, kThreadStackBytes);
  }
  if (rc == 0) rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  if (rc == 0) rc = pthread_create(&thread, &attr, Trampoline, body.get());
  pthread_attr_destroy(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_create");
  body.release();  // the thread owns it now
#endif
}

}  // namespace esem
