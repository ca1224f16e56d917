// The native mode's JsFunction (docs/concurrency.md#callbacks): a JS
// function as a Python callable, a C type named
// esem_bridge.callback.JsFunction. A bridge's CallbackTable makes one per
// JS function id while Python holds it (callback.py); calling it, on any
// Python thread, goes straight to InvokeJsFunction (py_callbacks.h) with
// no Python frame in between: vectorcall on 3.9+, tp_call on 3.8. Inside
// a running asyncio loop it goes through CallbackTable.call instead, which
// returns an awaitable. The subprocess worker keeps callback.py's
// pure-Python JsFunction. GIL held throughout.
#pragma once

#include "py_api.h"

namespace esem {

// The process's one type (one interpreter per process), made on first use;
// nullptr with a Python error set. JsFunctionType()(id, table) makes one:
// `table` is a CallbackTable whose `_invoke` is a native JsInvoker.
PyObject* JsFunctionType();

}  // namespace esem
