"""The native value codec in the subprocess worker: the C++ that reads and
writes values in the native mode (native/py_wire_read.cc, py_wire_write.cc),
built as esem_wire.so beside the addon (native/wire_module.cc) and loaded
here with ctypes. It reads and writes the same bytes as codec.py (the
golden fixtures hold both to test/golden/values.json), several times
faster. `load()` gives None when the library is not there or cannot be
loaded; the worker then uses codec.py.

Thread: the worker's main thread (every call holds the GIL: ctypes.PyDLL).
"""

import os

from .codec import BridgeFailure

_lib = None  # the loaded library, once


def library_path():
    """Where the worker was told the library is (argv or ESEM_WIRE_LIB), or ""."""
    return os.environ.get("ESEM_WIRE_LIB", "")


def load(path):
    """The library at `path` with its functions typed, or None."""
    global _lib
    if _lib is not None:
        return _lib
    if not path or os.environ.get("ESEM_SUBPROCESS_CODEC") == "python" or not os.path.isfile(path):
        return None
    try:
        import ctypes

        lib = ctypes.PyDLL(path)
        lib.esem_wire_load.argtypes = [ctypes.c_char_p]
        lib.esem_wire_load.restype = ctypes.c_int
        lib.esem_wire_error.restype = ctypes.c_char_p
        lib.esem_wire_context.argtypes = [ctypes.py_object, ctypes.py_object]
        lib.esem_wire_context.restype = ctypes.c_void_p
        lib.esem_wire_read.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.c_ssize_t, ctypes.c_ssize_t]
        lib.esem_wire_read.restype = ctypes.py_object
        lib.esem_wire_write.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object, ctypes.c_int]
        lib.esem_wire_write.restype = ctypes.py_object
        if lib.esem_wire_load(b"") != 0:  # this process's own libpython
            return None
    except (OSError, AttributeError, ImportError):
        return None
    _lib = lib
    return lib


class NativeCodec(object):
    """codec.py's Decoder and Encoder, in C++, over one worker registry."""

    __slots__ = ("_ctx", "_read", "_write", "_wrap")

    def __init__(self, lib, registry):
        import ctypes

        self._ctx = lib.esem_wire_context(registry, BridgeFailure)
        self._read = lib.esem_wire_read
        self._write = lib.esem_wire_write
        # Wrapped first: ctypes' own argument check would read the value's
        # __class__, which a hostile object can make raise.
        self._wrap = ctypes.py_object

    def decode(self, buf, pos, end):
        """Every value of buf[pos:end], as a list (BridgeFailure for
        malformed bytes or a released proxy)."""
        return self._read(self._ctx, buf, pos, end)

    def encode(self, obj, out=None, as_ref=False):
        """Appends obj's wire form to the bytearray out (new if None) and
        returns it (as a Ref whatever it is: as_ref), as codec.Encoder does."""
        if out is None:
            out = bytearray()
        self._write(self._ctx, self._wrap(obj), out, 1 if as_ref else 0)
        return out
