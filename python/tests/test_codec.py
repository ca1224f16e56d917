"""Tests of the Python wire codec (python/esem_bridge/codec.py) and a smoke
test of the subprocess worker. Plain asserts: run with
`python3 -m pytest python/tests` or `python3 python/tests/test_codec.py`."""

import asyncio
import datetime as dt
import enum
import math
import os
import socket
import struct
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from esem_bridge import ops  # noqa: E402
from esem_bridge.codec import BridgeFailure, Decoder, Encoder  # noqa: E402
from esem_bridge.registry import Registry  # noqa: E402

try:
    import numpy
except ImportError:
    numpy = None


# --- a reference reader of the Python -> JS layouts (as src/codec.ts) -------


class Ref(object):
    def __init__(self, ref_id, type_index, desc):
        self.id = ref_id
        self.type_index = type_index
        self.desc = desc

    def __repr__(self):
        return "Ref(%r, %r, %r)" % (self.id, self.type_index, self.desc)


class Reader(object):
    def __init__(self, data):
        self.b = bytes(data)
        self.p = 0
        self.keys = []
        self.key_refs = 0  # how many KeyRefs were read

    def done(self):
        return self.p == len(self.b)

    def take(self, fmt):
        s = struct.Struct("<" + fmt)
        v = s.unpack_from(self.b, self.p)
        self.p += s.size
        return v[0] if len(v) == 1 else v

    def raw(self, n):
        out = self.b[self.p:self.p + n]
        assert len(out) == n, "truncated"
        self.p += n
        return out

    def string(self, tag):
        n = self.take("I")
        if tag == 5:
            return self.raw(n).decode("utf-8")
        assert tag == 15, tag
        return self.raw(2 * n).decode("utf-16-le", "surrogatepass")

    def key(self):
        tag = self.take("B")
        if tag == 16:
            self.key_refs += 1
            return self.keys[self.take("I")]
        k = self.string(tag)
        self.keys.append(k)
        return k

    def value(self):
        tag = self.take("B")
        if tag == 0:
            return None
        if tag == 1:
            b = self.take("B")
            assert b in (0, 1)
            return b == 1
        if tag == 2:
            return ("int", self.take("q"))
        if tag == 3:
            return ("bigint", self.raw(self.take("I")).decode("ascii"))
        if tag == 4:
            return self.take("d")
        if tag in (5, 15):
            return (("str16",) if tag == 15 else ("str",)) + (self.string(tag),)
        if tag == 6:
            return ("bytes", self.raw(self.take("I")))
        if tag == 7:
            return [self.value() for _ in range(self.take("I"))]
        if tag == 8:
            out = []
            for _ in range(self.take("I")):
                k = self.key()
                out.append((k, self.value()))
            return ("dict", out)
        if tag == 9:
            out = []
            for _ in range(self.take("I")):
                k = self.value()
                out.append((k, self.value()))
            return ("map", out)
        if tag == 10:
            return ("set", [self.value() for _ in range(self.take("I"))])
        if tag == 11:
            return ("date", self.take("d"))
        if tag == 12:
            ref_id = self.take("d")
            type_index = self.take("I")
            desc = None
            if self.take("B"):
                kind = self.string(self.take("B"))
                name = self.string(self.take("B"))
                members = [self.string(self.take("B")) for _ in range(self.take("I"))]
                flags = self.take("BBB")
                bits = self.b[self.p:self.p + (len(members) + 7) // 8]
                self.p += len(bits)
                callables = [m for i, m in enumerate(members) if bits[i >> 3] & (1 << (i & 7))]
                desc = (kind, name, members) + tuple(f == 1 for f in flags) + (callables,)
            return Ref(ref_id, type_index, desc)
        if tag == 14:
            code = self.string(self.take("B"))
            dtype = self.string(self.take("B"))
            shape = [self.take("d") for _ in range(self.take("I"))]
            return ("ndarray", code, dtype, shape, self.raw(self.take("I")))
        raise AssertionError("unknown tag %d at %d" % (tag, self.p - 1))


def encode(obj, registry=None):
    registry = registry if registry is not None else Registry()
    return bytes(Encoder(registry).encode(obj))


def roundtrip(obj, registry=None):
    r = Reader(encode(obj, registry))
    v = r.value()
    assert r.done(), "trailing bytes"
    return v


# --- Python -> JS ---------------------------------------------------------


class Color(enum.IntEnum):
    RED = 7


class MyStr(str):
    def encode(self, *a, **k):  # ignored: the codec reads the str itself
        raise AssertionError("called")


class MyList(list):
    def __iter__(self):  # ignored, as PyList_GetItem ignores it
        return iter([0])


class MyTuple(tuple):
    pass


class MyDict(dict):
    def items(self):
        raise AssertionError("called")


class MyFloat(float):
    pass


class MyBytes(bytes):
    def __radd__(self, other):
        raise AssertionError("called")


class MySet(set):
    pass


class Plain(object):
    def release(self):
        pass

    def method(self):
        return 1


class Other(object):
    def __call__(self):
        return 2


def test_scalars():
    assert encode(None) == b"\x00"
    assert encode(True) == b"\x01\x01"
    assert encode(False) == b"\x01\x00"
    assert encode(5) == b"\x02" + struct.pack("<q", 5)
    assert roundtrip(-1) == ("int", -1)
    assert roundtrip(2 ** 63 - 1) == ("int", 2 ** 63 - 1)
    assert roundtrip(-2 ** 63) == ("int", -2 ** 63)
    assert roundtrip(2 ** 63) == ("bigint", "8000000000000000")
    assert roundtrip(-2 ** 63 - 1) == ("bigint", "-8000000000000001")
    assert roundtrip(-(2 ** 100)) == ("bigint", "-1" + "0" * 25)
    assert encode(1.5) == b"\x04" + struct.pack("<d", 1.5)
    assert math.isnan(roundtrip(float("nan")))
    assert roundtrip(float("-inf")) == float("-inf")
    assert roundtrip("") == ("str", "")
    assert roundtrip("héllo €𝄞") == ("str", "héllo €𝄞")
    assert encode("ab") == b"\x05\x02\x00\x00\x00ab"


def test_lone_surrogates_go_as_str16():
    assert encode("a\ud800") == b"\x0f\x02\x00\x00\x00a\x00\x00\xd8"
    assert roundtrip("x\udc00y𝄞") == ("str16", "x\udc00y𝄞")
    assert roundtrip({"\ud800": 1}) == ("dict", [("\ud800", ("int", 1))])


def test_subclasses_convert_as_their_base():
    assert roundtrip(Color.RED) == ("int", 7)
    assert roundtrip(MyStr("hi")) == ("str", "hi")
    assert roundtrip(MyList([1, 2])) == [("int", 1), ("int", 2)]
    assert roundtrip(MyTuple((1,))) == [("int", 1)]
    assert roundtrip(MyDict(a=1)) == ("dict", [("a", ("int", 1))])
    assert roundtrip(MyFloat(2.5)) == 2.5
    assert roundtrip(MyBytes(b"xy")) == ("bytes", b"xy")
    assert roundtrip(MySet([3])) == ("set", [("int", 3)])
    assert roundtrip({MyStr("k"): 1}) == ("dict", [("k", ("int", 1))])


def test_bool_before_int():
    assert roundtrip([True, 1, False, 0]) == [True, ("int", 1), False, ("int", 0)]


def test_buffers():
    assert roundtrip(b"\x00\xff") == ("bytes", b"\x00\xff")
    assert roundtrip(bytearray(b"abc")) == ("bytes", b"abc")
    assert roundtrip(memoryview(b"abcdef")[1:3]) == ("bytes", b"bc")
    ints = memoryview(struct.pack("<3i", 1, 2, 3)).cast("i")
    assert roundtrip(ints) == ("ndarray", "i32", "int32", [3.0], struct.pack("<3i", 1, 2, 3))  # plain_form: a typed array
    assert roundtrip(memoryview(b"abcdef")[::2]) == ("bytes", b"ace")  # non-contiguous: copied once


def test_containers():
    assert roundtrip([1, "a", None]) == [("int", 1), ("str", "a"), None]
    assert roundtrip((1, (2,))) == [("int", 1), [("int", 2)]]
    assert roundtrip([]) == []
    assert roundtrip({}) == ("dict", [])
    assert roundtrip({"a": 1, "b": [2]}) == ("dict", [("a", ("int", 1)), ("b", [("int", 2)])])
    assert roundtrip({1: "x", "y": 2}) == ("map", [(("int", 1), ("str", "x")), (("str", "y"), ("int", 2))])
    assert roundtrip({(1, 2): None}) == ("map", [([("int", 1), ("int", 2)], None)])
    assert roundtrip({4}) == ("set", [("int", 4)])
    assert roundtrip(frozenset(["q"])) == ("set", [("str", "q")])


def test_key_table():
    data = encode([{"a": 1, "b": 2}, {"b": 3, "a": 4}, {1: 1, "a": 5}, {"c": {"a": 6}}])
    expected = (
        b"\x07\x04\x00\x00\x00"
        + b"\x08\x02\x00\x00\x00" + b"\x05\x01\x00\x00\x00a" + b"\x02" + struct.pack("<q", 1)
        + b"\x05\x01\x00\x00\x00b" + b"\x02" + struct.pack("<q", 2)
        + b"\x08\x02\x00\x00\x00" + b"\x10\x01\x00\x00\x00" + b"\x02" + struct.pack("<q", 3)
        + b"\x10\x00\x00\x00\x00" + b"\x02" + struct.pack("<q", 4)
        # a Map: its keys are plain values and take no index
        + b"\x09\x02\x00\x00\x00" + b"\x02" + struct.pack("<q", 1) + b"\x02" + struct.pack("<q", 1)
        + b"\x05\x01\x00\x00\x00a" + b"\x02" + struct.pack("<q", 5)
        + b"\x08\x01\x00\x00\x00" + b"\x05\x01\x00\x00\x00c"
        + b"\x08\x01\x00\x00\x00" + b"\x10\x00\x00\x00\x00" + b"\x02" + struct.pack("<q", 6)
    )
    assert data == expected
    r = Reader(data)
    r.value()
    assert r.done() and r.keys == ["a", "b", "c"] and r.key_refs == 3
    # One table per message: a second encode starts again.
    enc = Encoder(Registry())
    first = bytes(enc.encode({"a": 1}))
    assert bytes(enc.encode({"a": 1})) == first


def test_dates():
    aware = dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=dt.timezone.utc)
    ms = 1714979289123.0
    assert roundtrip(aware) == ("date", ms)
    assert roundtrip(aware.replace(tzinfo=None)) == ("date", ms)  # naive is UTC
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert roundtrip(aware.astimezone(plus2)) == ("date", ms)
    assert roundtrip(dt.date(2024, 1, 1)) == ("str", "2024-01-01")  # a date is not a datetime: its ISO string


def test_refs_describe_a_type_once():
    registry = Registry()
    a, b, c = Plain(), Plain(), Other()
    first = roundtrip([a, b, c, a], registry)
    assert [r.id for r in first] == [1, 2, 3, 4]
    assert [r.type_index for r in first] == [1, 1, 2, 1]
    assert first[0].desc[0] == "object" and first[0].desc[1].endswith("Plain")
    assert "method" in first[0].desc[2] and "release" in first[0].desc[2]
    assert first[0].desc[3:6] == (True, False, False)  # hasRelease, callable, iterable
    assert "method" in first[0].desc[6] and "release" in first[0].desc[6]  # the members that are methods
    assert first[1].desc is None and first[3].desc is None
    assert first[2].desc[3:6] == (False, True, False)
    again = roundtrip(Plain(), registry)
    assert (again.id, again.type_index, again.desc) == (5, 1, None)
    assert registry.objects.get(1) is a and registry.objects.get(4) is a and len(registry) == 5
    # Modules, classes and functions: typeIndex 0, described every time.
    for obj, kind in ((math, "module"), (Plain, "class"), (len, "function"), (test_scalars, "function")):
        for _ in range(2):
            r = roundtrip(obj, registry)
            assert r.type_index == 0 and r.desc[0] == kind, (obj, r)
    assert roundtrip(math, registry).desc[1] == "math"
    assert registry.remove(1) and not registry.remove(1) and registry.objects.get(1) is None


def test_ref_layout():
    registry = Registry()
    data = encode(len, registry)
    assert data[:14] == b"\x0c" + struct.pack("<dIB", 1.0, 0, 1)
    r = Reader(data)
    assert r.value().desc == ("function", "len", [], False, True, False, [])
    assert r.done()


def test_failure_unregisters_refs_and_types():
    registry = Registry()
    enc = Encoder(registry)
    out = bytearray(b"head")
    deep = [0]
    for _ in range(300):
        deep = [deep]
    try:
        enc.encode([Plain(), Other(), math, deep], out)
    except ValueError as e:
        assert "nested too deeply" in str(e)
    else:
        raise AssertionError("no ValueError")
    assert bytes(out) == b"head" and len(registry) == 0 and registry.type_index == {}
    # The next message describes the types again, and ids go on (never reused).
    r = roundtrip(Plain(), registry)
    assert r.id == 4 and r.type_index == 1 and r.desc is not None


def test_depth_limit():
    def nest(k):
        x = 0
        for _ in range(k):
            x = [x]
        return x

    roundtrip(nest(256))  # the int at depth 256: fine (as the native encoder)
    try:
        encode(nest(257))
    except ValueError:
        pass
    else:
        raise AssertionError("no ValueError at depth 257")
    cyclic = []
    cyclic.append(cyclic)
    try:
        encode(cyclic)
    except ValueError:
        pass
    else:
        raise AssertionError("no ValueError for a cycle")


def test_numpy():
    if numpy is None:
        return
    registry = Registry()
    a = numpy.arange(6, dtype=numpy.float64).reshape(2, 3)
    assert roundtrip(a) == ("ndarray", "f64", "float64", [2.0, 3.0], a.tobytes())
    t = a.T  # not contiguous: sent in C order
    assert roundtrip(t)[4] == numpy.ascontiguousarray(t).tobytes()
    assert roundtrip(numpy.array([True, False]))[1:3] == ("u8", "bool")
    h = roundtrip(numpy.array([1.5], dtype=numpy.float16))
    assert h[1:3] == ("f32", "float16") and h[4] == struct.pack("<f", 1.5)
    big = numpy.array([1, 2], dtype=">i4")
    assert roundtrip(big)[4] == struct.pack("<2i", 1, 2)
    assert roundtrip(numpy.array(3.0))[3] == []
    assert roundtrip(numpy.float32(1.5)) == 1.5
    assert roundtrip(numpy.float64(2.5)) == 2.5
    assert roundtrip(numpy.int64(-3)) == ("int", -3)
    assert roundtrip(numpy.uint64(2 ** 64 - 1)) == ("bigint", "ffffffffffffffff")
    assert roundtrip(numpy.bool_(True)) is True
    assert roundtrip(numpy.str_("s")) == ("str", "s")
    assert isinstance(roundtrip(numpy.array(["x"], dtype=object), registry), Ref)
    assert isinstance(roundtrip(numpy.complex128(1j), registry), Ref)
    assert roundtrip({"a": numpy.int32(1)}) == ("dict", [("a", ("int", 1))])


# --- JS -> Python ---------------------------------------------------------


def s(text):
    b = text.encode("utf-8")
    return b"\x05" + struct.pack("<I", len(b)) + b


def i64(n):
    return b"\x02" + struct.pack("<q", n)


def decode_all(data, registry=None):
    d = Decoder(data, registry if registry is not None else Registry())
    out = []
    while not d.at_end():
        out.append(d.value())
    return out


def test_decode_scalars():
    data = (
        b"\x00" + b"\x01\x01" + b"\x01\x00" + i64(-5) + i64(2 ** 62)
        + b"\x03" + struct.pack("<I", 18) + b"-10000000000000000"
        + b"\x03\x02\x00\x00\x00ff"
        + b"\x04" + struct.pack("<d", -0.0)
        + s("héllo") + s("")
        + b"\x0f\x02\x00\x00\x00" + "\ud800x".encode("utf-16-le", "surrogatepass")
        + b"\x06\x03\x00\x00\x00\x00\x01\x02"
    )
    v = decode_all(data)
    assert v[:5] == [None, True, False, -5, 2 ** 62]
    assert v[5] == -(2 ** 64) and v[6] == 255
    assert v[7] == 0.0 and math.copysign(1, v[7]) == -1
    assert v[8:10] == ["héllo", ""]
    assert v[10] == "\ud800x"
    assert v[11] == b"\x00\x01\x02" and type(v[11]) is bytes
    assert type(v[1]) is bool and type(v[3]) is int


def test_decode_containers_and_key_table():
    data = (
        b"\x07\x03\x00\x00\x00"
        + b"\x08\x02\x00\x00\x00" + s("a") + i64(1) + s("b") + i64(2)
        + b"\x08\x02\x00\x00\x00" + b"\x10\x01\x00\x00\x00" + i64(3) + b"\x10\x00\x00\x00\x00" + i64(4)
        + b"\x08\x01\x00\x00\x00" + b"\x0f\x01\x00\x00\x00\x00\xdc" + b"\x07\x00\x00\x00\x00"
        # the key table spans the values of one frame
        + b"\x08\x01\x00\x00\x00" + b"\x10\x02\x00\x00\x00" + b"\x00"
        + b"\x09\x02\x00\x00\x00" + i64(1) + s("x") + s("a") + b"\x00"
        + b"\x0a\x02\x00\x00\x00" + i64(1) + s("y")
    )
    d = Decoder(data, Registry())
    assert d.value() == [{"a": 1, "b": 2}, {"b": 3, "a": 4}, {"\udc00": []}]
    assert d.value() == {"\udc00": None}
    assert d.value() == {1: "x", "a": None}
    assert d.value() == {1, "y"}
    assert d.at_end()
    try:
        Decoder(b"\x08\x01\x00\x00\x00\x10\x05\x00\x00\x00\x00", Registry()).value()
    except BridgeFailure as e:
        assert e.code == "ESEM_INTERNAL"
    else:
        raise AssertionError("a bad key reference decoded")


def test_decode_date_typed_ref():
    registry = Registry()
    obj = types.SimpleNamespace(inner=types.SimpleNamespace(leaf=42))
    ref_id = registry.add(obj)
    data = (
        b"\x0b" + struct.pack("<d", 1714979289123.0)
        + b"\x0d" + b"d" + struct.pack("<I", 16) + struct.pack("<2d", 1.5, -2.0)
        + b"\x0d" + b"q" + struct.pack("<I", 8) + struct.pack("<q", -7)
        + b"\x0c" + struct.pack("<dI", float(ref_id), 0)
        + b"\x0c" + struct.pack("<dI", float(ref_id), 2) + s("inner") + s("leaf")
    )
    date, doubles, longs, same, leaf = decode_all(data, registry)
    assert date == dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=dt.timezone.utc)
    assert date.tzinfo is not None
    assert isinstance(doubles, memoryview) and doubles.format == "d" and doubles.tolist() == [1.5, -2.0]
    assert doubles.readonly
    assert longs.format == "q" and longs.tolist() == [-7]
    assert same is obj and leaf == 42
    registry.remove(ref_id)
    try:
        Decoder(b"\x0c" + struct.pack("<dI", float(ref_id), 0), registry).value()
    except BridgeFailure as e:
        assert e.code == "ESEM_RELEASED"
    else:
        raise AssertionError("a released ref decoded")


def test_decode_rejects_bad_data():
    for data in (b"\x0e", b"\x11", b"\x02\x00\x00"):
        try:
            Decoder(data, Registry()).value()
        except BridgeFailure as e:
            assert e.code == "ESEM_INTERNAL"
        else:
            raise AssertionError("decoded %r" % data)


def _malformed_message(data, registry=None):
    """The message of the BridgeFailure that decoding data raises."""
    try:
        decode_all(data, registry)
    except BridgeFailure as e:
        assert e.code == "ESEM_INTERNAL", e
        assert e.message.startswith("malformed wire data: "), e.message
        return e.message[len("malformed wire data: "):]
    raise AssertionError("decoded %r" % (data,))


def test_decode_rejects_every_lying_length_and_count():
    registry = Registry()
    ref_id = registry.add(types.SimpleNamespace(a=types.SimpleNamespace(b=1)))
    past = "a value from byte 0 runs past the end"
    cases = [
        (b"\x05" + struct.pack("<I", 1000) + b"abc", past),  # a string longer than the data
        (b"\x0f" + struct.pack("<I", 1000) + b"ab", past),
        (b"\x03" + struct.pack("<I", 1000) + b"ff", past),
        (b"\x06" + struct.pack("<I", 0xFFFFFFFF), "truncated"),
        (b"\x07" + struct.pack("<I", 0xFFFFFFFF) + b"\x00", past),  # a count larger than the data
        (b"\x08" + struct.pack("<I", 3) + s("k"), past),
        (b"\x08" + struct.pack("<I", 1) + b"\x05" + struct.pack("<I", 9) + b"k", past),  # a key cut short
        (b"\x09" + struct.pack("<I", 0x7FFFFFFF) + b"\x00", past),
        (b"\x0c" + struct.pack("<dI", float(ref_id), 0xFFFFFFFF) + s("a"), past),
        (b"\x0c" + struct.pack("<dI", float(ref_id), 1) + b"\x05" + struct.pack("<I", 50) + b"a", past),
        (b"\x0c" + struct.pack("<dI", float("nan"), 0), "a proxy id that is not a registry id at byte 0"),
        (b"\x0c" + struct.pack("<dI", float("inf"), 0), "a proxy id that is not a registry id at byte 0"),
        (b"\x0c" + struct.pack("<dI", 1.5, 0), "a proxy id that is not a registry id at byte 0"),
        (b"\x0c" + struct.pack("<dI", float(ref_id), 1) + i64(1), "a proxy path name that is not a string"),
        (b"\x03\x02\x00\x00\x00zz", "a bigint at byte 0 that is not hex digits"),
        (b"\x05\x02\x00\x00\x00\xff\xfe", "a string from byte 0 is not valid UTF-8 (invalid start byte)"),
        (b"\x02\x01", past),
        (b"\x0b\x01\x02", past),
        (b"\x63", "unknown tag 99 at byte 0"),
        (b"\x14" + struct.pack("<I", 50) + b"[1]", "JSON text from byte 0 runs past the end"),
        (b"\x14" + struct.pack("<I", 4) + b"[1,]", "malformed JSON text at byte 0: Expecting value: line 1 column 4 (char 3)"),
        (b"\x14" + struct.pack("<I", 3) + b"NaN", "malformed JSON text at byte 0: NaN is not JSON"),
    ]
    for data, message in cases:
        assert _malformed_message(data, registry) == message, data
    # A proxy path whose names are proxies with paths, past the depth limit.
    deep = b""
    for _ in range(300):
        deep += b"\x0c" + struct.pack("<dI", float(ref_id), 1)
    assert _malformed_message(deep + s("a"), registry) == "nested more than 256 levels deep"
    lists = b"\x07\x01\x00\x00\x00" * 10000 + b"\x00"
    assert _malformed_message(lists) == "nested more than 256 levels deep"
    # An attribute error of a real object on the path is the object's own.
    try:
        decode_all(b"\x0c" + struct.pack("<dI", float(ref_id), 1) + s("missing"), registry)
    except AttributeError as e:
        assert "missing" in str(e) and e.__context__ is None
    else:
        raise AssertionError("a missing attribute decoded")
    # A decoder stops at `end`, not at the end of the buffer.
    d = Decoder(i64(1) + s("abc"), Registry(), 0, 9)
    assert d.value() == 1
    assert d.at_end()
    try:
        Decoder(s("abcdef"), Registry(), 0, 7).value()
    except BridgeFailure as e:
        assert e.message == "malformed wire data: a value from byte 0 runs past the end"
    else:
        raise AssertionError("read past end")


# Errors a well-formed payload may still raise: the objects' own (ops.py's
# helpers on a bad memoryview format or date, hashing an unhashable key or
# a memoryview, a proxy path naming a missing attribute).
def _object_error(e):
    import traceback

    if isinstance(e, AttributeError):
        return True
    if isinstance(e, TypeError) and "unhashable" in str(e) or isinstance(e, ValueError) and "hashing" in str(e):
        return True
    frames = traceback.extract_tb(e.__traceback__)
    return isinstance(e, (ValueError, TypeError, OverflowError)) and frames[-1].name in ("typed_view", "datetime_from_ms")


_INTERESTING_U32 = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)


def _mutate(rng, data, seeds):
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(8)
        i = rng.randrange(len(b)) if b else 0
        if kind == 0 and b:
            b[i] ^= 1 << rng.randrange(8)
        elif kind == 1 and b:
            b[i] = rng.choice((0, 1, 5, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 0x7F, 0xFF))
        elif kind == 2 and len(b) >= 4:
            i = rng.randrange(len(b) - 3)
            b[i:i + 4] = struct.pack("<I", rng.choice(_INTERESTING_U32 + (len(b), len(b) - i)))
        elif kind == 3:
            del b[rng.randrange(len(b) + 1):]  # truncate
        elif kind == 4 and b:
            del b[i:i + rng.randint(1, 8)]
        elif kind == 5:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 6:
            other = rng.choice(seeds)
            j = rng.randrange(len(other) + 1)
            b[i:] = other[j:]  # splice
        elif kind == 7 and b:
            j = rng.randrange(len(b))
            b[i:i] = b[j:j + rng.randint(1, 16)]  # repeat a piece
    return bytes(b)


def _fuzz_seeds():
    folder = os.path.join(PYTHON_DIR, "..", "fuzz", "corpus", "wire")
    seeds = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        with open(os.path.join(folder, name), "rb") as f:
            seeds.append(f.read())
    seeds.append(encode_js([1, "two", 3.5, None, True, b"\x00", {"k": [{"k": 1}]}, ("ref", 1, "a", "b")]))
    seeds.append(encode_js([("ref", 2), ("ref", 3, "real")]) + b"\x09\x01\x00\x00\x00" + i64(1) + s("x"))
    return seeds


def test_mutated_payloads_decode_or_fail_clearly():
    # A seeded mutation fuzzer (atheris is not available): 20 000 mutations
    # (ESEM_FUZZ_CASES, seed ESEM_FUZZ_SEED; scripts/fuzz-codec-py.sh) of
    # real payloads (fuzz/corpus/wire, from src/codec.ts) and of the
    # encoder above. Each decodes, or raises BridgeFailure, or an error of
    # the objects themselves; never IndexError, struct.error, RecursionError
    # or a hang.
    import random
    import time

    cases = int(os.environ.get("ESEM_FUZZ_CASES", "20000"))
    rng = random.Random(int(os.environ.get("ESEM_FUZZ_SEED", "20240507")))
    seeds = _fuzz_seeds()
    assert len(seeds) >= 20, "the committed seeds (fuzz/corpus/wire) are missing"
    registry = Registry()
    real = types.SimpleNamespace(real=1, a=types.SimpleNamespace(b=2))
    for obj in (real, types.SimpleNamespace(attr=3), real, real, real, real, real, real, real, real):
        registry.add(obj)
    outcomes = {"decoded": 0, "malformed": 0, "object error": 0}
    started = time.monotonic()
    for case in range(cases):
        data = _mutate(rng, rng.choice(seeds), seeds)
        d = Decoder(data, registry)
        try:
            while not d.at_end():
                d.value()
                assert d.pos <= len(data)
            outcomes["decoded"] += 1
        except BridgeFailure as e:
            assert e.code in ("ESEM_INTERNAL", "ESEM_RELEASED"), e
            outcomes["malformed"] += 1
        except Exception as e:
            if not _object_error(e):
                raise AssertionError("case %d, %r: %r" % (case, data, e))
            outcomes["object error"] += 1
    elapsed = time.monotonic() - started
    assert elapsed < 10 * cases / 20000, "%d cases took %.1f s" % (cases, elapsed)
    assert outcomes["decoded"] > cases // 20 and outcomes["malformed"] > cases // 20, outcomes
    print("     mutation fuzzer: %r in %.1f s" % (outcomes, elapsed))


def test_encode_decode_agree():
    # Values both directions carry the same way read back as themselves.
    value = [None, True, 3, -(2 ** 70), 1.25, "é\ud800", b"b", [1, [2]], {"k": {"k": 1}}, {1: 2}, {5}]
    data = encode(value)
    back = Decoder(data, Registry()).value()
    assert back == value


# --- the worker, end to end ------------------------------------------------


def _frame(op, seq, ref, *values):
    body = struct.pack("<BId", op, seq, ref) + b"".join(encode_js(v) for v in values)
    return struct.pack("<I", len(body)) + body


def encode_js(v, keys=None):
    """A tiny JS-side encoder (src/codec.ts) for the worker test."""
    if isinstance(v, tuple) and v and v[0] == "ref":
        return b"\x0c" + struct.pack("<dI", float(v[1]), len(v) - 2) + b"".join(s(n) for n in v[2:])
    if v is None:
        return b"\x00"
    if isinstance(v, bool):
        return b"\x01" + (b"\x01" if v else b"\x00")
    if isinstance(v, int):
        return i64(v)
    if isinstance(v, float):
        return b"\x04" + struct.pack("<d", v)
    if isinstance(v, str):
        return s(v)
    if isinstance(v, bytes):
        return b"\x06" + struct.pack("<I", len(v)) + v
    if isinstance(v, list):
        return b"\x07" + struct.pack("<I", len(v)) + b"".join(encode_js(x) for x in v)
    if isinstance(v, dict):
        return b"\x08" + struct.pack("<I", len(v)) + b"".join(s(k) + encode_js(x) for k, x in v.items())
    raise TypeError(v)


class WorkerClient(object):
    def __init__(self, python=sys.executable, cwd=None):
        parent, child = socket.socketpair()
        boot = "import sys; sys.path.append(sys.argv[1]); import esem_bridge.worker as w; w.main(3)"
        fd = child.fileno()
        self.proc = subprocess.Popen(
            [python, "-u", "-c", boot, PYTHON_DIR],
            pass_fds=(3,),  # kept open in the child: preexec_fn runs before the other fds close
            preexec_fn=lambda: os.dup2(fd, 3) and None,
            cwd=cwd,
        )
        child.close()
        self.sock = parent
        self.buf = b""

    def read(self):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack_from("<I", self.buf)[0]
                if len(self.buf) >= 4 + n:
                    payload, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    status, seq = struct.unpack_from("<BI", payload)
                    r = Reader(payload[5:])
                    values = []
                    while not r.done():
                        values.append(r.value())
                    return status, seq, values
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def request(self, op, ref, *values, **kw):
        seq = kw.get("seq", 1)
        self.sock.sendall(_frame(op, seq, ref, *values))
        return self.read()

    def close(self):
        self.sock.close()
        return self.proc.wait(10)


def test_worker_end_to_end():
    c = WorkerClient(cwd="/")
    try:
        status, seq, (version, executable) = c.read()
        assert status == 3 and seq == 0 and version[1].startswith("%d." % sys.version_info[0])
        status, seq, (mod,) = c.request(4, 0, "math", os.getcwd())
        assert status == 0 and mod.desc[0] == "module" and mod.desc[1] == "math"
        assert c.request(1, mod.id, ["sqrt"], [16], None) == (0, 1, [4.0])
        status, _, err = c.request(1, mod.id, ["sqrt"], [-1], None)
        # No frame but the worker's own, which are left out: the message alone, as in native mode.
        assert status == 1 and err[0] == ("str", "ValueError") and err[2][1] == "ValueError: math domain error\n"
        status, _, (sysmod,) = c.request(4, 0, "sys", "/")
        status, _, (path,) = c.request(2, sysmod.id, ["path"])
        assert ("str", "") not in path and ("str", "/") not in path
        # Pipelined frames in one write: replies in order; seq 0 gets none.
        frames = (_frame(1, 0, mod.id, ["floor"], [1.5], None) + _frame(1, 7, mod.id, ["floor"], [2.5], None)
                  + _frame(5, 0, sysmod.id) + _frame(2, 8, sysmod.id, ["path"]))
        c.sock.sendall(frames)
        assert c.read() == (0, 7, [("int", 2)])
        assert c.read()[:2] == (2, 8) and c.buf == b""
        status, _, (code, message) = c.request(1, mod.id, ["sqrt"], [("ref", sysmod.id)], None)
        assert status == 2 and code == ("str", "ESEM_RELEASED")
        # kwargs, helpers, SystemExit, coroutines, SetAttr
        status, _, (bi,) = c.request(4, 0, "builtins", "/")
        assert c.request(1, bi.id, ["int"], ["ff"], {"base": 16})[2] == [("int", 255)]
        assert c.request(6, 0, "length", [[1, 2, 3]])[2] == [("int", 3)]
        status, _, (code, msg, tb, links) = c.request(1, bi.id, ["exit"], [3], None)
        assert status == 1 and code == ("str", "SystemExit")
        # The exception and its chain: (type, message, traceback, the exception as a Ref).
        assert len(links) == 1 and links[0][0] == ("str", "SystemExit") and links[0][3].desc[:2] == ("object", "SystemExit")
        status, _, (ns,) = c.request(1, bi.id, ["__import__"], ["types"], None)
        status, _, (obj,) = c.request(1, ns.id, ["SimpleNamespace"], [], {"a": 1})
        assert c.request(3, obj.id, ["b"], 5)[:2] == (0, 1)
        assert c.request(2, obj.id, ["b"])[2] == [("int", 5)]
        status, _, (aio,) = c.request(4, 0, "asyncio", "/")
        assert c.request(1, aio.id, ["sleep"], [0, "done"], None)[2] == [("str", "done")]
        status, _, (code, msg) = c.request(1, 99999, [], [], None)
        assert status == 2 and code == ("str", "ESEM_RELEASED")
        # Large frames both ways, and many frames in one write.
        big = os.urandom(3 << 20)
        assert c.request(1, bi.id, ["len"], [big], None)[2] == [("int", 3 << 20)]
        assert c.request(1, bi.id, ["bytes"], [big], None)[2] == [("bytes", big)]
        c.sock.sendall(b"".join(_frame(1, 100 + i, bi.id, ["abs"], [-i], None) for i in range(2000)))
        for i in range(2000):
            assert c.read() == (0, 100 + i, [("int", i)])
    finally:
        assert c.close() == 0


if __name__ == "__main__":
    from runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
