"""`esem types`: which names of a module are its exports. `__all__` when
the module has one; otherwise the public names (no leading `_`) that the
module's own source binds at its top level (def, class, assignment), never
its imports (`from dataclasses import dataclass`, `import os`,
`from __future__ import annotations`). A module without source (a C
extension such as `math`) exports its public functions and classes whose
`__module__` is the module, and its public values."""

import ast
import inspect
import types
import typing


def export_names(module):
    names = getattr(module, "__all__", None)
    if names is not None:
        return [n for n in names if isinstance(n, str) and hasattr(module, n)]
    bound = _bound_in_source(module)
    out = []
    for name, value in list(vars(module).items()):
        if name.startswith("_") or isinstance(value, types.ModuleType) or is_typing_construct(value):
            continue
        if bound is not None:
            if name in bound:
                out.append(name)
        elif not (inspect.isclass(value) or callable(value)) or getattr(value, "__module__", None) == module.__name__:
            out.append(name)
    return out


def is_typing_construct(value):
    """A type alias, TypeVar or special form (`Vector = list[float]`): a name for type checkers, not a value to call."""
    if isinstance(value, typing.TypeVar) or getattr(value, "__module__", None) == "typing":
        return True
    generic_alias = getattr(types, "GenericAlias", None)
    return generic_alias is not None and isinstance(value, generic_alias)


def _bound_in_source(module):
    """Names the module's top level binds other than by import, or None without source."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    bound = set()
    _collect(tree.body, bound)
    return bound


def _collect(body, bound):
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                _targets(target, bound)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            _targets(node.target, bound)
        elif isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            for field in ("body", "orelse", "finalbody"):
                _collect(getattr(node, field, []) or [], bound)
            for handler in getattr(node, "handlers", []) or []:
                _collect(handler.body, bound)
        elif hasattr(ast, "TryStar") and isinstance(node, ast.TryStar):
            _collect(node.body + node.orelse + node.finalbody, bound)


def _targets(target, bound):
    if isinstance(target, ast.Name):
        bound.add(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _targets(element, bound)
    elif isinstance(target, ast.Starred):
        _targets(target.value, bound)
