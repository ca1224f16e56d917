"""`esem types`: declarations of functions (parameters, keyword-only ones in
a trailing `Kwargs<{...}>`, results), classes and TypedDicts, with their
docstrings as JSDoc. Types come from typegen_hints.py."""

import enum
import functools
import inspect
import keyword
import re
import typing

from .typegen_hints import literal, paren, union

IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")
TS_RESERVED = set(keyword.kwlist) | {
    "default", "function", "var", "let", "const", "new", "delete", "typeof", "void", "this", "switch", "case",
    "enum", "export", "extends", "super", "interface", "package", "private", "protected", "public", "static",
    "implements", "instanceof", "catch", "throw", "do", "debugger", "yield", "await", "null", "true", "false",
}
_SKIP_MEMBERS = {"constructor", "prototype"}


def ts_name(n):
    return n + "_" if n in TS_RESERVED else n


def hints_of(obj):
    try:
        return typing.get_type_hints(obj)
    except Exception:  # an unresolvable name: the raw annotations, resolved one by one by Hints
        try:
            return dict(getattr(obj, "__annotations__", None) or {})
        except Exception:
            return {}


def jsdoc(obj, indent, own=True):
    """A docstring as JSDoc lines (own: only a docstring the object itself has)."""
    doc = obj.__dict__.get("__doc__") if own and inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return []
    lines = inspect.cleandoc(doc).replace("*/", "*\\/").splitlines()
    return [indent + "/**"] + [(indent + " * " + line).rstrip() for line in lines] + [indent + " */"]


class Decls(object):
    def __init__(self, hints):
        self.h = hints

    # --- functions ---------------------------------------------------------

    def signature(self, fn, skip_first, hint_source=None):
        """(parameters, result) of a function as TS text."""
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return "...args: any[]", "any"
        hints = hints_of(hint_source if hint_source is not None else fn)
        params = list(sig.parameters.values())
        if skip_first and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            params = params[1:]
        return self.parameters(params, hints), self.result(fn, hints.get("return", inspect.Signature.empty))

    def result(self, fn, hint):
        inner = inspect.unwrap(fn) if callable(fn) else fn
        if inspect.isasyncgenfunction(inner):
            return self.h.generator_result(hint, True)
        if inspect.isgeneratorfunction(inner):
            return self.h.generator_result(hint, False)
        return self.h.ts(hint, True)

    def param_type(self, p, hints):
        hint = hints.get(p.name, p.annotation)
        if hint is p.empty and p.default is not p.empty and p.default is not None:
            return self.value_type(p.default, False)  # no hint: the default's type (precision=2 -> number)
        return self.h.ts(hint, False)

    def parameters(self, params, hints):
        positional, rest, keywords, extra = [], None, [], None
        optional = False
        for p in params:
            if p.kind == p.VAR_POSITIONAL:
                rest = "...%s: %s[]" % (ts_name(p.name), paren(self.h.ts(hints.get(p.name, p.annotation), False)))
            elif p.kind == p.VAR_KEYWORD:
                extra = self.h.ts(hints.get(p.name, p.annotation), False)
            elif p.kind == p.KEYWORD_ONLY:
                keywords.append((p.name, self.param_type(p, hints), p.default is p.empty))
            else:
                optional = optional or p.default is not p.empty
                positional.append((ts_name(p.name), self.param_type(p, hints), optional))
        plain = ["%s%s: %s" % (n, "?" if opt else "", t) for n, t, opt in positional] + ([rest] if rest else [])
        if not keywords and extra is None:
            return ", ".join(plain)
        kw_type = self.kwargs_type(keywords, extra)
        kw_name = "kwargs" if "kwargs" not in [n for n, _, _ in positional] else "kwargs_"
        kw_required = any(required for _, _, required in keywords)
        if rest is None and not (kw_required and optional):
            return ", ".join(plain + ["%s%s: %s" % (kw_name, "" if kw_required else "?", kw_type)])
        # A required kw() after optional parameters, or after *args: argument lists as tuples.
        full = ["%s: %s" % (n, t) for n, t, _ in positional] + ([rest] if rest else []) + ["%s: %s" % (kw_name, kw_type)]
        forms = [] if kw_required else ["[%s]" % ", ".join(plain)]
        if rest is None:  # each count of the optional parameters, then the kw()
            required = len([1 for _, _, opt in positional if not opt])
            for k in range(required, len(positional) + 1):
                forms.append("[%s]" % ", ".join(full[:k] + full[-1:]))
        else:
            forms.append("[%s]" % ", ".join(full))
        return "...args: %s" % " | ".join(forms)

    def kwargs_type(self, keywords, extra):
        kwargs = self.h.use("Kwargs")
        fields = ["%s%s: %s" % (_key(n), "" if required else "?", t) for n, t, required in keywords]
        if extra is not None:
            every = union([extra] + [t for _, t, _ in keywords] + (["undefined"] if keywords else []))
            fields.append("[key: string]: %s" % every)
        return "%s<{ %s }>" % (kwargs, "; ".join(fields)) if fields else "%s<{}>" % kwargs

    def value_type(self, value, out):
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, enum.Enum):
            return literal(value.value) or "any"
        for py, ts in ((int, "number"), (float, "number"), (str, "string")):
            if isinstance(value, py):
                return ts
        if isinstance(value, (bytes, bytearray)):
            return "Buffer" if out else "Uint8Array"
        if value is None:
            return "null"
        if isinstance(value, (list, tuple)):
            return "any[]"
        if isinstance(value, dict):
            return "Record<string, any>"
        if isinstance(value, (set, frozenset)):
            return "Set<any>"
        if type(value) in self.h.names:
            return "%s<%s>" % (self.h.use("Remote"), self.h.names[type(value)])
        return self.h.use("PyProxy") if out else "any"

    # --- classes -------------------------------------------------------------

    def typed_dict(self, cls, name, indent, export):
        hints = hints_of(cls)
        optional = getattr(cls, "__optional_keys__", None)
        if optional is None:
            optional = set(hints) if not getattr(cls, "__total__", True) else set()
        fields = ["%s%s: %s" % (_key(k), "?" if k in optional else "", self.h.ts(v, True)) for k, v in hints.items()]
        body = "{ %s }" % "; ".join(fields) if fields else "{}"
        return jsdoc(cls, indent) + ["%s%stype %s = %s;" % (indent, export, name, body)]

    def class_decl(self, cls, name, indent, head):
        inner = indent + "  "
        doc = jsdoc(cls, indent)
        if getattr(cls, "__dataclass_fields__", None) is not None and (cls.__doc__ or "").startswith(cls.__name__ + "("):
            doc = []  # the signature dataclass writes as a docstring, not the author's
        lines = doc + ["%s%s %s {" % (indent, head, name)]
        init = _own(cls, "__init__") or _own(cls, "__new__")
        if isinstance(init, staticmethod):
            init = init.__func__
        if isinstance(cls, enum.EnumMeta):
            params = "value: %s" % (union([literal(m.value) or "any" for m in cls]) if len(cls) else "any")
        else:
            try:
                params = self.parameters(list(inspect.signature(cls).parameters.values()), hints_of(init) if init else {})
            except (TypeError, ValueError):
                params = "...args: any[]"
        lines += (jsdoc(init, inner) if init is not None and _is_own_function(init) else []) + \
            ["%sconstructor(%s);" % (inner, params)]
        seen = set()
        frozen = bool(getattr(getattr(cls, "__dataclass_params__", None), "frozen", False)) or _is_named_tuple(cls)
        class_vars = getattr(typing, "ClassVar", None)
        for attr, hint in hints_of(cls).items():
            if not _member_name(attr) or attr in seen:
                continue
            seen.add(attr)
            if class_vars is not None and typing_origin(hint) is class_vars:
                lines.append("%sstatic %s: %s;" % (inner, attr, self.h.ts(hint, True)))
            else:
                lines.append("%s%s%s: %s;" % (inner, "readonly " if frozen else "", attr, self.h.ts(hint, True)))
        for attr, raw, owner in _members(cls):
            if attr in seen or not _member_name(attr):
                continue
            seen.add(attr)
            lines += self.member(cls, attr, raw, inner)
        lines += self.iteration(cls, inner)
        lines.append(indent + "}")
        return lines

    def member(self, cls, attr, raw, indent):
        if isinstance(raw, staticmethod) or isinstance(raw, classmethod):
            fn = raw.__func__
            params, ret = self.signature(fn, isinstance(raw, classmethod))
            return jsdoc(fn, indent) + ["%sstatic %s(%s): %s;" % (indent, attr, params, ret)]
        if isinstance(raw, property):
            t = self.h.ts(hints_of(raw.fget).get("return", inspect.Signature.empty), True) if raw.fget else "any"
            return jsdoc(raw, indent) + ["%s%s%s: %s;" % (indent, "" if raw.fset else "readonly ", attr, t)]
        if isinstance(raw, functools.cached_property):
            t = self.h.ts(hints_of(raw.func).get("return", inspect.Signature.empty), True)
            return jsdoc(raw.func, indent) + ["%s%s: %s;" % (indent, attr, t)]
        if inspect.isfunction(raw):
            params, ret = self.signature(raw, True)
            return jsdoc(raw, indent) + ["%s%s(%s): %s;" % (indent, attr, params, ret)]
        if inspect.isclass(raw) or callable(raw) or inspect.ismethoddescriptor(raw):
            return []
        if inspect.isdatadescriptor(raw):  # __slots__ members
            return ["%s%s: any;" % (indent, attr)]
        if isinstance(cls, enum.EnumMeta) and isinstance(raw, cls):
            return ["%sstatic readonly %s: %s;" % (indent, attr, literal(raw.value) or "any")]
        return ["%sstatic %s: %s;" % (indent, attr, self.value_type(raw, True))]

    def iteration(self, cls, indent):
        for dunder, symbol, iterator in (("__iter__", "iterator", "Iterator"), ("__aiter__", "asyncIterator", "AsyncIterator")):
            fn = next((vars(k)[dunder] for k in _user_mro(cls) if dunder in vars(k)), None)
            if fn is None or not inspect.isfunction(fn):
                continue
            item = "any"
            hint = hints_of(fn).get("return")
            args = typing_args(self.h.resolve(hint) if isinstance(hint, str) else hint) if hint is not None else ()
            if args:
                item = self.h.ts(args[0], True)
            return ["%s[Symbol.%s](): %s<%s>;" % (indent, symbol, iterator, item)]
        return []


def typing_origin(hint):
    return typing.get_origin(hint) if hasattr(typing, "get_origin") else getattr(hint, "__origin__", None)


def typing_args(hint):
    return typing.get_args(hint) if hasattr(typing, "get_args") else getattr(hint, "__args__", ())


def _key(name):
    return name if IDENT.match(name) else '"%s"' % name.replace("\\", "\\\\").replace('"', '\\"')


def _member_name(attr):
    return not attr.startswith("_") and IDENT.match(attr) and attr not in _SKIP_MEMBERS


def _user_mro(cls):
    """The classes of cls's MRO whose members are the module's to describe (not builtins')."""
    return [k for k in inspect.getmro(cls) if k.__module__ != "builtins" and k is not typing.Generic
            and not (k.__module__ in ("enum", "typing", "abc") and k is not cls)]


def _members(cls):
    seen = set()
    for klass in _user_mro(cls):
        for attr, raw in list(vars(klass).items()):
            if attr not in seen:
                seen.add(attr)
                yield attr, raw, klass


def _own(cls, name):
    for klass in _user_mro(cls):
        if name in vars(klass):
            return vars(klass)[name]
    return None


def _is_own_function(fn):
    return inspect.isfunction(fn)


def _is_named_tuple(cls):
    return issubclass(cls, tuple) and hasattr(cls, "_fields")
