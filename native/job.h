// Job: one operation queued by the JS thread and run by the Python thread.
// The JS thread fills the request and owns `deferred`; the Python thread
// fills the outcome. Ownership passes with the queue, never shared.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "value.h"

namespace esem {

class Channel;

enum class Op : uint8_t {
  kStart,    // initialize the interpreter if needed, load the channel's context
  kClose,    // drop the channel's objects and context (last job of a bridge)
  kImport,   // text: spec, path[0]: cwd
  kCall,     // ref.path(*args, **kwargs); empty path calls ref itself
  kGetAttr,  // ref.path
  kSetAttr,  // ref.path = args[0]
  kRelease,  // drop ref ids: args items are kInt ids
  kHelper,   // esem_bridge.ops.<text>(*args)
};

struct Job {
  std::shared_ptr<Channel> channel;  // whose context it runs in and where it is delivered
  Op op = Op::kCall;
  uint64_t ref = 0;
  std::string text;
  std::vector<std::string> path;
  Value args;    // kList
  Value kwargs;  // kDict or kNone

  uint64_t seq = 0;  // the JS side's key for the waiting promise; 0: nobody waits

  bool ok = true;
  Value result;
  ErrorInfo error;

  // Back to a blank job; vectors keep their capacity.
  void Reset() {
    op = Op::kCall;
    ref = 0;
    text.clear();
    path.clear();
    args.tag = Tag::kNone;
    // A pooled job must not keep the memory of a bulk argument list (a
    // release of thousands of ids, a call with 100 000 arguments): every
    // job of the pool would grow to the largest one it ever carried.
    if (args.items.capacity() > 16) {
      std::vector<Value>().swap(args.items);
    } else {
      args.items.clear();
    }
    if (args.s.capacity() > (1u << 16)) {
      std::string().swap(args.s);  // do not keep a bulk argument's memory in the pool
    } else {
      args.s.clear();
    }
    kwargs = Value();
    seq = 0;
    ok = true;
    result = Value();
    error = ErrorInfo();
  }

  void Fail(ErrorInfo e) {
    ok = false;
    error = std::move(e);
  }
};


}  // namespace esem
