"""What JS has no syntax for: `with` blocks, expressions and statements
with JS values bound as real names, attribute deletion, isinstance and
list(). The JS API calls these through esem_bridge.ops (docs/objects.md);
both modes share them.

Thread: called with the GIL held, on a bridge thread.
"""

import sys
import types

EVAL_FILENAME = "<esem eval>"
EXEC_FILENAME = "<esem exec>"


# ---- context managers: withContext(cm, fn) ---------------------------------


def context_enter(cm):
    """`with cm as value:` up to the block: the value of __enter__ (or the
    coroutine of __aenter__ for an async context manager; the bridge awaits
    it). Looked up on the type, as the `with` statement does."""
    t = type(cm)
    if hasattr(t, "__enter__") and hasattr(t, "__exit__"):
        return t.__enter__(cm)
    if hasattr(t, "__aenter__") and hasattr(t, "__aexit__"):
        return t.__aenter__(cm)
    raise TypeError("'%s' object does not support the context manager protocol "
                    "(it has no __enter__/__exit__ nor __aenter__/__aexit__)" % t.__qualname__)


def context_exit(cm, error, js_parts):
    """The end of the block: __exit__(None, None, None) when the JS callback
    returned (error and js_parts None), else __exit__ with the exception:
    `error` is the Python exception a PythonError carried, or js_parts
    (name, message, stack) of a JS error, raised as esem_bridge.callback.JSError.
    Returns whether __exit__ suppressed the exception."""
    t = type(cm)
    if error is None and js_parts is not None:
        from .callback import JSError

        name, message, stack = js_parts
        error = JSError(message, name, stack)
    if error is not None and not isinstance(error, BaseException):
        raise TypeError("context_exit: %r is not an exception" % (error,))
    exc_info = (None, None, None) if error is None else (type(error), error, error.__traceback__)
    if hasattr(t, "__exit__"):
        return bool(t.__exit__(cm, *exc_info))
    return _aexit(t.__aexit__(cm, *exc_info))


async def _aexit(awaitable):
    return bool(await awaitable)


# ---- expressions and statements: pyEval / pyExec ---------------------------


def new_namespace():
    """A fresh top-level namespace, as a module: its attributes are the
    variables code run in it defines, readable from JS as `await ns.x`."""
    ns = types.ModuleType("__esem__")
    ns.__dict__["__builtins__"] = sys.modules["builtins"]
    return ns


def _globals_of(namespace):
    if namespace is None:
        return new_namespace().__dict__
    if isinstance(namespace, dict):
        namespace.setdefault("__builtins__", sys.modules["builtins"])
        return namespace
    if isinstance(namespace, types.ModuleType):
        return namespace.__dict__
    raise TypeError("a namespace is a module or a dict, not %s" % type(namespace).__qualname__)


def _bound(names, values):
    if len(names) != len(values):
        raise ValueError("%d names for %d values" % (len(names), len(values)))
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError("%r cannot be bound: a bound name must be a Python identifier" % (name,))
    return dict(zip(names, values))


def evaluate(source, namespace, names, values):
    """eval(source) with names bound to values. The bound names shadow the
    namespace's for this expression only (a copy of its globals, so that
    comprehensions and lambdas see them too); a namespace of None is fresh."""
    if not isinstance(source, str):
        raise TypeError("pyEval() takes the expression as a string, not %s" % type(source).__qualname__)
    code = compile(source.strip(), EVAL_FILENAME, "eval")
    scope = _globals_of(namespace)
    if names:
        scope = dict(scope)
        scope.update(_bound(names, values))
    return eval(code, scope)


def execute(source, namespace, names, values):
    """exec(source) in namespace (a fresh one when None), with names bound
    to values as variables of that namespace first; returns the namespace,
    so that it persists across calls. The block is dedented, so a JS
    template literal may be indented like the code around it."""
    if not isinstance(source, str):
        raise TypeError("pyExec() takes the statements as a string, not %s" % type(source).__qualname__)
    import textwrap

    if namespace is None:
        namespace = new_namespace()
    scope = _globals_of(namespace)
    if names:
        scope.update(_bound(names, values))
    exec(compile(textwrap.dedent(source).strip("\n"), EXEC_FILENAME, "exec"), scope)
    return namespace


# ---- attributes, isinstance, list() ----------------------------------------


def del_attr(obj, name):
    delattr(obj, name)


def is_instance(obj, classes):
    return isinstance(obj, tuple(classes) if isinstance(classes, list) else classes)


def to_list(obj):
    """list(obj); an async iterable's items are awaited on the bridge's loop."""
    t = type(obj)
    if not hasattr(t, "__iter__") and hasattr(t, "__aiter__"):
        return _collect_async(obj)
    return list(obj)


async def _collect_async(obj):
    return [item async for item in obj]
