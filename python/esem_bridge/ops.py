"""Operations the bridge performs on Python objects, shared by both modes:
loading modules, describing objects for JS proxies, formatting exceptions,
running coroutines, iteration and datetime helpers; the value rules of
objects that are not exact builtins (plain_form, ndarray_from, to_plain)
live in plain.py and to_plain.py and are exported here.

Thread: called with the GIL held, from the bridge's Python thread (native
mode) or the worker's main thread (subprocess mode).
"""

import importlib
import os
import sys
import threading
import types
from time import perf_counter as _clock

from .plain import datetime_from_ms, datetime_to_ms, ndarray_from, plain_form  # noqa: F401 (the encoders' value rules, docs/types.md)

# Helpers of the JS API that most programs never call live in modules of
# their own, imported on first use (start-up time): toJs() in to_plain.py;
# withContext, pyEval/pyExec, delattr, isinstance, toArray in statements.py.
_LAZY = {
    "to_plain": "to_plain",
    "context_enter": "statements", "context_exit": "statements", "new_namespace": "statements",
    "evaluate": "statements", "execute": "statements", "del_attr": "statements",
    "is_instance": "statements", "to_list": "statements",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    value = getattr(importlib.import_module("." + module, __package__), name)
    globals()[name] = value
    return value

_file_modules = {}  # realpath -> module
_file_locks = {}  # realpath -> RLock held while that file's top level runs
_file_locks_guard = threading.Lock()
_type_descriptions = {}  # type -> description tuple
_local = threading.local()

FUNCTION_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.ClassMethodDescriptorType,
)


def is_file_spec(spec):
    return spec.endswith(".py") or spec.startswith(("./", "../", "/", ".\\", "..\\")) or os.path.isabs(spec)


def import_module(spec, cwd):
    """Load `spec`: a file path (resolved against cwd) or a module name.
    Atomic per file, as Python's own import is: a second importer of the
    same file waits until the first has run it (and then gets the module,
    or runs it again itself when the first failed)."""
    if not is_file_spec(spec):
        return importlib.import_module(spec)  # importlib's own per-module locks
    path = os.path.realpath(os.path.join(cwd, spec))
    cached = _file_modules.get(path)
    if cached is not None:
        return cached
    with _file_lock(path):
        cached = _file_modules.get(path)
        if cached is not None:
            return cached
        return _load_file(spec, cwd, path)


def _file_lock(path):
    """The lock of one file path (re-entrant: a module whose top level loads
    itself through the bridge gets itself, half-run, as Python's circular
    imports do). Locks are never dropped: one per file ever loaded."""
    with _file_locks_guard:
        lock = _file_locks.get(path)
        if lock is None:
            lock = _file_locks[path] = threading.RLock()
        return lock


def _load_file(spec, cwd, path):
    if not os.path.isfile(path):
        raise ModuleNotFoundError("No Python file at %s (from %r, resolved against %s)" % (path, spec, cwd))
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = _file_module_name(path)
    existing = sys.modules.get(name)
    if existing is not None and os.path.realpath(getattr(existing, "__file__", "") or "") == path:
        if not _initializing(existing):
            _file_modules[path] = existing
        return existing  # done by a plain `import`, or this thread's own import in progress
    from importlib import util  # deferred, like traceback below: start-up time

    module_spec = util.spec_from_file_location(name, path)
    module = util.module_from_spec(module_spec)
    # As importlib runs a module: marked as initializing and under the
    # name's import lock, so a plain `import name` in another thread waits too.
    module_spec._initializing = True
    with _module_name_lock(name):
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except BaseException:
            if sys.modules.get(name) is module:
                del sys.modules[name]
            raise
        finally:
            module_spec._initializing = False
    _file_modules[path] = module
    return module


def _module_name_lock(name):
    """importlib's per-name import lock (a private API: without it, only
    importers through the bridge wait for each other)."""
    try:
        from importlib._bootstrap import _ModuleLockManager

        return _ModuleLockManager(name)
    except (ImportError, AttributeError, TypeError):
        import contextlib

        return contextlib.nullcontext()


def _initializing(module):
    return getattr(getattr(module, "__spec__", None), "_initializing", False)


def fresh_globals_for(fn, args, kwargs):
    """(args, kwargs) for calling fn from the bridge. builtins.eval and
    builtins.exec without globals would read the globals of the frame that
    calls them, the bridge's own; a call from JS has no frame of its own, so
    it gets what a fresh top level has. The rule (both modes): when fn is
    builtins.eval or builtins.exec and neither a second positional argument
    nor a `globals` keyword other than None is given, globals is a new dict
    {"__builtins__": the builtins module}, passed as the second positional
    argument (a `globals=None` keyword is dropped)."""
    if fn is not eval and fn is not exec:
        return args, kwargs
    if not args or (len(args) > 1 and args[1] is not None):
        return args, kwargs
    if kwargs and kwargs.get("globals") is not None:
        return args, kwargs
    import builtins

    fresh = {"__builtins__": builtins}
    args = [args[0], fresh] + list(args[2:])
    if kwargs and "globals" in kwargs:
        kwargs = dict(kwargs)
        del kwargs["globals"]
    return args, kwargs


def _file_module_name(path):
    """The file's stem when that name is free or already this file (so a
    sibling `import x` finds the same module), else the stem with a hash of
    the absolute path: two utils.py in different folders stay apart."""
    stem = os.path.splitext(os.path.basename(path))[0]
    if not stem.isidentifier():
        stem = "".join(c if c.isalnum() or c == "_" else "_" for c in stem) or "module"
    existing = sys.modules.get(stem)
    if existing is None:
        from importlib import util

        try:
            found = util.find_spec(stem)
        except (ImportError, ValueError):
            found = None
        origin = getattr(found, "origin", None)
        if found is None or (origin and os.path.realpath(origin) == path):
            return stem
    elif os.path.realpath(getattr(existing, "__file__", "") or "") == path:
        return stem
    import hashlib

    digest = hashlib.sha1(path.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return "%s_%s" % (stem, digest)


def _public(names):
    return tuple(n for n in names if not n.startswith("_"))


def describe(obj):
    """(cacheable, kind, type_name, members, has_release, callable, iterable,
    callables): callables is a bitmap (bytes, bit i of byte i // 8) of the
    members that are callable and have no attribute named call, apply or
    bind, whose proxies answer those names as JS functions do.
    cacheable: the description holds for every object of type(obj)."""
    if isinstance(obj, types.ModuleType):
        members = _public(dir(obj))
        return (False, "module", obj.__name__, members, hasattr(obj, "release"), False, False, _callables(obj, members))
    if isinstance(obj, type):
        members = _public(dir(obj))
        return (False, "class", qualified_name(obj), members, hasattr(obj, "release"), True, False, _callables(obj, members))
    if isinstance(obj, FUNCTION_TYPES):
        return (False, "function", getattr(obj, "__qualname__", getattr(obj, "__name__", "function")), (), False, True, False, b"")
    t = type(obj)
    found = _type_descriptions.get(t)
    if found is None:
        members = _public(dir(t))
        found = (
            True,
            "object",
            qualified_name(t),
            members,
            "release" in members,
            callable(obj),
            hasattr(t, "__iter__") or hasattr(t, "__getitem__") or hasattr(t, "__aiter__"),
            _callables(t, members),
        )
        _type_descriptions[t] = found
    return found


_JS_FUNCTION_NAMES = ("call", "apply", "bind")


def _callables(owner, members):
    bits = bytearray((len(members) + 7) // 8)
    for i, name in enumerate(members):
        try:
            value = getattr(owner, name)
            if callable(value) and not any(hasattr(value, n) for n in _JS_FUNCTION_NAMES):
                bits[i >> 3] |= 1 << (i & 7)
        except Exception:  # a descriptor that raises on the class: not a method
            continue
    return bytes(bits)


def qualified_name(t):
    module = getattr(t, "__module__", None)
    qualname = getattr(t, "__qualname__", getattr(t, "__name__", "?"))
    if module in (None, "builtins"):
        return qualname
    return "%s.%s" % (module, qualname)


_BRIDGE_DIR = os.path.dirname(os.path.abspath(__file__))
MAX_LINKS = 16  # of an exception chain sent to JS as `cause` links


def format_exception(exc):
    """(type name, message, formatted traceback with chained causes, links).
    links: (type name, message, traceback, exception) for exc and each
    exception it was raised from (__cause__) or during (__context__, unless
    suppressed), outermost first, at most MAX_LINKS: JS makes each a
    PythonError whose `cause` is the next, with the exception object as a
    proxy. The bridge's own frames are left out of every traceback (the
    subprocess worker's, the helpers'), so both modes print the same."""
    import traceback

    chain = list(_chain(exc))
    for e in chain:
        _strip_bridge_frames(e)
    links = []
    for e in chain:
        t = type(e)
        try:
            tb = "".join(traceback.format_exception(t, e, e.__traceback__))
        except BaseException:
            tb = "%s: %s\n" % (qualified_name(t), _message(e))
        links.append((qualified_name(t), _message(e), tb, e))
    top = links[0]
    return top[0], top[1], top[2], links


def _chain(exc):
    seen = set()
    e = exc
    while e is not None and id(e) not in seen and len(seen) < MAX_LINKS:
        seen.add(id(e))
        yield e
        e = e.__cause__ if e.__cause__ is not None else (None if e.__suppress_context__ else e.__context__)


def _message(exc):
    try:
        return str(exc)
    except BaseException as e:  # a __str__ that raises still gives an error
        return "<str() of %s failed: %r>" % (type(exc).__name__, e)


def _strip_bridge_frames(exc):
    """Drops the leading traceback entries that are the bridge's own code
    (the frames a call went through before reaching the user's)."""
    tb = exc.__traceback__
    first = tb
    while tb is not None and os.path.dirname(os.path.abspath(tb.tb_frame.f_code.co_filename)) == _BRIDGE_DIR:
        tb = tb.tb_next
    if tb is not first:
        try:
            exc.__traceback__ = tb
        except (AttributeError, TypeError):
            pass


def run_coroutine(coro):
    """Runs an `async def` result on this thread's event loop."""
    import asyncio  # deferred: costs start-up time and most calls never need it

    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop.run_until_complete(coro)


BATCH_SECONDS = 0.001  # a batch of items goes to JS once it took this long (docs/concurrency.md#streaming)


def next_batch(iterator, n):
    """Up to n items from iterator, and whether it is exhausted. The batch
    ends early once it has taken BATCH_SECONDS, so a slow generator's items
    reach JS as they come, not after the batch fills. An async iterator
    gets a coroutine of the same answer (it runs on the bridge's loop)."""
    t = type(iterator)
    if not hasattr(t, "__next__") and hasattr(t, "__anext__"):
        from . import aio

        return aio.iterate_async(iterator, n, BATCH_SECONDS)
    out = []
    append = out.append
    start = _clock()
    for _ in range(n):
        try:
            append(next(iterator))
        except StopIteration:
            return out, True
        if _clock() - start >= BATCH_SECONDS:
            break
    return out, False


def typed_view(data, fmt):
    """A memoryview of a JS TypedArray's bytes with its element format."""
    return memoryview(data).cast(fmt)


# Helpers the JS API exposes (len(obj), item access, `in`, iteration).
def length(obj):
    return len(obj)


def get_item(obj, key):
    return obj[key]


def set_item(obj, key, value):
    obj[key] = value


def del_item(obj, key):
    del obj[key]


def contains(obj, item):
    return item in obj


def iterate(obj):
    """An iterator of obj, or its async iterator when it only has one."""
    t = type(obj)
    if not hasattr(t, "__iter__") and hasattr(t, "__aiter__"):
        return obj.__aiter__()  # an async iterable: next_batch awaits its items
    return iter(obj)


def close_iterator(iterator):
    """A `break` out of `for await`: close the generator (it sees
    GeneratorExit); an async one's aclose() runs on the bridge's loop."""
    close = getattr(iterator, "close", None)
    if close is None and hasattr(iterator, "aclose"):
        return iterator.aclose()
    if close is not None:
        close()
    return None


def set_attr(obj, name, value):
    setattr(obj, name, value)



def get_attr(obj, name):
    return getattr(obj, name)


def configure_embedded():
    """Native mode, once per process: print() reaches the process's stdout
    and stderr at once, as with `python -u`. The embedded interpreter is
    never finalized, so anything left in a buffer at exit would be lost."""
    import io

    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name, None)
        try:
            if stream is None or stream.fileno() != fd:
                continue
            stream.flush()
            raw = io.FileIO(fd, "w", closefd=False)
            setattr(sys, name, io.TextIOWrapper(raw, encoding=stream.encoding, errors=stream.errors,
                                                line_buffering=True, write_through=True))
        except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
            continue

