"""Tests of the value rules for objects that are not exact builtins
(python/esem_bridge/plain.py, to_plain.py): plain_form, ndarray_from and
to_plain called directly, then through codec.py's Encoder and Decoder.
Run with `python3 python/tests/test_types.py` (npm run test:python)."""

import array
import collections
import ctypes
import dataclasses
import datetime as dt
import decimal
import enum
import os
import struct
import subprocess
import sys
import time
import types
import typing

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from esem_bridge import ops  # noqa: E402
from esem_bridge import plain  # noqa: E402
from esem_bridge.codec import Decoder, Encoder  # noqa: E402
from esem_bridge.registry import Registry  # noqa: E402
from test_codec import roundtrip, Ref  # noqa: E402

import numpy  # noqa: E402  (installed in the default python3; the no-numpy path runs in a child)

plain_form = ops.plain_form
to_plain = ops.to_plain
ndarray_from = ops.ndarray_from


def same(a, b):
    """Equal and of the same types, all the way down."""
    assert type(a) is type(b), "%r (%s) is not %r (%s)" % (a, type(a).__name__, b, type(b).__name__)
    if isinstance(a, dict):
        assert list(a) == list(b), (a, b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert a == b, (a, b)


def value_of(obj):
    kind, value = plain_form(obj)
    assert kind == 1, (obj, kind, value)
    return value


def typed(obj):
    """(bytes, code, dtype, shape) of a kind-2 form, the buffer checked."""
    kind, form = plain_form(obj)
    assert kind == 2, (obj, kind, form)
    buffer, code, dtype, shape = form
    view = memoryview(buffer)
    assert view.c_contiguous
    assert type(shape) is tuple and all(type(n) is int for n in shape)
    return view.tobytes(), code, dtype, shape


# --- subclasses of builtins ---------------------------------------------


class Int(int):
    def __int__(self):
        raise AssertionError("called")


class Float(float):
    def __float__(self):
        raise AssertionError("called")


class Str(str):
    def __str__(self):
        raise AssertionError("called")


class Bytes(bytes):
    def __bytes__(self):
        raise AssertionError("called")


class List(list):
    def __iter__(self):
        return iter([0])


class Tuple(tuple):
    def __iter__(self):
        return iter([0])


class Dict(dict):
    def items(self):
        raise AssertionError("called")

    def keys(self):
        raise AssertionError("called")

    def __iter__(self):
        raise AssertionError("called")


class Set(set):
    def __iter__(self):
        return iter([0])


def test_subclasses_of_builtins_convert_as_their_base():
    same(value_of(Int(5)), 5)
    same(value_of(Float(1.5)), 1.5)
    same(value_of(Str("s")), "s")
    same(value_of(Bytes(b"ab")), b"ab")
    same(value_of(type("BA", (bytearray,), {})(b"xy")), bytearray(b"xy"))
    same(value_of(List([1, 2])), [1, 2])
    same(value_of(Tuple((1, 2))), (1, 2))
    same(value_of(Dict(a=1)), {"a": 1})
    same(value_of(collections.OrderedDict(b=2)), {"b": 2})
    same(value_of(collections.Counter("aa")), {"a": 2})
    same(value_of(Set([3])), {0})  # a set subclass is read through its __iter__, as the native encoder does
    same(value_of(type("FS", (frozenset,), {})([4])), frozenset([4]))


def test_struct_sequences_are_tuples_and_named_tuples_are_proxies():
    same(value_of(time.gmtime(0))[:3], (1970, 1, 1))
    P = collections.namedtuple("P", "x y")

    class Q(typing.NamedTuple):
        a: int

    assert plain_form(P(1, 2)) == (0, True)
    assert plain_form(Q(1)) == (0, True)


# --- Enum, Decimal, complex, dates ----------------------------------------


class Color(enum.Enum):
    RED = "red"
    PAIR = (1, 2)


class Level(enum.IntEnum):
    HIGH = 3


class Mode(enum.StrEnum):
    FAST = "fast"


class Perm(enum.Flag):
    R = 4
    W = 2


def test_enum_members_become_their_value():
    same(value_of(Color.RED), "red")
    same(value_of(Color.PAIR), (1, 2))
    same(value_of(Level.HIGH), 3)
    same(value_of(Mode.FAST), "fast")
    same(value_of(Perm.R | Perm.W), 6)
    same(value_of(enum.IntFlag("F", "A B").B), 2)
    assert plain_form(Color) == (0, True)  # the class itself: a proxy


def test_decimal_gives_its_exact_digits():
    D = decimal.Decimal
    for text in ("1.10", "0.1000000000000000055511151231257827", "-0.00", "1E+2", "NaN", "-Infinity"):
        same(value_of(D(text)), text)
    same(value_of(type("MyDecimal", (D,), {})("2.50")), "2.50")


def test_complex_is_a_real_and_imag_object():
    same(value_of(3 + 4j), {"real": 3.0, "imag": 4.0})
    same(value_of(complex(-0.0, float("inf"))), {"real": -0.0, "imag": float("inf")})


def test_datetimes_are_dates_and_the_rest_have_documented_forms():
    aware = dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=dt.timezone.utc)
    assert plain_form(aware) == (3, 1714979289123.0)
    assert plain_form(aware.replace(tzinfo=None)) == (3, 1714979289123.0)  # naive is UTC
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert plain_form(aware.astimezone(plus2)) == (3, 1714979289123.0)
    sub = type("MyDatetime", (dt.datetime,), {})(1970, 1, 1, 0, 0, 1)
    assert plain_form(sub) == (3, 1000.0)
    same(value_of(dt.date(2024, 1, 2)), "2024-01-02")
    same(value_of(type("MyDate", (dt.date,), {"isoformat": lambda self: "x"})(2024, 1, 2)), "2024-01-02")
    same(value_of(dt.time(3, 4, 5)), "03:04:05")
    same(value_of(dt.time(3, 4, 5, 600, tzinfo=plus2)), "03:04:05.000600+02:00")
    same(value_of(dt.timedelta(seconds=1, microseconds=500)), 1000.5)
    same(value_of(dt.timedelta(days=-1)), -86400000.0)


# --- buffers: memoryview, array.array, ctypes -----------------------------


def test_memoryviews_of_bytes_are_bytes_and_others_typed_arrays():
    assert plain_form(memoryview(b"ab")) == (4, memoryview(b"ab"))
    kind, buffer = plain_form(memoryview(b"ab").cast("c"))
    assert kind == 4 and bytes(buffer) == b"ab"
    kind, buffer = plain_form(memoryview(b"abcdef")[::2])  # non-contiguous: copied
    assert kind == 4 and buffer == b"ace"
    assert typed(memoryview(b"\xff\x01").cast("b")) == (b"\xff\x01", "i8", "int8", (2,))
    grid = struct.pack("=6d", *range(6))
    assert typed(memoryview(grid).cast("B").cast("d", [2, 3])) == (grid, "f64", "float64", (2, 3))
    assert typed(memoryview(struct.pack("=2q", -1, 2)).cast("q")) == (struct.pack("=2q", -1, 2), "i64", "int64", (2,))
    every_other = memoryview(array.array("i", [1, 2, 3, 4]))[::2]
    assert typed(every_other) == (struct.pack("=2i", 1, 3), "i32", "int32", (2,))
    assert typed(memoryview(b"\x00\x01").cast("?")) == (b"\x00\x01", "u8", "bool", (2,))


def test_half_floats_and_foreign_byte_orders_are_converted():
    half = memoryview(numpy.array([1.5, -2.0], dtype=numpy.float16))
    assert half.format == "e"
    assert typed(half) == (struct.pack("=2f", 1.5, -2.0), "f32", "float16", (2,))
    big = (ctypes.c_double.__ctype_be__ * 2)(1.5, 2.5)
    assert memoryview(big).format == ">d"
    assert typed(memoryview(big)) == (struct.pack("=2d", 1.5, 2.5), "f64", "float64", (2,))
    little = (ctypes.c_int32 * 3)(1, -2, 3)
    assert typed(memoryview(little)) == (struct.pack("=3i", 1, -2, 3), "i32", "int32", (3,))


def test_buffers_no_typed_array_holds_are_bytes():
    class Point(ctypes.Structure):
        _fields_ = [("x", ctypes.c_int32), ("y", ctypes.c_int32)]

    kind, buffer = plain_form(memoryview(Point(1, 2)))
    assert kind == 4 and bytes(buffer) == struct.pack("=2i", 1, 2)


def test_arrays_are_typed_arrays_by_typecode():
    assert typed(array.array("d", [1.5])) == (struct.pack("=d", 1.5), "f64", "float64", (1,))
    assert typed(array.array("l", [-7])) == (struct.pack("=q", -7), "i64", "int64", (1,))
    assert typed(array.array("H", [7, 8])) == (struct.pack("=2H", 7, 8), "u16", "uint16", (2,))
    assert typed(array.array("f", [])) == (b"", "f32", "float32", (0,))
    kind, buffer = plain_form(array.array("B", [1, 2]))
    assert kind == 4 and bytes(buffer) == b"\x01\x02"
    same(value_of(array.array("u", "hé")), "hé")


# --- proxies ---------------------------------------------------------------


@dataclasses.dataclass
class Item:
    name: str
    tags: list


class Thing(object):
    def __init__(self):
        self.visible = 1
        self._hidden = 2


def test_dataclasses_instances_and_the_rest_are_proxies_for_their_whole_type():
    for obj in (Item("a", []), Thing(), object(), range(3), types, len, Thing, iter([])):
        assert plain_form(obj) == (0, True), obj


def test_a_type_is_classified_once():
    class Fresh(int):
        pass

    assert Fresh not in plain._handlers
    plain_form(Fresh(1))
    assert plain._handlers[Fresh] is plain._int_base
    made = [type("T%d" % i, (object,), {}) for i in range(plain._MAX_HANDLERS + 10)]
    for t in made:
        plain_form(t())
    assert len(plain._handlers) <= plain._MAX_HANDLERS  # run-time classes do not pile up
    assert plain_form(memoryview(b"x"))[0] == 4  # the seed survives
    for t, handler in plain._SEED.items():
        assert plain._classify(t) is handler, t  # the seed is only a shortcut


# --- numpy -------------------------------------------------------------------


def test_numeric_ndarrays_are_typed_arrays():
    cases = [
        ("float64", "f64"), ("float32", "f32"), ("int64", "i64"), ("uint64", "u64"), ("int32", "i32"),
        ("uint32", "u32"), ("int16", "i16"), ("uint16", "u16"), ("int8", "i8"), ("uint8", "u8"),
    ]
    for dtype, code in cases:
        a = numpy.arange(6, dtype=dtype).reshape(2, 3)
        assert typed(a) == (a.tobytes(), code, dtype, (2, 3)), dtype
    flags = numpy.array([True, False])
    assert typed(flags) == (b"\x01\x00", "u8", "bool", (2,))
    half = numpy.array([1.5, 2], dtype=numpy.float16)
    assert typed(half) == (struct.pack("=2f", 1.5, 2), "f32", "float16", (2,))
    assert typed(numpy.array(2.5)) == (struct.pack("=d", 2.5), "f64", "float64", ())


def test_ndarrays_are_made_contiguous_and_native_once():
    a = numpy.arange(12, dtype=numpy.int32).reshape(3, 4)
    assert typed(a.T) == (numpy.ascontiguousarray(a.T).tobytes(), "i32", "int32", (4, 3))
    assert typed(a[:, ::2]) == (a[:, ::2].copy().tobytes(), "i32", "int32", (3, 2))
    big = numpy.array([1.0, 2.0], dtype=">f8")
    assert typed(big) == (struct.pack("=2d", 1, 2), "f64", "float64", (2,))


def test_other_ndarrays_are_proxies_of_that_array():
    for a in (numpy.array([1j]), numpy.array(["a"]), numpy.array([object()]),
              numpy.array(["2020-01-01"], dtype="datetime64[D]")):
        assert plain_form(a) == (0, False), a.dtype


def test_numpy_scalars_are_their_item():
    same(value_of(numpy.int64(-3)), -3)
    same(value_of(numpy.uint64(2 ** 64 - 1)), 2 ** 64 - 1)
    same(value_of(numpy.float32(0.5)), 0.5)
    same(value_of(numpy.bool_(True)), True)
    same(value_of(numpy.str_("s")), "s")
    same(value_of(numpy.bytes_(b"b")), b"b")
    assert plain_form(numpy.complex128(1j)) == (0, False)
    assert plain_form(numpy.datetime64("2020-01-01")) == (0, False)


# --- JS -> Python: ndarray_from ----------------------------------------------


def test_ndarray_from_gives_a_writable_array_of_the_shape_and_dtype():
    data = struct.pack("=6d", *range(6))
    a = ndarray_from(data, "f64", "float64", [2, 3])
    assert isinstance(a, numpy.ndarray) and a.shape == (2, 3) and a.dtype == numpy.float64
    a[0, 0] = 9  # writable: a copy of its own
    assert a.tolist() == [[9, 1, 2], [3, 4, 5]]
    assert numpy.concatenate([a, a], axis=1).shape == (2, 6)
    h = ndarray_from(struct.pack("=2f", 1.5, 2), "f32", "float16", [2])
    assert h.dtype == numpy.float16 and h.tolist() == [1.5, 2.0]
    b = ndarray_from(b"\x01\x00", "u8", "bool", [2])
    assert b.dtype == numpy.bool_ and b.tolist() == [True, False]
    e = ndarray_from(b"", "i32", "int32", [0, 4])
    assert e.shape == (0, 4)
    s = ndarray_from(struct.pack("=q", 7), "i64", "int64", [])
    assert s.shape == () and s.item() == 7
    odd = ndarray_from(struct.pack("=i", 1), "i32", "not-a-dtype", [1])
    assert odd.dtype == numpy.int32  # an unknown dtype name keeps the element type


def test_ndarray_from_rejects_data_that_does_not_fit():
    for args in ((b"\x00" * 7, "f64", "float64", [1]), (b"", "x64", "x", [0]), (b"", "u8", "uint8", [-1])):
        try:
            ndarray_from(*args)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % (args,))


def test_the_decoder_reads_an_ndarray_tag():
    def s(text):
        b = text.encode()
        return b"\x05" + struct.pack("<I", len(b)) + b

    data = struct.pack("=4i", 1, 2, 3, 4)
    frame = b"\x0e" + s("i32") + s("int32") + struct.pack("<I2d", 2, 2, 2) + struct.pack("<I", len(data)) + data
    a = Decoder(frame, Registry()).value()
    assert a.dtype == numpy.int32 and a.tolist() == [[1, 2], [3, 4]]
    bad = b"\x0e" + s("i32") + s("int32") + struct.pack("<I2d", 2, 2, 3) + struct.pack("<I", len(data)) + data
    try:
        Decoder(bad, Registry()).value()
    except Exception as e:
        assert getattr(e, "code", None) == "ESEM_INTERNAL", e
    else:
        raise AssertionError("a shape that does not fit its bytes was accepted")


# --- without numpy ---------------------------------------------------------------


NO_NUMPY = r"""
import array, struct, sys
sys.path.insert(0, %r)
from esem_bridge import ops
from esem_bridge.codec import Encoder
from esem_bridge.registry import Registry
v = ops.ndarray_from(struct.pack("=4i", 1, 2, 3, 4), "i32", "int32", [2, 2])
assert type(v) is memoryview and v.format == "i" and v.shape == (2, 2) and v.tolist() == [[1, 2], [3, 4]], v
assert ops.ndarray_from(b"", "f64", "float64", [0, 2]).tolist() == []
assert ops.plain_form(array.array("d", [1.0]))[0] == 2
assert ops.plain_form(memoryview(b"x"))[0] == 4
Encoder(Registry()).encode([object(), array.array("i", [1]), 1j])
assert ops.to_plain({"a": [1, (2, 3)]}) == {"a": [1, [2, 3]]}
assert "numpy" not in sys.modules, "numpy was imported"
print("ok")
"""


def test_without_numpy_nothing_imports_it():
    out = subprocess.run([sys.executable, "-c", NO_NUMPY % PYTHON_DIR], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


LAZY_START = r"""
import sys
sys.path.insert(0, %r)
import esem_bridge.worker
late = [m for m in ("datetime", "_datetime", "socket", "signal", "selectors") if m in sys.modules]
assert not late, "imported at start: %%s" %% late
from esem_bridge import ops, plain
when = ops.datetime_from_ms(1714979289123.0)  # a JS Date arriving: datetime now loads
assert "datetime" in sys.modules and when.isoformat() == "2024-05-06T07:08:09.123000+00:00", when
assert ops.datetime_to_ms(when.replace(tzinfo=None)) == 1714979289123.0
import datetime
assert plain.plain_form(datetime.date(2024, 1, 2)) == (1, "2024-01-02")
print("ok")
"""


def test_the_worker_starts_without_datetime_socket_or_signal():
    # ~4 ms of every start (docs/architecture.md, "Start-up"); -S: site
    # may import them itself.
    out = subprocess.run([sys.executable, "-S", "-c", LAZY_START % PYTHON_DIR], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# --- through the Encoder -----------------------------------------------------------


def test_the_encoder_writes_plain_forms():
    assert roundtrip(Level.HIGH) == ("int", 3)
    assert roundtrip([Mode.FAST, decimal.Decimal("1.10")]) == [("str", "fast"), ("str", "1.10")]
    assert roundtrip({Mode.FAST: 1}) == ("dict", [("fast", ("int", 1))])
    assert roundtrip(2j) == ("dict", [("real", 0.0), ("imag", 2.0)])
    assert roundtrip(dt.timedelta(milliseconds=5)) == 5.0
    assert roundtrip(Tuple((1,))) == [("int", 1)]
    assert roundtrip(Set([1])) == ("set", [("int", 0)])
    assert roundtrip(array.array("h", [-1])) == ("ndarray", "i16", "int16", [1.0], struct.pack("=h", -1))
    assert isinstance(roundtrip(collections.namedtuple("P", "x")(1)), Ref)
    assert isinstance(roundtrip(Item("a", [])), Ref)


def test_the_encoder_rejects_a_bad_plain_form():
    original = ops.plain_form
    try:
        for bad in (None, (1,), (9, None), (2, (b"", "x", "x", ())), (1, "self")):
            def fake(obj, bad=bad):
                return (1, obj) if bad == (1, "self") else bad

            ops.plain_form = fake
            try:
                Encoder(Registry()).encode(Thing())
            except TypeError:
                continue
            raise AssertionError("accepted %r" % (bad,))
    finally:
        ops.plain_form = original


# --- to_plain ---------------------------------------------------------------------


@dataclasses.dataclass
class Node:
    name: str
    child: object = None


class Bag(object):
    def __init__(self, *items):
        self.items = list(items)

    def __iter__(self):
        return iter(self.items)


def test_to_plain_makes_dicts_and_lists_of_any_object():
    P = collections.namedtuple("P", "x y")
    same(to_plain(Item("a", [P(1, 2)])), {"name": "a", "tags": [{"x": 1, "y": 2}]})
    same(to_plain(Thing()), {"visible": 1})
    same(to_plain(types.MappingProxyType({"k": Color.RED})), {"k": "red"})
    same(to_plain(Bag(1, Level.HIGH)), [1, 3])
    same(to_plain((x * 2 for x in range(3))), [0, 2, 4])
    same(to_plain(range(2)), [0, 1])
    same(to_plain((1, (2,))), [1, [2]])
    same(to_plain({Level.HIGH: decimal.Decimal("2")}), {3: "2"})
    same(to_plain({frozenset([1])}), {frozenset([1])})
    same(to_plain({P(1, 2)}), [{"x": 1, "y": 2}])  # items that became unhashable: a list
    d = dt.datetime(2020, 1, 1)
    a = numpy.zeros(2)
    out = to_plain([d, a, b"x", dt.date(2020, 1, 2)])
    assert out[0] is d and out[1] is a and out[2] == b"x" and out[3] == "2020-01-02"  # left to the encoder


class Slotted(object):
    __slots__ = ("x", "y", "_private", "unset")

    def __init__(self):
        self.x = 1
        self.y = Level.HIGH
        self._private = 2


def test_to_plain_reads_public_slots():
    same(to_plain(Slotted()), {"x": 1, "y": 3})
    try:
        to_plain(object(), None, "error")
    except TypeError as e:
        assert "value (a object) cannot be made plain" in str(e), e
    else:
        raise AssertionError("object() made plain")


def test_to_plain_stops_at_the_depth():
    tree = Node("a", Node("b", Node("c")))
    inner = tree.child
    same(to_plain(tree, 1), {"name": "a", "child": inner})
    out = to_plain(tree, 2)
    assert out["child"]["child"] is inner.child
    assert to_plain(tree, 0) is tree
    same(to_plain([1, [2, [3]]], 1), [1, [2, [3]]])  # plain data past the depth is sent as it is
    same(to_plain(tree, 1, "string")["child"], str(inner))
    try:
        to_plain(tree, 1, "error")
    except TypeError as e:
        assert "value.child" in str(e) and "depth" in str(e), e
    else:
        raise AssertionError("no error past the depth")


def test_to_plain_applies_the_policy_to_values_it_cannot_make_plain():
    fn = len
    assert to_plain({"f": fn})["f"] is fn
    same(to_plain({"f": types}, None, "string"), {"f": str(types)})
    try:
        to_plain({"a": [1, {"b": Thing, "c": 1}]}, None, "error")
    except TypeError as e:
        assert str(e).startswith("value.a[1].b (a type) cannot be made plain"), e
    else:
        raise AssertionError("no error for a class")


def test_to_plain_detects_cycles():
    a = Node("a")
    a.child = Node("b", a)
    out = to_plain(a)
    assert out["child"]["child"] is a  # left: a proxy
    same(to_plain(a, None, "string")["child"]["child"], str(a))
    for policy in ("error", "proxy"):
        loop = [1]
        loop.append(loop)
        try:
            to_plain(loop, None, policy)
        except TypeError as e:
            assert "value[1]" in str(e) and "itself" in str(e), e
        else:
            raise AssertionError("a list that contains itself was accepted")
    shared = [1]
    same(to_plain([shared, shared]), [[1], [1]])  # shared, not a cycle


def test_to_plain_refuses_structures_deeper_than_the_wire_allows():
    deep = None
    for i in range(300):
        deep = Node(str(i), deep)
    try:
        to_plain(deep)
    except ValueError as e:
        assert "256" in str(e), e
    else:
        raise AssertionError("300 levels accepted")
    fifty = None
    for i in range(50):
        fifty = Node(str(i), fifty)
    assert to_plain(fifty)["name"] == "49"


def test_to_plain_checks_its_options():
    for depth, policy in ((-1, "proxy"), (1.5, "proxy"), (None, "drop")):
        try:
            to_plain(1, depth, policy)
        except ValueError:
            continue
        raise AssertionError("accepted %r %r" % (depth, policy))


if __name__ == "__main__":
    from runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
