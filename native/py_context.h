// PyContext: what one bridge (one Channel) keeps on the Python side: its registry, the
// esem_bridge.ops callables and the types the codec recognises, and the
// per-bridge cache of described types. Python thread only (GIL held).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "py_ref.h"
#include "registry.h"

namespace esem {

struct PyContext {
  Registry registry;
  std::string library;  // the libpython this process runs

  OwnedRef ops;  // the esem_bridge.ops module
  OwnedRef import_module, describe, format_exception;
  OwnedRef datetime_from_ms, typed_view;
  OwnedRef coroutine_type;
  OwnedRef plain_form;     // esem_bridge.ops.plain_form: the rule for every non-builtin result
  OwnedRef gc_enable, gc_disable, gc_isenabled;  // the gc module's (see CollectorPause)
  OwnedRef modules;        // sys.modules
  OwnedRef builtins, builtin_eval, builtin_exec;  // the builtins module, its eval and exec
  OwnedRef fresh_globals_for;                      // esem_bridge.ops.fresh_globals_for
  OwnedRef js_function_type;                       // esem_bridge.callback.JsFunction
  OwnedRef aio_submit;                             // esem_bridge.aio.submit
  // The bridge's esem_bridge.callback.CallbackTable and its bound
  // `function` (wire JsFunction -> JsFunction); empty: no callbacks here.
  OwnedRef callbacks, callback_function;
  // Functions of modules callSync() has called, by handle - 1 (bridge_sync.cc).
  std::vector<OwnedRef> sync_targets;
  // Uses `table` for JS functions (reader and writer). False with a Python error set.
  bool SetCallbacks(PyObject* table);

  // Types whose description the JS side has cached, by index (1-based).
  std::unordered_map<PyObject*, uint32_t> type_index;
  std::vector<OwnedRef> described_types;
  // By index - 1: JS has been sent the type's description in a message
  // delivered before any later one is written. Until then every writer
  // describes it (results may be delivered out of the order they were
  // written in when several threads write).
  std::vector<char> type_committed;
  // After a job that described `indices` was delivered (GIL held).
  void CommitTypes(const std::vector<uint32_t>& indices) {
    for (uint32_t i : indices) {
      if (i >= 1 && i <= type_committed.size()) type_committed[i - 1] = 1;
    }
  }
  // Types plain_form said always become proxies (held, so an address is
  // never reused by another type while it is here); bounded.
  std::unordered_map<PyObject*, OwnedRef> proxy_types;

  // Attribute names, interned once (so getattr compares pointers); bounded.
  std::unordered_map<std::string, OwnedRef> names;
  // A borrowed, interned str for `name`; nullptr with a Python error set.
  PyObject* Name(const std::string& name);

  // Imports esem_bridge.ops (its folder must be on sys.path). "" or an error.
  std::string Load();
  // Drops every reference held (registry included).
  void Clear();
};

}  // namespace esem
