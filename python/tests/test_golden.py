"""The golden fixtures (test/golden/values.json) against codec.py: the
Decoder reads every JS -> Python case's bytes as eval(py), the same types
recursively (NaN-aware), and the Encoder writes every Python -> JS case's
eval(py) as exactly its bytes. test/golden/README.md describes the file.
Run with `python3 python/tests/test_golden.py`."""

import array
import datetime
import enum
import json
import math
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

import numpy  # noqa: E402  (installed with the default python3; py-to-js cases use it)

from esem_bridge import native_codec  # noqa: E402
from esem_bridge.codec import Decoder, Encoder  # noqa: E402
from esem_bridge.registry import Registry  # noqa: E402

with open(os.path.join(os.path.dirname(PYTHON_DIR), "test", "golden", "values.json"), encoding="utf-8") as f:
    CASES = json.load(f)

# After each value: a Str "end", so a decoder that reads too few or too many bytes is caught.
END = bytes.fromhex("0503000000656e64")


def _globals(refs):
    return {"__name__": "golden", "array": array, "datetime": datetime, "enum": enum, "math": math,
            "numpy": numpy, "types": types, "refs": refs}


def _refs(case):
    """The case's registered objects, id -> object."""
    refs = {}
    for key, expr in case.get("refs", {}).items():
        refs[int(key)] = eval(expr, _globals(refs))
    return refs


def _differ(actual, expected, at="value"):
    """Why actual is not exactly expected (types, -0, NaN, dict order), or None."""
    if actual is expected:
        return None
    t = type(expected)
    if type(actual) is not t:
        return "%s: %s where %s was expected" % (at, type(actual).__name__, t.__name__)
    if t is float:
        same = (math.isnan(actual) and math.isnan(expected)) or (
            actual == expected and math.copysign(1, actual) == math.copysign(1, expected))
        return None if same else "%s: %r where %r was expected" % (at, actual, expected)
    if t in (int, bool, str, bytes, type(None), set):
        return None if actual == expected else "%s: %r where %r was expected" % (at, actual, expected)
    if t is datetime.datetime:
        same = actual == expected and actual.tzinfo == expected.tzinfo
        return None if same else "%s: %r where %r was expected" % (at, actual, expected)
    if t is memoryview:
        if (actual.format, actual.itemsize, actual.shape) != (expected.format, expected.itemsize, expected.shape):
            return "%s: memoryview %s%r where %s%r was expected" % (
                at, actual.format, actual.shape, expected.format, expected.shape)
        return _differ(actual.tolist(), expected.tolist(), at)
    if t is list:
        if len(actual) != len(expected):
            return "%s: %d items where %d were expected" % (at, len(actual), len(expected))
        for i, (a, e) in enumerate(zip(actual, expected)):
            why = _differ(a, e, "%s[%d]" % (at, i))
            if why:
                return why
        return None
    if t is dict:
        if list(actual) != list(expected):
            return "%s: keys %r where %r were expected" % (at, list(actual), list(expected))
        for k in expected:
            why = _differ(actual[k], expected[k], "%s[%r]" % (at, k))
            if why:
                return why
        return None
    return "%s: %r is not the object %r" % (at, actual, expected)  # a proxy's object: the very one


def _check_decode(case):
    refs = _refs(case)
    registry = Registry(max(refs, default=0) + 1)
    registry.objects.update(refs)
    decoder = Decoder(bytes.fromhex(case["hex"]) + END, registry)
    value = decoder.value()
    assert decoder.value() == "end", "the bytes after the value"
    why = _differ(value, eval(case["py"], _globals(refs)))
    assert why is None, why


def _check_encode(case):
    value = eval(case["py"], _globals({}))
    got = Encoder(Registry(1)).encode(value).hex()
    assert got == case["hex"], "\n  got      %s\n  expected %s" % (got, case["hex"])


def _run(direction, check, writing=False):
    failed = []
    for case in CASES:
        if case["dir"] != direction or (writing and case.get("readOnly")):
            continue
        try:
            check(case)
        except Exception as e:
            failed.append("%s: %s: %s" % (case["name"], type(e).__name__, e))
    assert not failed, "%d cases failed:\n%s" % (len(failed), "\n".join(failed))


def test_cover_both_directions():
    assert sum(c["dir"] == "js-to-py" for c in CASES) > 50
    assert sum(c["dir"] == "py-to-js" for c in CASES) > 50


def test_decoder_reads_each_js_to_py_fixture_as_its_python_value():
    _run("js-to-py", _check_decode)


def test_encoder_writes_each_py_to_js_value_as_its_fixture_bytes():
    _run("py-to-js", _check_encode, writing=True)


# The C++ codec of the worker (native/wire_module.cc), when it is built:
# the same fixtures, through native_codec, both as the extension module the
# worker imports and through the ctypes entry points it falls back to.
_PATH = os.environ.get("ESEM_WIRE_LIB") or os.path.join(os.path.dirname(PYTHON_DIR), "build", "Release", "esem_wire.so")
_LIB = native_codec.load(_PATH)
_LIBS = [lib for lib in (_LIB, native_codec.CtypesLibrary.load(_PATH) if os.path.isfile(_PATH) else None) if lib is not None]


def _native_decode(lib, case):
    refs = _refs(case)
    registry = Registry(max(refs, default=0) + 1)
    registry.objects.update(refs)
    data = bytes.fromhex(case["hex"]) + END
    values = native_codec.NativeCodec(lib, registry).decode(data, 0, len(data))
    assert len(values) == 2 and values[1] == "end", "the bytes after the value"
    why = _differ(values[0], eval(case["py"], _globals(refs)))
    assert why is None, why


def _native_encode(lib, case):
    out = bytearray()
    codec = native_codec.NativeCodec(lib, Registry(1))
    value = eval(case["py"], _globals({}))
    codec.encode(value, out)
    got = out.hex()
    assert got == case["hex"], "\n  got      %s\n  expected %s" % (got, case["hex"])
    # A whole reply frame of the same value: its header, then the same bytes
    # (the cold lane off: it would write plain results as JSON text).
    frame = _lane_codec(lib, "0").reply(0, 7, eval(case["py"], _globals({})))
    assert bytes(frame[:9]) == (len(frame) - 4).to_bytes(4, "little") + b"\x00" + (7).to_bytes(4, "little"), frame[:9].hex()
    assert frame[9:].hex() == case["hex"], "the reply's value: %s" % frame[9:].hex()


def _lane_codec(lib, setting):
    """A codec whose cold lane has ESEM_JSON_LANE=setting (None: unset), read when it is made."""
    before = os.environ.get("ESEM_JSON_LANE")
    if setting is None:
        os.environ.pop("ESEM_JSON_LANE", None)
    else:
        os.environ["ESEM_JSON_LANE"] = setting
    try:
        return native_codec.NativeCodec(lib, Registry(1))
    finally:
        if before is None:
            os.environ.pop("ESEM_JSON_LANE", None)
        else:
            os.environ["ESEM_JSON_LANE"] = before


def _reply_value(codec, value):
    frame = codec.reply(0, 7, value)
    return bytes(frame[9:])


def _json_value(text):
    return b"\x14" + len(text).to_bytes(4, "little") + text


def test_the_native_codec_replies_with_young_plain_results_as_json_until_its_lane_closes():
    if _LIB is None:
        print("  skipped: esem_wire.so is not built (npm install builds it)")
        return
    codec = _lane_codec(_LIB, None)
    rows = [{"id": i, "name": "n%d" % i} for i in range(3)]
    assert _reply_value(codec, rows) == _json_value(b'[{"id":0,"name":"n0"},{"id":1,"name":"n1"},{"id":2,"name":"n2"}]')
    assert _reply_value(codec, (1, 2.5, None)) == _json_value(b"[1,2.5,null]")
    # Scalars, and containers without a JSON form of the same meaning, take the wire format.
    assert _reply_value(codec, 5)[0] == 2
    for value in ([2 ** 60], [float("nan")], {1: "a"}, ["\ud800"], [b"x"], [True, 1.5j]):
        assert _reply_value(codec, value)[0] != 0x14, value
    # Lists the wire format packs are faster by wire even cold, nested or not.
    assert _reply_value(codec, list(range(20)))[0] == 18
    assert _reply_value(codec, [0.5] * 20)[0] == 19
    assert _reply_value(codec, {"embedding": [0.5] * 20})[0] != 0x14
    assert _reply_value(codec, [1.5] * 15)[0] == 0x14
    # Asked for as a Ref, or a failure's values: never JSON.
    assert codec.reply(0, 7, [1], True)[9] == 12
    assert codec.reply(1, 7, ("TypeError", "m", "tb"))[9] == 7
    # A result past 256 KiB of text closes the lane: smaller ones then take the wire format too.
    big = ["x" * 100] * 3000
    assert _reply_value(codec, big)[0] == 7
    assert _reply_value(codec, rows)[0] == 7
    # =0: never; =always: a large result does not close it.
    assert _reply_value(_lane_codec(_LIB, "0"), rows)[0] == 7
    always = _lane_codec(_LIB, "always")
    assert _reply_value(always, big)[0] == 7
    assert _reply_value(always, rows)[0] == 0x14
    # The worker's 1 MiB in all: 5 results of ~250 KiB each, then the wire format.
    codec = _lane_codec(_LIB, None)
    chunk = ["y" * 1000] * 250
    forms = [_reply_value(codec, chunk)[0] for _ in range(6)]
    assert forms[:4] == [0x14] * 4 and forms[-1] == 7, forms


def test_the_native_codec_reads_each_js_to_py_fixture_as_its_python_value():
    if not _LIBS:
        print("  skipped: esem_wire.so is not built (npm install builds it)")
        return
    for lib in _LIBS:
        _run("js-to-py", lambda case: _native_decode(lib, case))


def test_the_native_codec_writes_each_py_to_js_value_as_its_fixture_bytes():
    if not _LIBS:
        print("  skipped: esem_wire.so is not built (npm install builds it)")
        return
    for lib in _LIBS:
        _run("py-to-js", lambda case: _native_encode(lib, case), writing=True)


def test_the_comparison_tells_types_signs_and_order_apart():
    assert _differ(-0.0, 0.0)
    assert _differ(1, 1.0)
    assert _differ(True, 1)
    assert _differ({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert _differ(memoryview(array.array("h", [1])), memoryview(array.array("H", [1])))
    assert _differ(datetime.datetime(1970, 1, 1), datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc))
    assert _differ([object()], [object()])
    assert _differ(float("nan"), float("nan")) is None


if __name__ == "__main__":
    from runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
