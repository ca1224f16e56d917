"""The worker's C++ codec library (native/wire_module.cc) as Python sees
it: imported as the extension module `esem_wire` when it is built, the
ctypes entry points as its fallback, and every wrong call to the module an
exception (never a crash). Run with `python3 python/tests/test_native_codec.py`."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from esem_bridge import native_codec, worker  # noqa: E402
from esem_bridge.codec import BridgeFailure  # noqa: E402
from esem_bridge.registry import Registry  # noqa: E402

PATH = os.environ.get("ESEM_WIRE_LIB") or os.path.join(os.path.dirname(PYTHON_DIR), "build", "Release", "esem_wire.so")
LIB = native_codec.load(PATH)
SKIP = "  skipped: esem_wire.so is not built (npm install builds it)"


def _raises(kind, fn, *args):
    try:
        fn(*args)
    except kind as exc:
        return exc
    raise AssertionError("%s%r did not raise %s" % (getattr(fn, "__name__", fn), args, kind.__name__))


def test_the_library_is_imported_as_the_extension_module():
    if LIB is None:
        return print(SKIP)
    assert type(LIB).__name__ == "module" and LIB.__name__ == "esem_wire", LIB
    w = worker.Worker(1, PATH)
    assert w.native is not None
    assert w.reply_one.func is LIB.reply, "the worker's replies come from the module's reply()"


def test_the_ctypes_fallback_writes_the_same_frames():
    if LIB is None:
        return print(SKIP)
    dll = native_codec.CtypesLibrary.load(PATH)
    assert dll is not None
    value = {"id": 7, "name": "x", "tags": ["a", "b"], "score": 1.5, "big": 2 ** 70, "none": None}
    a = native_codec.NativeCodec(LIB, Registry(1))
    b = native_codec.NativeCodec(dll, Registry(1))
    assert a.reply(0, 9, value) == b.reply(0, 9, value)
    assert a.encode(value) == b.encode(value)
    data = bytes(a.encode(value)) + bytes(a.encode([1, 2]))
    assert a.decode(data, 0, len(data)) == b.decode(data, 0, len(data)) == [value, [1, 2]]


def test_wrong_calls_to_the_module_raise_and_it_works_after():
    if LIB is None:
        return print(SKIP)
    ctx = LIB.context(Registry(1), BridgeFailure)
    _raises(TypeError, LIB.read, 12345, b"", 0, 0)  # not a context it made
    _raises(TypeError, LIB.read, "ctx", b"", 0, 0)
    _raises(TypeError, LIB.read, ctx, b"")  # too few arguments
    _raises(TypeError, LIB.context, Registry(1))
    _raises(ValueError, LIB.read, ctx, b"\x00", -1, 1)
    _raises(TypeError, LIB.read, ctx, 5, 0, 0)  # not a buffer
    failure = _raises(BridgeFailure, LIB.read, ctx, b"\x05\x01", 0, 9)  # past the buffer's end
    assert failure.code == "ESEM_INTERNAL" and "malformed" in failure.message, failure.message
    failure = _raises(BridgeFailure, LIB.read, ctx, b"\x05\xff\x00\x00\x00", 0, 5)  # a string longer than its bytes
    assert failure.code == "ESEM_INTERNAL" and "malformed" in failure.message, failure.message
    _raises(TypeError, LIB.write, ctx, 1, b"", False)  # out must be a bytearray
    _raises(ValueError, LIB.reply, ctx, 256, 1, None)
    _raises(ValueError, LIB.reply, ctx, 0, 2 ** 32, None)
    _raises(ValueError, LIB.reply, ctx, 0, -1, None)
    _raises(TypeError, LIB.reply, ctx, 0, 1)
    _raises(TypeError, LIB.reply, ctx, 0, 1, None, False, "extra")
    # And it still works.
    out = bytearray()
    LIB.write(ctx, [1, "a"], out, False)
    assert LIB.read(ctx, bytes(out), 0, len(out)) == [[1, "a"]]
    frame = LIB.reply(ctx, 0, 3, None)
    assert bytes(frame) == bytes.fromhex("06000000" "00" "03000000" "00"), frame.hex()


def test_die_with_parent_sets_the_parent_death_signal_on_linux():
    if LIB is None:
        return print(SKIP)
    import subprocess

    code = ("import ctypes, sys; sys.path.insert(0, %r); from esem_bridge import native_codec as n; "
            "ok = n.die_with_parent(n.load(%r)); sig = ctypes.c_int(-1); "
            "ctypes.CDLL(None).prctl(2, ctypes.byref(sig)); print(ok, sig.value)") % (PYTHON_DIR, PATH)
    for codec in ("", "ctypes"):
        env = dict(os.environ, ESEM_SUBPROCESS_CODEC=codec)
        out = subprocess.check_output([sys.executable, "-c", code], env=env).decode().strip()
        expected = "True 9" if sys.platform.startswith("linux") else "False 0"
        assert out == expected, (codec, out)


def test_esem_subprocess_codec_ctypes_forces_the_fallback():
    if LIB is None:
        return print(SKIP)
    import subprocess

    code = ("import sys; sys.path.insert(0, %r); from esem_bridge import native_codec as n; "
            "lib = n.load(%r); print(type(lib).__name__)") % (PYTHON_DIR, PATH)
    env = dict(os.environ, ESEM_SUBPROCESS_CODEC="ctypes")
    out = subprocess.check_output([sys.executable, "-c", code], env=env).decode().strip()
    assert out == "CtypesLibrary", out



def test_cache_arenas_keeps_freed_arenas_for_the_next_build():
    if LIB is None:
        return print(SKIP)
    import subprocess

    # A fresh process per setting: the cache is once per process.
    code = ("import sys, resource; sys.path.insert(0, %r); from esem_bridge import native_codec as n; "
            "lib = n.load(%r); on = n.cache_arenas(lib); again = n.cache_arenas(lib)\n"
            "def build(): return [{'id': i, 'name': 'r%%d' %% i, 'tags': ['a', 'b']} for i in range(10000)]\n"
            "rows = build(); del rows\n"
            "fewest = None\n"
            "for _ in range(5):\n"
            "    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; rows = build(); del rows\n"
            "    f = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before; fewest = f if fewest is None else min(fewest, f)\n"
            "print(on, again, fewest)") % (PYTHON_DIR, PATH)
    results = {}
    for budget in ("", "0"):
        env = dict(os.environ, ESEM_ARENA_CACHE_MB=budget)
        results[budget] = subprocess.check_output([sys.executable, "-c", code], env=env).decode().split()
    assert results[""][:2] == ["True", "True"], results
    assert results["0"][:2] == ["False", "False"], results
    cached, uncached = int(results[""][2]), int(results["0"][2])
    assert uncached > 50 and cached * 4 < uncached, results


def test_cache_large_blocks_keeps_freed_blocks_and_large_objects_stay_whole():
    if LIB is None:
        return print(SKIP)
    import json
    import subprocess

    probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "large_blocks_probe.py")
    results = {}
    for budget in ("", "0"):
        env = dict(os.environ, ESEM_BLOCK_CACHE_MB=budget)
        out = subprocess.check_output([sys.executable, probe, PYTHON_DIR, PATH], env=env).decode()
        results[budget] = json.loads(out.strip().splitlines()[-1])
    assert results["0"] == {"installed": False, "again": False}, results
    on = results[""]
    if not on["installed"]:  # not Linux: Python's allocator as it is
        return print("skipped: the large-block cache is Linux only")
    mib = 1 << 20
    assert on["again"] is True, on
    assert on["live_with_bytes"] >= 16 * mib and on["on_boundary"], on
    assert on["held_after_del"] >= 16 * mib, on
    assert on["held_after_reuse"] == 0, on  # the next block of that size took it
    assert on["calloc_counted"] == 0, on
    assert 0 < on["held_after_many"] <= 64 * mib, on  # the default budget
    assert on["held_after_idle"] == 5 * mib + 4096, on  # only the block freed last
    assert on["thread_errors"] == [] and on["live_at_end"] == 0, on


if __name__ == "__main__":
    from runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
