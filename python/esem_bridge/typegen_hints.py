"""`esem types`: one Python annotation -> the TS type of the value as JS
sees it (docs/types.md), for a parameter (what JS may pass) or a result
(what JS gets back). Used by typegen_decls.py; no I/O, any thread."""

import datetime
import decimal
import enum
import inspect
import types
import typing

_TYPED_ARRAYS = {
    "float64": "Float64Array", "float32": "Float32Array", "float16": "Float32Array",
    "int64": "BigInt64Array", "uint64": "BigUint64Array", "int32": "Int32Array", "uint32": "Uint32Array",
    "int16": "Int16Array", "uint16": "Uint16Array", "int8": "Int8Array", "uint8": "Uint8Array", "bool": "Uint8Array",
}
_SEQUENCES = ("Sequence", "MutableSequence", "List", "Deque", "deque")
_ITERABLES = ("Iterable", "Collection", "Reversible", "Container")
_ITERATORS = ("Iterator",)
_GENERATORS = ("Generator",)
_ASYNC_ITERS = ("AsyncIterator", "AsyncIterable", "AsyncGenerator")
_MAPPINGS = ("Mapping", "MutableMapping", "OrderedDict", "DefaultDict", "Counter", "ChainMap", "defaultdict")
_SETS = ("AbstractSet", "MutableSet", "Set", "FrozenSet")
_UNION_TYPE = getattr(types, "UnionType", None)


def get_origin(hint):
    return typing.get_origin(hint) if hasattr(typing, "get_origin") else getattr(hint, "__origin__", None)


def get_args(hint):
    return typing.get_args(hint) if hasattr(typing, "get_args") else getattr(hint, "__args__", ())


def paren(t):
    return "(%s)" % t if ("|" in t or "=>" in t or "&" in t) else t


def union(parts):
    out = []
    for p in parts:
        if p not in out:
            out.append(p)
    return "any" if "any" in out else " | ".join(out)


def literal(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return repr(value)
    if isinstance(value, str):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if value is None:
        return "null"
    return None


def _abc_name(origin):
    """Name of a collections.abc / typing generic origin, or None."""
    if origin is None or getattr(origin, "__module__", "") not in ("collections.abc", "typing", "collections"):
        return None
    return getattr(origin, "__name__", None) or getattr(origin, "_name", None)


class Hints(object):
    """Maps annotations to TS. `names` maps a module class to its declared TS
    name; `typed_dicts` those declared as object types; `used` collects the
    esem-bridge type names an output needs."""

    def __init__(self, module, names, typed_dicts):
        self.module = module
        self.names = names
        self.typed_dicts = typed_dicts
        self.used = set()
        self.aliases = {}  # an esem-bridge type whose name a class of the module has: Remote -> EsemRemote

    def use(self, name):
        """An esem-bridge type the output needs, by the name it is imported as."""
        self.used.add(name)
        return self.aliases.get(name, name)

    def ts(self, hint, out):
        if hint is inspect.Parameter.empty or hint is typing.Any or hint is object:
            return "any"
        if hint is None or hint is type(None):
            return "null"
        if isinstance(hint, (str, typing.ForwardRef)):
            found = self.resolve(hint)
            return "any" if found is hint else self.ts(found, out)
        if getattr(hint, "__supertype__", None) is not None:  # typing.NewType
            return self.ts(hint.__supertype__, out)
        if isinstance(hint, typing.TypeVar):
            bound = hint.__bound__
            return self.ts(bound, out) if bound is not None else "any"
        if inspect.isclass(hint):
            return self.cls(hint, out)
        origin, args = get_origin(hint), get_args(hint)
        if origin is typing.Union or (_UNION_TYPE is not None and origin is _UNION_TYPE):
            return union([self.ts(a, out) for a in args])
        if origin is getattr(typing, "Literal", None):
            parts = [literal(a) for a in args]
            return "any" if None in parts else union(parts)
        if origin is getattr(typing, "Annotated", None):
            return self.ts(args[0], out)
        if origin is getattr(typing, "ClassVar", None) or origin is getattr(typing, "Final", None):
            return self.ts(args[0], out) if args else "any"
        if origin is not None and getattr(origin, "__name__", "") == "ndarray":
            return self.ndarray(args, out)
        if origin is type:
            return self.class_of(args[0] if args else None, out)
        if origin in (list, collections_deque()) or _abc_name(origin) in _SEQUENCES:
            return "%s[]" % paren(self.ts(args[0], out) if args else "any")
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return "%s[]" % paren(self.ts(args[0], out))
            if args == ((),) or (not args and hint is not typing.Tuple):  # Tuple[()] (3.11+ drops the ())
                return "[]"
            return "[%s]" % ", ".join(self.ts(a, out) for a in args) if args else "any[]"
        if origin in (set, frozenset) or _abc_name(origin) in _SETS:
            return "Set<%s>" % (self.ts(args[0], out) if args else "any")
        if origin is dict or _abc_name(origin) in _MAPPINGS:
            key, val = (tuple(args) + (typing.Any, typing.Any))[:2]
            if _abc_name(origin) == "Counter":
                key, val = (args[0] if args else typing.Any), int
            return self.mapping(key, val, out)
        name = _abc_name(origin)
        if name in ("Callable",):
            return self.callable(args, out)
        if name in ("Awaitable", "Coroutine"):
            return self.ts(args[-1], out) if args else "any"
        if name in _ITERATORS + _GENERATORS + _ITERABLES + _ASYNC_ITERS:
            return self.iterable(name, args, out)
        return "any"

    def resolve(self, hint):
        """A string annotation evaluated in the module (each `|` part alone where the whole fails)."""
        text = hint.__forward_arg__ if isinstance(hint, typing.ForwardRef) else hint
        scope = dict(vars(self.module))
        try:
            return eval(text, scope)  # noqa: S307 (the module's own annotation, already imported)
        except Exception:
            pass
        parts = _split_top(text, "|")
        if len(parts) > 1:
            try:
                return typing.Union[tuple(eval(p, scope) for p in parts)]  # noqa: S307
            except Exception:
                pass
        return hint

    def cls(self, c, out):
        simple = {bool: "boolean", int: "number", float: "number", str: "string", datetime.datetime: "Date"}
        if c in simple:
            return simple[c]
        if c in (bytes, bytearray):
            return "Buffer" if out else "Uint8Array"
        if c is memoryview:
            return "Buffer" if out else "ArrayBufferView"
        if c in self.typed_dicts:
            return self.typed_dicts[c]
        if issubclass(c, enum.Enum):
            parts = [literal(m.value) for m in c]
            return union(parts) if parts and None not in parts else "any"
        if c in self.names:
            return "%s<%s>" % (self.use("Remote"), self.names[c])
        if c.__module__ == "numpy":
            return self.numpy_class(c, out)
        if c is complex:
            return "{ real: number; imag: number }" if out else "any"
        if c is decimal.Decimal or c in (datetime.date, datetime.time):
            return "string" if out else "any"
        if c is datetime.timedelta:
            return "number" if out else "any"
        generic = {list: "any[]", tuple: "any[]", dict: "Record<string, any>", set: "Set<any>", frozenset: "Set<any>",
                   type: "any"}
        if c in generic:
            return generic[c]
        for base in (bool, int, float, str, bytes, bytearray, list, tuple, dict, set, frozenset):
            if issubclass(c, base) and not _is_named_tuple(c):
                return self.cls(base, out)  # subclasses of builtins convert as their base
        if c.__module__ in ("collections.abc", "typing"):  # an unparametrized abstract type
            return self.abstract(c.__name__, out)
        # Any other class: a proxy of the object when it comes back; JS can pass a proxy.
        return self.use("PyProxy") if out else "any"

    def abstract(self, name, out):
        if name in _ITERATORS + _GENERATORS + _ITERABLES + _ASYNC_ITERS:
            return self.iterable(name, (), out)
        if name in _SEQUENCES:
            return "any[]"
        if name in _MAPPINGS:
            return "Record<string, any>"
        if name in _SETS:
            return "Set<any>"
        if name == "Callable":
            return self.callable((), out)
        return "any"

    def class_of(self, c, out):
        if c in self.names:
            return "typeof %s" % self.names[c]
        return self.use("PyProxy") if out else "any"

    def numpy_class(self, c, out):
        name = c.__name__
        if name == "ndarray":
            return self.ndarray((), out)
        if name in ("bool_", "bool"):
            return "boolean"
        if name.startswith(("int", "uint", "float", "floating", "integer", "number", "signedinteger", "unsignedinteger")):
            return "number"
        return self.use("PyProxy") if out else "any"

    def ndarray(self, args, out):
        array = "NumericArray"
        if len(args) == 2:
            dtype_args = get_args(args[1])
            scalar = dtype_args[0] if dtype_args else None
            array = _TYPED_ARRAYS.get(getattr(scalar, "__name__", "").rstrip("_"), "NumericArray")
        if array == "NumericArray":
            array = self.use("NumericArray")
        wrapper = self.use("NDArray" if out else "NDArrayLike")
        return "%s<%s>" % (wrapper, array)

    def mapping(self, key, val, out):
        v = self.ts(val, out)
        if key is str:
            return "Record<string, %s>" % v
        return "Map<%s, %s>" % (self.ts(key, out), v)

    def callable(self, args, out):
        """A Python callable: a JS function passed in (its result may be a promise), a function proxy out."""
        if not args:
            params, ret = None, typing.Any
        else:
            params, ret = args[0], args[-1]
        if params is None or params is Ellipsis or not isinstance(params, (list, tuple)):
            plist = "...args: any[]"
        else:
            plist = ", ".join("arg%d: %s" % (i, self.ts(p, not out)) for i, p in enumerate(params))
        r = self.ts(ret, out)
        if not out:
            r = "any" if r == "any" else "%s | Promise<%s>" % (r, r)
        return "((%s) => %s)" % (plist, r)

    def iterable(self, name, args, out):
        item = self.ts(args[0], out) if args else "any"
        if not out:
            if name in _ITERABLES:
                return "readonly %s[] | ReadonlySet<%s> | %s<%s>" % (paren(item), item, self.use("RemoteIterable"), item)
            return "%s<%s>" % (self.use("RemoteIterable"), item)
        if name in _GENERATORS:
            sent = self.ts(args[1], False) if len(args) > 1 else "any"
            return "%s<%s, %s>" % (self.use("RemoteGenerator"), item, sent)
        if name in _ITERABLES:
            # A function annotated Iterable may return a list (an Array) or an iterator (a proxy).
            return "%s[] | %s<%s>" % (paren(item), self.use("RemoteIterable"), item)
        return "%s<%s>" % (self.use("RemoteIterable"), item)

    def generator_result(self, hint, is_async):
        """What calling a generator function gives: a generator proxy, its items from the hint."""
        origin, args = get_origin(hint), get_args(hint)
        item, sent = "any", "any"
        if isinstance(hint, (str, typing.ForwardRef)):
            found = self.resolve(hint)
            if found is not hint:
                return self.generator_result(found, is_async)
        name = _abc_name(origin) or (_abc_name(hint) if inspect.isclass(hint) else None)
        if args and name in _ITERATORS + _GENERATORS + _ITERABLES + _ASYNC_ITERS:
            item = self.ts(args[0], True)
            if name == "Generator" and len(args) > 1:
                sent = self.ts(args[1], False)
        if is_async or name in _ITERATORS + _ITERABLES + ("AsyncIterator", "AsyncIterable"):
            # Annotated as an iterator only: the proxy is for-await-able (its send() is not promised).
            return "%s<%s>" % (self.use("RemoteIterable"), item)
        return "%s<%s, %s>" % (self.use("RemoteGenerator"), item, sent)


def collections_deque():
    import collections

    return collections.deque


def _is_named_tuple(c):
    return issubclass(c, tuple) and hasattr(c, "_fields")


def _split_top(text, sep):
    """text split on sep outside brackets."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts

