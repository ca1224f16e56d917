"""The native value codec in the subprocess worker: the C++ that reads and
writes values in the native mode (native/py_wire_read.cc, py_wire_write.cc),
built as esem_wire.so beside the addon (native/wire_module.cc). It reads and
writes the same bytes as codec.py (the golden fixtures hold both to
test/golden/values.json), several times faster.

The library is imported as the extension module `esem_wire` (its functions
cost ~50 ns a call); a library that is not one (built before it was) is
loaded with ctypes instead (~600 ns a call). `load()` gives None when the
library is not there or cannot be loaded; the worker then uses codec.py.

Thread: the worker's threads, GIL held (the extension's functions and
ctypes.PyDLL both run with it).
"""

import functools
import os
import sys

from .failure import BridgeFailure

_lib = None  # the loaded library (a module or a CtypesLibrary), once


def library_path():
    """Where the worker was told the library is (argv or ESEM_WIRE_LIB), or ""."""
    return os.environ.get("ESEM_WIRE_LIB", "")


def load(path):
    """The library at `path`, as the extension module or through ctypes, or None."""
    global _lib
    if _lib is not None:
        return _lib
    if not path or os.environ.get("ESEM_SUBPROCESS_CODEC") == "python" or not os.path.isfile(path):
        return None
    lib = None
    if os.environ.get("ESEM_SUBPROCESS_CODEC") != "ctypes":
        lib = _import_module(path)
    if lib is None:
        lib = CtypesLibrary.load(path)
    _lib = lib
    return lib


def die_with_parent(lib):
    """On Linux, has the kernel SIGKILL this process when the Node thread
    that started it ends (PR_SET_PDEATHSIG), so a busy worker never outlives
    Node: through the extension module when it is loaded (no ctypes import
    on the way to the first call), else through ctypes. False when neither
    could."""
    if lib is not None and hasattr(lib, "die_with_parent"):
        return lib.die_with_parent()
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None).prctl(1, 9) == 0  # PR_SET_PDEATHSIG, SIGKILL
    except Exception:
        return False


def cache_arenas(lib):
    """Has Python keep its freed object arenas for reuse instead of giving
    them back to the system at once (native/py_arena_cache.h): a worker that
    receives the same large messages over and over then stops paying a page
    fault per 4 KiB of them. Extension module only; False without it."""
    if lib is not None and hasattr(lib, "cache_arenas"):
        return lib.cache_arenas()
    return False


def cache_large_blocks(lib):
    """Has Python keep its freed blocks of 1 MiB or more for the next ones
    instead of giving them back to the system at once
    (native/py_large_blocks.h): a worker that receives 16 MiB messages over
    and over then stops paying 4 096 page faults for each. Before any other
    thread runs Python. Extension module only; False without it."""
    if lib is not None and hasattr(lib, "cache_large_blocks"):
        return lib.cache_large_blocks()
    return False


def _import_module(path):
    try:
        from importlib.machinery import ExtensionFileLoader
        from importlib.util import module_from_spec, spec_from_file_location

        loader = ExtensionFileLoader("esem_wire", path)
        spec = spec_from_file_location("esem_wire", path, loader=loader)
        module = module_from_spec(spec)
        loader.exec_module(module)
    except (ImportError, OSError, SystemError):  # no PyInit_esem_wire (an older build), or no C-API found
        return None
    if not all(hasattr(module, name) for name in ("context", "read", "write", "reply", "die_with_parent")):
        return None
    return module


class CtypesLibrary(object):
    """The library's plain C entry points behind the module's four functions."""

    __slots__ = ("_dll", "_wrap", "_reply_header", "_u32")

    @classmethod
    def load(cls, path):
        try:
            import ctypes

            dll = ctypes.PyDLL(path)
            dll.esem_wire_load.argtypes = [ctypes.c_char_p]
            dll.esem_wire_load.restype = ctypes.c_int
            dll.esem_wire_error.restype = ctypes.c_char_p
            dll.esem_wire_context.argtypes = [ctypes.py_object, ctypes.py_object]
            dll.esem_wire_context.restype = ctypes.c_void_p
            dll.esem_wire_read.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.c_ssize_t, ctypes.c_ssize_t]
            dll.esem_wire_read.restype = ctypes.py_object
            dll.esem_wire_write.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object, ctypes.c_int]
            dll.esem_wire_write.restype = ctypes.py_object
            if dll.esem_wire_load(b"") != 0:  # this process's own libpython
                return None
        except (OSError, AttributeError, ImportError):
            return None
        import struct

        self = cls()
        self._dll = dll
        # Wrapped first: ctypes' own argument check would read the value's
        # __class__, which a hostile object can make raise.
        self._wrap = ctypes.py_object
        self._reply_header = struct.Struct("<IBI")
        self._u32 = struct.Struct("<I")
        return self

    def context(self, registry, failure):
        return self._dll.esem_wire_context(registry, failure)

    def read(self, ctx, buf, pos, end):
        return self._dll.esem_wire_read(ctx, buf, pos, end)

    def write(self, ctx, value, out, as_ref):
        self._dll.esem_wire_write(ctx, self._wrap(value), out, 1 if as_ref else 0)

    def reply(self, ctx, status, seq, value, as_ref=False):
        out = bytearray(self._reply_header.pack(0, status, seq))
        self.write(ctx, value, out, as_ref)
        self._u32.pack_into(out, 0, len(out) - 4)
        return out


class NativeCodec(object):
    """codec.py's Decoder and Encoder, in C++, over one worker registry.
    decode and reply are the library's functions with the context bound
    (functools.partial: no Python frame between the worker and the C++)."""

    __slots__ = ("decode", "reply", "_write")

    def __init__(self, lib, registry):
        ctx = lib.context(registry, BridgeFailure)
        # decode(buf, pos, end): every value of buf[pos:end], as a list
        # (BridgeFailure for malformed bytes or a released proxy).
        self.decode = functools.partial(lib.read, ctx)
        # reply(status, seq, value[, as_ref]): a whole reply frame of one
        # value: u32 payload length, u8 status, u32 seq, then the value (as
        # a Ref whatever it is: as_ref).
        self.reply = functools.partial(lib.reply, ctx)
        self._write = functools.partial(lib.write, ctx)

    def encode(self, obj, out=None, as_ref=False):
        """Appends obj's wire form to the bytearray out (new if None) and
        returns it (as a Ref whatever it is: as_ref), as codec.Encoder does."""
        if out is None:
            out = bytearray()
        self._write(obj, out, as_ref)
        return out
