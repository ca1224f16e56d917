"""Tests of `esem types` on the Python side (python/esem_bridge/typegen*.py):
hint forms, exports, import-time output, numpy, keyword-only parameters,
docstrings. Run with `python3 python/tests/test_typegen.py` (npm run
test:python); the TS side compiles the output in test/types-cli.test.ts."""

import contextlib
import io
import os
import sys
import tempfile
import textwrap
import typing

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
FIXTURES = os.path.join(os.path.dirname(PYTHON_DIR), "test", "fixtures")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from esem_bridge import typegen  # noqa: E402
from esem_bridge.typegen_exports import export_names  # noqa: E402
from esem_bridge.typegen_hints import Hints  # noqa: E402

_count = [0]


def generate_source(source, ambient=None):
    """The declarations of a module written from `source` (a fresh file each time)."""
    _count[0] += 1
    folder = tempfile.mkdtemp(prefix="esem-typegen-")
    path = os.path.join(folder, "mod%d.py" % _count[0])
    with open(path, "w") as f:
        f.write(textwrap.dedent(source))
    return typegen.generate(path, folder, ambient)


def member(text, name):
    """The interface line of `name` (without its JSDoc)."""
    for line in text.splitlines():
        if line.startswith("  %s(" % name) or line.startswith("  %s:" % name):
            return line.strip()
    raise AssertionError("no member %s in:\n%s" % (name, text))


def test_generators_and_iterators_are_iterable_proxies_not_arrays():
    d = generate_source("""
        from typing import Iterator, Generator, Iterable, AsyncIterator, AsyncGenerator
        def a() -> Iterator[int]:
            yield 1
        def b() -> Generator[int, None, None]:
            yield 1
        def c() -> Iterable[int]:
            yield 1
        def d():
            yield 1
        async def e() -> AsyncIterator[str]:
            yield "x"
        async def f() -> AsyncGenerator[str, None]:
            yield "x"
        def g() -> Iterator[int]:
            return iter([1])
        def h() -> Iterable[int]:
            return [1]
    """)
    assert member(d, "a") == "a(): RemoteIterable<number>;"
    assert member(d, "b") == "b(): RemoteGenerator<number, null>;"
    assert member(d, "c") == "c(): RemoteIterable<number>;"
    assert member(d, "d") == "d(): RemoteGenerator<any, any>;"
    assert member(d, "e") == "e(): RemoteIterable<string>;"
    assert member(d, "f") == "f(): RemoteIterable<string>;"
    assert member(d, "g") == "g(): RemoteIterable<number>;"
    assert member(d, "h") == "h(): number[] | RemoteIterable<number>;"  # a list or an iterator
    assert "number[];" not in d.replace("number[] |", "")
    assert 'import type { RemoteGenerator, RemoteIterable } from "esem-bridge";' in d


def test_imported_names_are_not_exports():
    d = generate_source("""
        from __future__ import annotations
        import os
        import json as _json
        from dataclasses import dataclass
        from typing import List, Optional
        from os.path import join

        @dataclass
        class Mine:
            x: int

        def f(p: Optional[str]) -> List[int]:
            return []

        LIMIT = 3
        _hidden = 4
    """)
    body = d[d.index("export interface"):]
    for name in ("os", "_json", "dataclass", "List", "Optional", "join", "annotations", "_hidden"):
        assert ("  %s" % name) not in [line.split("(")[0].split(":")[0] for line in body.splitlines()], name
    assert member(d, "Mine") == "Mine: typeof Mine;"
    assert member(d, "f") == "f(p: string | null): number[];"  # string annotations resolved
    assert member(d, "LIMIT") == "LIMIT: number;"


def test_all_is_honoured():
    d = generate_source("""
        from os.path import join
        __all__ = ["shown", "join"]
        def shown() -> int:
            return 1
        def not_listed() -> int:
            return 2
    """)
    assert "shown(): number;" in d and "join(" in d and "not_listed" not in d


def test_a_c_module_without_source_exports_its_own_functions_and_values():
    import math

    names = export_names(math)
    assert "sqrt" in names and "pi" in names and not any(n.startswith("_") for n in names)


def test_what_the_module_prints_at_import_goes_to_stderr():
    captured_out, captured_err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(captured_out), contextlib.redirect_stderr(captured_err):
        d = generate_source("""
            print("hello from import")
            def f() -> int:
                return 1
        """)
    assert "hello" not in d
    assert captured_out.getvalue() == ""
    assert "hello from import" in captured_err.getvalue()


def test_keyword_only_parameters_go_in_a_trailing_kwargs_type():
    d = generate_source("""
        def a(x: int, *, k: str = "a", n: int) -> None: ...
        def b(x: int = 1, *, k: str) -> None: ...
        def c(*names: str, sep: str = " ", **extra: int) -> None: ...
        def d(**options) -> None: ...
        def e(kwargs: int, *, z: bool = False) -> None: ...
    """)
    assert member(d, "a") == "a(x: number, kwargs: Kwargs<{ k?: string; n: number }>): null;"
    assert member(d, "b") == "b(...args: [kwargs: Kwargs<{ k: string }>] | [x: number, kwargs: Kwargs<{ k: string }>]): null;"
    assert member(d, "c") == ("c(...args: [...names: string[]] | [...names: string[], kwargs: "
                              "Kwargs<{ sep?: string; [key: string]: number | string | undefined }>]): null;")
    assert member(d, "d") == "d(kwargs?: Kwargs<{ [key: string]: any }>): null;"
    assert member(d, "e") == "e(kwargs: number, kwargs_?: Kwargs<{ z?: boolean }>): null;"


def test_every_hint_form():
    d = generate_source("""
        import datetime, decimal, enum
        from typing import (Any, Callable, Dict, FrozenSet, List, Literal, Mapping, Optional, Sequence, Set, Tuple,
                            TypedDict, Union)

        class Mode(enum.Enum):
            A = "a"
            B = 2

        class Row(TypedDict):
            id: int
            name: str

        class Thing:
            pass

        def f1(a: Optional[int], b: Union[int, str], c: "int | None", d: List[float], e: Dict[str, int],
               f: Tuple[int, str], g: Set[str], h: Literal["x", 1, True], i: Callable[[int, str], bool],
               j: Any, k, l=2, m=None, n: bytes = b"", o: Sequence[str] = (), p: Mapping[int, str] = {},
               q: Tuple[int, ...] = (), r: FrozenSet[int] = frozenset(), s: datetime.datetime = None,
               t: Mode = Mode.A, u: Row = None, v: Thing = None, w: type = int, x: complex = 0j,
               y: float = 1.5, z: bool = True) -> None: ...
        def f2() -> Row: ...
        def f3() -> Thing: ...
        def f4() -> Callable[..., int]: ...
        def f5() -> decimal.Decimal: ...
        def f6() -> bytes: ...
        def f7() -> Dict[int, List[Optional[str]]]: ...
        def f8() -> Mode: ...
        async def f9() -> Tuple[()]: ...
    """)
    f1 = member(d, "f1")
    for part in ("a: number | null", "b: number | string", "c: number | null", "d: number[]", "e: Record<string, number>",
                 "f: [number, string]", "g: Set<string>", 'h: "x" | 1 | true',
                 "i: ((arg0: number, arg1: string) => boolean | Promise<boolean>)", "j: any", "k: any", "l?: number",
                 "m?: any", "n?: Uint8Array", "o?: string[]", "p?: Map<number, string>", "q?: number[]", "r?: Set<number>",
                 "s?: Date", 't?: "a" | 2', "u?: Row", "v?: Remote<Thing>", "w?: any", "x?: any", "y?: number", "z?: boolean"):
        assert part in f1, (part, f1)
    assert "export type Row = { id: number; name: string };" in d
    assert member(d, "f2") == "f2(): Row;"
    assert member(d, "f3") == "f3(): Remote<Thing>;"  # a class of the module: a proxy of it
    assert member(d, "f4") == "f4(): ((...args: any[]) => number);"
    assert member(d, "f5") == "f5(): string;"  # Decimal comes back as its digits
    assert member(d, "f6") == "f6(): Buffer;"
    assert member(d, "f7") == "f7(): Map<number, (string | null)[]>;"
    assert member(d, "f8") == 'f8(): "a" | 2;'
    assert member(d, "f9") == "f9(): [];"  # async def: the coroutine's result


def test_classes_statics_classmethods_properties_and_dataclasses():
    d = generate_source('''
        import dataclasses
        from typing import ClassVar, Iterator

        class Base:
            def inherited(self) -> int:
                return 1

        class Box(Base):
            """A box."""
            LIMIT = 5
            shared: ClassVar[int] = 2
            size: int

            def __init__(self, size: int = 1, *, label: str = "") -> None:
                """Makes a box."""
                self.size = size

            @property
            def area(self) -> float:
                """Its area."""
                return 0.0

            @property
            def name(self) -> str:
                return ""

            @name.setter
            def name(self, value: str) -> None:
                pass

            @staticmethod
            def unit() -> "Box":
                return Box()

            @classmethod
            def sized(cls, n: int) -> "Box":
                return cls(n)

            async def fill(self, what: str) -> bool:
                return True

            def __iter__(self) -> Iterator[str]:
                return iter([])

        @dataclasses.dataclass(frozen=True)
        class Pt:
            x: int
            y: int = 0
    ''')
    box = d[d.index("export declare class Box"):d.index("export declare class Pt")]
    for line in ("constructor(size?: number, kwargs?: Kwargs<{ label?: string }>);", "static shared: number;",
                 "size: number;", "static LIMIT: number;", "readonly area: number;", "name: string;",
                 "static unit(): Remote<Box>;", "static sized(n: number): Remote<Box>;", "fill(what: string): boolean;",
                 "inherited(): number;", "[Symbol.iterator](): Iterator<string>;", "/**\n * A box.\n */",
                 "  /**\n   * Makes a box.\n   */\n  constructor", "  /**\n   * Its area.\n   */\n  readonly area"):
        assert line in d if line.startswith("/**") else line in box, (line, box)
    pt = d[d.index("export declare class Pt"):]
    assert "constructor(x: number, y?: number);" in pt and "readonly x: number;" in pt and "readonly y: number;" in pt
    assert "Pt(x: int" not in d  # dataclass's generated docstring is not JSDoc


def test_numpy_arrays_take_typed_arrays_with_or_without_shape():
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("skip: numpy is not installed for", sys.executable)
        return
    d = generate_source("""
        import numpy as np
        import numpy.typing as npt
        def total(a: np.ndarray, b: npt.NDArray[np.float64], c: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]: ...
        def plain() -> np.ndarray: ...
        def scalar(x: np.float64) -> np.int32: ...
    """)
    assert member(d, "total") == ("total(a: NDArrayLike<NumericArray>, b: NDArrayLike<Float64Array>, "
                                  "c: NDArrayLike<BigInt64Array>): NDArray<Float32Array>;")
    assert member(d, "plain") == "plain(): NDArray<NumericArray>;"
    assert member(d, "scalar") == "scalar(x: number): number;"


def test_ambient_form_declares_the_python_specifier():
    d = generate_source("""
        class Shelf:
            def add(self, x: int) -> int:
                return x
        def make() -> Shelf:
            return Shelf()
        default = 3
    """, ambient="python:./lib/shelf.py")
    assert d.splitlines()[1] == 'declare module "python:./lib/shelf.py" {'
    assert "  namespace py {\n    class Shelf {" in d
    assert "make(): Remote<py.Shelf>;" in d
    assert "  export type Shelf = Remote<py.Shelf>;" in d
    assert '  export const Shelf: Member<Mod%dModule["Shelf"]>;' % _count[0] in d
    assert '  export const make: Member<Mod%dModule["make"]>;' % _count[0] in d
    assert "export const default" not in d  # a reserved word is never a named export (src/loader.ts)
    assert d.endswith("}\n")


def test_a_class_named_like_a_bridge_type_does_not_clash():
    d = generate_source("""
        class Remote:
            def ping(self) -> "Remote":
                return self
        def make(*, kind: str = "") -> Remote:
            return Remote()
    """)
    assert 'import type { Kwargs, Remote as EsemRemote } from "esem-bridge";' in d
    assert "ping(): EsemRemote<Remote>;" in d
    assert member(d, "make") == "make(kwargs?: Kwargs<{ kind?: string }>): EsemRemote<Remote>;"


def test_a_string_annotation_that_does_not_resolve_is_any():
    h = Hints(sys.modules[__name__], {}, {})
    assert h.ts("NoSuchName[int]", True) == "any"
    assert h.ts(typing.ForwardRef("int"), True) == "number"


def test_stdlib_modules_generate():
    for name in ("json", "math", "statistics", "pathlib"):
        d = typegen.generate(name, os.getcwd())
        assert "export interface %sModule {" % name.capitalize() in d, name


if __name__ == "__main__":
    failed = 0
    for test_name, test in sorted((k, v) for k, v in dict(globals()).items() if k.startswith("test_")):
        try:
            test()
            print("ok", test_name)
        except Exception:
            failed += 1
            import traceback

            print("FAIL", test_name)
            traceback.print_exc()
    sys.exit(1 if failed else 0)
