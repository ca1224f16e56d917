"""`to_plain(obj, depth, policy)`: any Python object as plain data, for JS's
`toJs()` (like Pyodide's toJs). Dataclasses, named tuples, mappings,
iterables and objects with a `__dict__` become dicts and lists; the rest
follows plain_form. Rules: docs/api.md#tojs.

Thread: called with the GIL held, from the thread that runs helpers.
"""

import sys
import types

from .plain import plain_form

__all__ = ["to_plain", "POLICIES", "MAX_LEVELS"]

POLICIES = ("proxy", "error", "string")
MAX_LEVELS = 256  # the wire's nesting limit: a deeper result could not be sent anyway

_SCALARS = frozenset((type(None), bool, int, float, str, bytes, bytearray))
_CONTAINERS = frozenset((list, tuple, dict, set, frozenset))
_NOT_PLAIN = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
              types.CoroutineType, types.AsyncGeneratorType)
_LEAVE = object()  # "the object as it is": the encoder gives it its own form


def to_plain(obj, depth=None, policy="proxy"):
    """obj as plain data, `depth` levels deep (None: all levels, up to
    MAX_LEVELS). A value that cannot be made plain, or that is past the
    depth, or that contains itself, is left as it is ("proxy": it goes to
    JS as a proxy), raises TypeError naming its path ("error"), or becomes
    str(value) ("string")."""
    if policy not in POLICIES:
        raise ValueError("policy must be one of %s, not %r" % (", ".join(POLICIES), policy))
    if depth is not None:
        if type(depth) is not int or depth < 0:
            raise ValueError("depth must be a non-negative integer or None, not %r" % (depth,))
    return _Walk(depth, policy).value(obj, 0, "value")


class _Walk(object):
    __slots__ = ("limit", "policy", "active")

    def __init__(self, depth, policy):
        self.limit = MAX_LEVELS if depth is None else min(depth, MAX_LEVELS)
        self.policy = policy
        self.active = set()  # ids of the containers on the current path

    def value(self, obj, level, path):
        t = type(obj)
        if t in _SCALARS:
            return obj
        if level >= self.limit:
            if self.limit == MAX_LEVELS:
                raise ValueError("%s is nested more than %d levels deep" % (path, MAX_LEVELS))
            return self.refuse(obj, path, "is past the depth limit of %d" % self.limit)
        if t not in _CONTAINERS:
            kind, form = plain_form(obj)
            if kind == 1:
                return self.value(form, level, path)
            if kind != 0:
                return obj  # a typed array, a Date or bytes: the encoder writes it
        key = id(obj)
        active = self.active
        if key in active:
            if t in _CONTAINERS and self.policy == "proxy":
                raise TypeError("%s contains itself: a %s cannot be sent as a proxy" % (path, t.__name__))
            return self.refuse(obj, path, "contains itself")
        # One frame per level here and one in items/mapping: 256 levels
        # stay far from the recursion limit.
        if t is dict:
            shape, data = "map", obj.items()
        elif t is list or t is tuple:
            shape, data = "items", obj
        elif t is set or t is frozenset:
            shape, data = "set", obj
        else:
            found = _structure(obj, t)
            if found is None:
                return self.refuse(obj, path, "cannot be made plain")
            shape, data = found
        active.add(key)
        try:
            if shape == "map":
                return self.mapping(data, level, path)
            items = self.items(data, level, path)
            return _set_or_list(items, t) if shape == "set" else items
        finally:
            active.discard(key)

    def items(self, items, level, path):
        value = self.value
        return [value(x, level + 1, "%s[%d]" % (path, i)) for i, x in enumerate(items)]

    def mapping(self, items, level, path):
        out = {}
        for k, v in items:
            key = self.key(k, path)
            out[key] = self.value(v, level + 1, _member_path(path, key))
        return out

    def key(self, k, path):
        if type(k) in _SCALARS or type(k) in (tuple, frozenset):
            return k
        kind, form = plain_form(k)
        if kind == 1 and type(form) in _SCALARS:
            return form  # Enum keys, str subclasses, Decimal, dates
        if kind != 0:
            return k
        return self.refuse(k, "a key of " + path, "cannot be made plain")

    def refuse(self, obj, path, why):
        if self.policy == "proxy":
            return obj
        if self.policy == "string":
            return str(obj)
        raise TypeError("%s (a %s) %s" % (path, _type_name(type(obj)), why))


def _structure(obj, t):
    """("map", pairs) or ("items", iterable) for a non-plain object, or None."""
    if isinstance(obj, _NOT_PLAIN):
        return None
    if hasattr(t, "__dataclass_fields__"):
        dataclasses = sys.modules.get("dataclasses")
        if dataclasses is not None:
            return "map", [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    if issubclass(t, tuple) and hasattr(t, "_fields"):
        return "map", list(obj._asdict().items())
    abc = sys.modules.get("collections.abc")
    if abc is not None and isinstance(obj, abc.Mapping):
        return "map", list(obj.items())
    if hasattr(t, "__iter__") and not isinstance(obj, (str, bytes, bytearray, memoryview)):
        return "items", list(obj)
    pairs = []
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict):
        pairs = [(k, v) for k, v in attrs.items() if type(k) is str and not k.startswith("_")]
    slots = _slot_names(t)
    if slots:
        missing = object()
        seen = set(k for k, _ in pairs)
        for name in slots:
            if name not in seen:
                v = getattr(obj, name, missing)
                if v is not missing:
                    pairs.append((name, v))
    elif not isinstance(attrs, dict):
        return None
    return "map", pairs


def _slot_names(t):
    """The public __slots__ names of t and its bases, in definition order."""
    names = []
    for cls in reversed(t.__mro__):
        slots = cls.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if type(name) is str and not name.startswith("_") and name not in names:
                names.append(name)
    return names


def _set_or_list(items, t):
    """A set (or frozenset, for a frozenset: a set's items stay hashable) of
    the converted items, or their list when one became unhashable (a named
    tuple's dict)."""
    try:
        return frozenset(items) if t is frozenset else set(items)
    except TypeError:
        return items


def _member_path(path, key):
    if type(key) is str and key.isidentifier():
        return "%s.%s" % (path, key)
    return "%s[%r]" % (path, key)


def _type_name(t):
    module = getattr(t, "__module__", None)
    name = getattr(t, "__qualname__", getattr(t, "__name__", "?"))
    return name if module in (None, "builtins") else "%s.%s" % (module, name)
