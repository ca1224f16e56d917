"""JS functions on the Python side (docs/concurrency.md#callbacks).

A JS function passed to Python arrives as a JsFunction: a Python callable
that runs the JS function on the JS thread that passed it and returns its
result (the resolved value when it returns a promise). Each bridge has one
CallbackTable; its mode gives it two callables:

    invoke(id, args, kwargs) -> the result, or raises JSError/CallbackGone
    release(id, count)       -> tells JS that Python let go of the function
                                after receiving it `count` times

and, in native mode, the type of its JsFunctions: a C type of the same
name (native/py_js_function.cc) that calls invoke's C code directly, with
the same behaviour as the class below (which the subprocess worker uses).

The same JS function passed twice is the same JsFunction while Python
holds it. When Python drops it, the table tells JS how many times it had
received it: JS forgets the function only when that matches the number of
times it sent it, so a send already on its way is never lost.
"""

import sys
import threading
import weakref

from .cancel import CallCancelled  # noqa: F401 (here too: the addon's canceller takes it from this module)

_modules = sys.modules

__all__ = ["JSError", "CallbackGone", "CallCancelled", "JsFunction", "CallbackTable"]


class JSError(Exception):
    """A JS callback threw (or its promise rejected). `js_name` is the JS
    error's name ("TypeError", ...), `js_stack` its stack, `message` its
    message; str() is "<name>: <message>"."""

    def __init__(self, message, js_name="Error", js_stack=""):
        super().__init__(f"{js_name}: {message}" if js_name else message)
        self.message = message
        self.js_name = js_name
        self.js_stack = js_stack


class CallbackGone(RuntimeError):
    """The JS side of a callback is gone: its bridge was shut down or the
    worker_thread that passed it ended."""


class JsFunction:
    """A JS function, callable from any Python thread."""

    __slots__ = ("_id", "_table", "__weakref__")

    def __init__(self, fn_id, table):
        if type(fn_id) is not int or fn_id < 1:
            raise ValueError("JsFunction(id, table): a JS function id out of range")
        if not isinstance(table, CallbackTable):
            raise TypeError("JsFunction(id, table): the table must be an esem-bridge bridge's")
        self._id = fn_id
        self._table = table

    def __call__(self, *args, **kwargs):
        # CallbackTable.call inlined: this is every callback's path.
        table = self._table
        if table.closed:
            raise CallbackGone("this JS function's bridge was shut down")
        events = _modules.get("asyncio.events")
        loop = events._get_running_loop() if events is not None else None
        if loop is not None:
            return loop.run_in_executor(None, table._invoke, self._id, args, kwargs)
        return table._invoke(self._id, args, kwargs)

    def __repr__(self):
        return f"<JS function #{self._id}>"


class CallbackTable:
    """One bridge's JsFunctions by id."""

    def __init__(self, invoke, release, make=None):
        self._invoke = invoke
        self._release = release
        self._make = make if make is not None else JsFunction  # make(id, table)
        self._lock = threading.Lock()
        self._refs = {}  # id -> weakref to its JsFunction
        self._received = {}  # id -> times received while the current JsFunction lives
        self.closed = False

    def function(self, fn_id):
        """The JsFunction for `fn_id` (a decoder saw it in a message)."""
        with self._lock:
            ref = self._refs.get(fn_id)
            fn = ref() if ref is not None else None
            if fn is None:
                fn = self._make(fn_id, self)
                self._refs[fn_id] = weakref.ref(fn, self._dropper(fn_id))
                self._received[fn_id] = 0
            self._received[fn_id] += 1
            return fn

    def _dropper(self, fn_id):
        def dropped(ref):
            with self._lock:
                if self._refs.get(fn_id) is not ref:
                    return
                del self._refs[fn_id]
                count = self._received.pop(fn_id, 0)
            if not self.closed:
                try:
                    self._release(fn_id, count)
                except Exception:  # the JS side is gone: nothing to tell
                    pass

        return dropped

    def call(self, fn_id, args, kwargs):
        """The JS function's result. On the thread of a running asyncio
        loop (inside a coroutine) an awaitable of it instead: the loop is
        not blocked while JS runs."""
        if self.closed:
            raise CallbackGone("this JS function's bridge was shut down")
        loop = running_loop()
        if loop is not None:
            return loop.run_in_executor(None, self._invoke, fn_id, args, kwargs)
        return self._invoke(fn_id, args, kwargs)

    def close(self):
        """The bridge ended: later calls raise CallbackGone, drops tell nobody."""
        self.closed = True


def running_loop():
    """The asyncio loop running on this thread (inside a coroutine), or None.
    asyncio is not imported for it: a program that never loaded it has none."""
    events = sys.modules.get("asyncio.events")
    return events._get_running_loop() if events is not None else None
