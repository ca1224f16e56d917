// Settling: finished jobs come back from the Python host through the
// channel and their promises resolve or reject, in one pass per wake-up
// (from the thread-safe function, or from the loop spinner while calls are
// in flight). JS thread only.
#include "bridge.h"

namespace esem {

// Called by the spinner from the event loop: a callback scope, so that the
// promise reactions (the caller's `await`) run as they do after any callback.
void Bridge::DrainFromLoop() {
  napi_handle_scope handles;
  napi_open_handle_scope(env_, &handles);
  napi_value resource = nullptr;
  napi_callback_scope scope = nullptr;
  if (async_resource_ && napi_get_reference_value(env_, async_resource_, &resource) == napi_ok &&
      napi_open_callback_scope(env_, resource, async_context_, &scope) == napi_ok) {
    draining_from_loop_ = true;
    try {
      Drain(env_);
    } catch (...) {  // see OnResults
    }
    napi_close_callback_scope(env_, scope);
    draining_from_loop_ = false;
    if (release_async_later_) ReleaseAsyncContext();
  } else {
    Kick();  // no callback scope here: let the thread-safe function deliver
  }
  napi_close_handle_scope(env_, handles);
}

void Bridge::Kick() {
  if (notifier_) notifier_->Notify();
}

void Bridge::OnResults(napi_env env, napi_value, void* context, void*) {
  if (!env) return;
  // A loop callback: a C++ exception must not leave it (it would end the
  // process). The only ones possible come from a dying environment.
  try {
    static_cast<Bridge*>(context)->Drain(env);
  } catch (...) {
  }
}

void Bridge::Drain(napi_env env) {
  if (!channel_) return;
  FlushOutbox();  // calls gathered since the last drain (Submit)
  channel_->returns->DeleteAll(env);  // shared() buffers Python let go of
  JobList results;
  channel_->TakeResults(&results);
  bool closed = false;
  for (auto& job : results) {
    if (job->op == Op::kCallback) {
      StartCallback(env, std::move(job));
      continue;
    }
    if (job->op == Op::kCallbackRelease) {
      ReleaseCallback(env, *job);
      continue;
    }
    if (job->json_overflow && !json_keep_) json_limit_ = 0;  // the cold lane is spent (src/json-lane.ts)
    if (job->op == Op::kClose) closed = true;
    if (job->op == Op::kStart && !job->ok) state_ = State::kStopping;  // a failed start ends the bridge
    if (job->op == Op::kStart && job->ok) started_ = true;
    napi_deferred d = job->seq ? pending_.Take(job->seq) : nullptr;
    if (d) {
      Settle(env, *job, d);
    } else if (job->seq && job->ok) {
      DropResult(env, *job);  // a cancelled call's late result
    } else if (!job->ok && !job->error.links.empty()) {
      ReleaseLinks(env, job->error);  // a cancelled call's error: nobody gets its exception objects
    }
  }
  for (auto& job : results) {
    if (job) Recycle(std::move(job));
  }
  results.clear();
  if (pending_.empty()) {
    spinner_.Stop();
    TrimSpares();
  } else {
    spinner_.Poke();
  }
  if (closed || (state_ == State::kStopping && !close_sent_)) FinishStop(env);
  UpdateRef(env);
}

// Made into JS values all the same and dropped: the types it describes are
// described only once (later results send their index), and its objects'
// proxies, collected, release them.
void Bridge::DropResult(napi_env env, Job& job) {
  if (job.result_json || (job.result_wire.empty() && job.result.kind != Scalar::Kind::kRef)) return;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (!ResultToJs(env, helpers_, job)) {
    bool pending = false;
    napi_value ignored;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &ignored);
  }
  napi_close_handle_scope(env, scope);
}

void Bridge::ReleaseLinks(napi_env env, const ErrorInfo& error) {
  auto release = NewJob();
  release->op = Op::kRelease;
  for (const ErrorLink& l : error.links) release->ids.push_back(l.ref);
  Submit(env, std::move(release), false);
}

void Bridge::Settle(napi_env env, Job& job, napi_deferred d) {
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (job.ok) {
    napi_value v = ResultToJs(env, helpers_, job);
    if (v) {
      napi_resolve_deferred(env, d, v);
    } else {
      // The conversion failed: with a JS exception (thrown by a hook), or
      // without one (V8 refused a value, e.g. a string past its length limit).
      napi_value exception = nullptr;
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) napi_get_and_clear_last_exception(env, &exception);
      if (!exception) {
        exception = ErrorToJs(env, helpers_, BridgeFailure("ESEM_INTERNAL",
            "the result could not be made into a JS value (a string or buffer past the JS engine's size limit?)"));
      }
      napi_reject_deferred(env, d, exception);
    }
  } else {
    napi_reject_deferred(env, d, ErrorToJs(env, helpers_, job.error));
  }
  napi_close_handle_scope(env, scope);
}

void Bridge::FinishStop(napi_env env) {
  // A failed start leaves the bridge unusable; a requested stop, stopped.
  state_ = State::kStopped;
  AbandonCallbacks();
  UpdateRef(env);
  CloseTsfn();
  if (stop_deferred_) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, stop_deferred_, undefined);
    stop_deferred_ = nullptr;
  }
}

}  // namespace esem
