"""`esem types`: TypeScript declarations for a Python module, from its type
hints, for `python<Module>(spec)` (src/types.ts: Remote<T>). Unknown or
missing hints become `any`. Runs in either mode, like any module."""

import datetime
import inspect
import keyword
import re
import sys
import types
import typing

from . import ops

_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")
_TS_RESERVED = set(keyword.kwlist) | {
    "default", "function", "var", "let", "const", "new", "delete", "typeof", "void", "this", "switch", "case",
    "enum", "export", "extends", "super", "interface", "package", "private", "protected", "public", "static",
}


def _hints(obj):
    try:
        return typing.get_type_hints(obj)
    except Exception:  # unresolvable forward references, odd objects
        return getattr(obj, "__annotations__", {}) or {}


class _Writer(object):
    def __init__(self, module):
        self.module = module
        self.classes = {}  # class -> TS name, for classes declared in the output

    def ts(self, hint):
        """The TS type of a Python annotation."""
        if hint is inspect.Parameter.empty or hint is inspect.Signature.empty or hint is typing.Any:
            return "any"
        if hint is None or hint is type(None):
            return "null"
        if isinstance(hint, str):
            return "any"  # an unresolved forward reference
        if hint in self.classes:
            return "Remote<%s>" % self.classes[hint]
        simple = {bool: "boolean", int: "number", float: "number", complex: "any", str: "string",
                  bytes: "Buffer", bytearray: "Buffer", memoryview: "Buffer", datetime.datetime: "Date",
                  list: "any[]", tuple: "any[]", dict: "Record<string, any>", set: "Set<any>",
                  frozenset: "Set<any>", object: "any"}
        if hint in simple:
            return simple[hint]
        origin = getattr(typing, "get_origin", lambda h: getattr(h, "__origin__", None))(hint)
        args = getattr(typing, "get_args", lambda h: getattr(h, "__args__", ()))(hint)
        if origin is typing.Union or (sys.version_info >= (3, 10) and origin is getattr(types, "UnionType", None)):
            parts = []
            for a in args:
                t = self.ts(a)
                if t not in parts:
                    parts.append(t)
            return " | ".join(parts)
        if origin in (list, typing.List, set, frozenset) or _is_abc(origin, ("Sequence", "Iterable", "Collection",
                                                                              "MutableSequence", "Iterator")):
            inner = self.ts(args[0]) if args else "any"
            wrapped = "(%s)" % inner if "|" in inner else inner
            return ("Set<%s>" % inner) if origin in (set, frozenset) else "%s[]" % wrapped
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                inner = self.ts(args[0])
                return "(%s)[]" % inner if "|" in inner else "%s[]" % inner
            return "[%s]" % ", ".join(self.ts(a) for a in args) if args else "any[]"
        if origin is dict or _is_abc(origin, ("Mapping", "MutableMapping")):
            key, val = (args + (typing.Any, typing.Any))[:2]
            if key is str:
                return "Record<string, %s>" % self.ts(val)
            return "Map<%s, %s>" % (self.ts(key), self.ts(val))
        if origin is getattr(typing, "Literal", None):
            return " | ".join(_literal(a) for a in args)
        if _is_abc(origin, ("Awaitable", "Coroutine")) and args:
            return self.ts(args[-1])
        if getattr(hint, "__module__", "") == "numpy" and getattr(hint, "__name__", "") == "ndarray":
            return "ArrayBufferView & { shape: number[]; dtype: string }"
        return "any"

    def params(self, fn, skip_first):
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return "...args: any[]"
        hints = _hints(fn)
        out = []
        params = list(sig.parameters.values())
        if skip_first and params:
            params = params[1:]
        optional = False
        for p in params:
            if p.kind == p.VAR_KEYWORD or p.kind == p.KEYWORD_ONLY:
                continue  # keyword arguments go through kw()
            if p.kind == p.VAR_POSITIONAL:
                out.append("...%s: %s[]" % (_name(p.name), _paren(self.ts(hints.get(p.name, p.annotation)))))
                break
            optional = optional or p.default is not p.empty
            hint = hints.get(p.name, p.annotation)
            if hint is p.empty and p.default is not p.empty and p.default is not None:
                t = self.value_type(p.default)  # no hint: the default's type (precision=2 -> number)
            else:
                t = self.ts(hint)
            out.append("%s%s: %s" % (_name(p.name), "?" if optional else "", t))
        return ", ".join(out)

    def returns(self, fn):
        return self.ts(_hints(fn).get("return", inspect.Signature.empty))

    def value_type(self, value):
        if isinstance(value, bool):
            return "boolean"
        for py, ts in ((int, "number"), (float, "number"), (str, "string"), (bytes, "Buffer")):
            if isinstance(value, py):
                return ts
        if value is None:
            return "null"
        if isinstance(value, (list, tuple)):
            return "any[]"
        if isinstance(value, dict):
            return "Record<string, any>"
        return "any"

    def class_decl(self, cls, name):
        lines = ["export declare class %s {" % name]
        init = cls.__dict__.get("__init__")
        lines.append("  constructor(%s);" % (self.params(init, True) if init else ""))
        for attr, hint in _hints(cls).items():
            if not attr.startswith("_") and _IDENT.match(attr):
                lines.append("  %s: %s;" % (attr, self.ts(hint)))
        for attr, member in sorted(vars(cls).items()):
            if attr.startswith("_") or not _IDENT.match(attr):
                continue
            if isinstance(member, property):
                lines.append("  readonly %s: %s;" % (attr, self.returns(member.fget) if member.fget else "any"))
            elif isinstance(member, (staticmethod, classmethod)):
                fn = member.__func__
                lines.append("  static %s(%s): %s;" % (attr, self.params(fn, isinstance(member, classmethod)),
                                                      self.returns(fn)))
            elif inspect.isfunction(member):
                lines.append("  %s(%s): %s;" % (attr, self.params(member, True), self.returns(member)))
        lines.append("}")
        return "\n".join(lines)

    def generate(self, interface):
        mod = self.module
        names = [n for n in dir(mod) if not n.startswith("_") and _IDENT.match(n)
                 and getattr(getattr(mod, n, None), "__module__", None) != "typing"]  # `from typing import List`
        classes = [(n, getattr(mod, n)) for n in names if inspect.isclass(getattr(mod, n, None))]
        for n, cls in classes:
            self.classes[cls] = _class_name(n)
        out = [
            "// Generated by `esem types` from %s. Edit freely." % (getattr(mod, "__file__", None) or mod.__name__),
            "// Use: python<%s>(\"...\") (esem-bridge maps it to Remote<%s>)." % (interface, interface),
            'import type { Remote } from "esem-bridge";',
            "",
        ]
        for n, cls in classes:
            out.append(self.class_decl(cls, self.classes[cls]))
            out.append("")
        out.append("export interface %s {" % interface)
        for n in names:
            value = getattr(mod, n, None)
            if isinstance(value, types.ModuleType):
                continue
            if inspect.isclass(value):
                out.append("  %s: typeof %s;" % (n, self.classes[value]))
            elif callable(value):
                out.append("  %s(%s): %s;" % (n, self.params(value, False), self.returns(value)))
            else:
                out.append("  %s: %s;" % (n, self.value_type(value)))
        out.append("}")
        out.append("")
        return "\n".join(out)


def _is_abc(origin, names):
    return origin is not None and getattr(origin, "__module__", "") in ("collections.abc", "typing") and \
        getattr(origin, "__name__", "") in names


def _literal(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    return "any"


def _paren(t):
    return "(%s)" % t if "|" in t else t


def _name(n):
    return n + "_" if n in _TS_RESERVED else n


def _class_name(n):
    return n + "_" if n in _TS_RESERVED else n


def interface_name(spec):
    """./calculator.py -> CalculatorModule; os.path -> PathModule; my_tools -> MyToolsModule."""
    import os

    stem = os.path.splitext(os.path.basename(spec))[0] if ops.is_file_spec(spec) else spec.rsplit(".", 1)[-1]
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", stem) if part) + "Module"


def generate(spec, cwd):
    """The declarations for the module `spec` (a file or a module name)."""
    module = ops.import_module(spec, cwd)
    return _Writer(module).generate(interface_name(spec))
