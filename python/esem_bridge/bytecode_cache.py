"""Compiled code of the esem_bridge package, cached in esem-bridge's own
per-user cache folder (docs/architecture.md, "Start-up").

Python writes bytecode next to the sources (``__pycache__``) unless
``PYTHONDONTWRITEBYTECODE`` is set (many containers set it) or the package
folder is read-only (a global or image install): then every start compiles
the package again, about 10-15 ms of each first call. The bridge's Node side
names a folder it has checked (owned by this user, writable by nobody else,
src/probe-cache.ts) and this finder keeps the package's code there, whatever
those settings say. Only modules of esem_bridge are affected; the user's
modules and the standard library load as Python decides.

Each entry is the marshalled code object behind a header: the interpreter's
magic number, then the source's path, mtime (ns) and size. A different
Python, a changed source or another checkout of the package misses. An entry
is read only if it is a regular file of this user's that nobody else can
write; one that cannot be read or written only costs time."""

import marshal
import os
import sys

# Loaded with the interpreter (frozen): importing importlib.machinery here
# would read its bytecode through sys.pycache_prefix (see _keep_boot_code).
from _frozen_importlib_external import MAGIC_NUMBER, PathFinder, SourceFileLoader, cache_from_source

_PACKAGE = __name__.rpartition(".")[0]


def _private(stat):
    if os.name == "nt":
        return True
    return stat.st_uid == os.getuid() and (stat.st_mode & 0o022) == 0


def _header(path, stat):
    return MAGIC_NUMBER + b"%d\0%d\0" % (stat.st_mtime_ns, stat.st_size) + os.fsencode(path) + b"\0"


def _entry_name(fullname, path):
    # FNV-1a of the source path: two checkouts of the package keep two entries.
    h = 0xCBF29CE484222325
    for byte in os.fsencode(path):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%s-%016x-%s.bin" % (fullname, h, MAGIC_NUMBER.hex())


class _CachedLoader(SourceFileLoader):
    """A source loader whose bytecode lives in the cache folder."""

    folder = ""

    def get_code(self, fullname):
        path = self.path
        stat = os.stat(path)
        header = _header(path, stat)
        entry = os.path.join(self.folder, _entry_name(fullname, path))
        code = self._read(entry, header)
        if code is None:
            code = compile(self.get_data(path), path, "exec", dont_inherit=True)
            self._write(entry, header, code)
        return code

    @staticmethod
    def _read(entry, header):
        try:
            fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        try:
            stat = os.fstat(fd)
            if not _private(stat) or (stat.st_mode & 0o170000) != 0o100000:
                return None
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read()
        except OSError:
            return None
        finally:
            os.close(fd)
        if not data.startswith(header):
            return None
        try:
            return marshal.loads(memoryview(data)[len(header):])
        except (EOFError, ValueError, TypeError):
            return None

    @staticmethod
    def _write(entry, header, code):
        if _write_private(entry, header + marshal.dumps(code)):
            _prune(os.path.dirname(entry))


def _write_private(path, data):
    """Writes path 0600 (a fresh file, renamed into place); whether it did."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0), 0o600)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    return True


# Every checkout or install of the package (each temporary app, each npx
# run) keeps its own entries: past this many, the oldest go when one is
# written (a pruned entry that is still wanted is only compiled again).
MAX_ENTRIES = 256
KEEP_ENTRIES = 128


def _prune(folder):
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".bin")]
        if len(names) <= MAX_ENTRIES:
            return
        aged = []
        for name in names:
            try:
                aged.append((os.lstat(os.path.join(folder, name)).st_mtime_ns, name))
            except OSError:
                pass
        aged.sort()
        for _, name in aged[: max(0, len(aged) - KEEP_ENTRIES)]:
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass
    except OSError:
        pass


class _Finder:
    """Finds esem_bridge's modules as the path finder does, with the cached loader."""

    def __init__(self, loader):
        self.loader = loader

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _PACKAGE and not fullname.startswith(_PACKAGE + "."):
            return None
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is not None and type(spec.loader) is SourceFileLoader:
            spec.loader = self.loader(spec.loader.name, spec.loader.path)
        return spec

    def invalidate_caches(self):
        pass


def install(folder):
    """Keeps esem_bridge's bytecode in `folder` (a private folder the Node side
    checked) from now on. Returns whether it did: not without a folder, not
    when the folder fails the same check here, not twice."""
    if not folder or any(isinstance(f, _Finder) for f in sys.meta_path):
        return False
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        stat = os.lstat(folder)
    except OSError:
        return False
    if (stat.st_mode & 0o170000) != 0o040000 or not _private(stat):
        return False
    loader = type("CachedLoader", (_CachedLoader,), {"folder": folder})
    sys.meta_path.insert(0, _Finder(loader))
    _keep_boot_code(folder)
    return True


# The modules imported before the finder is in place: the package, what its
# __init__ imports, and this one. The Node side's worker boot and the
# native host import this module with sys.pycache_prefix set to the folder
# (and set it back after), so Python reads their .pyc files from there
# (~1.4 ms of a start, compiling them, when bytecode is not written);
# they are written here when missing or stale.
_BOOT = (_PACKAGE, _PACKAGE + ".cancel", __name__)


def _keep_boot_code(folder):
    saved = sys.pycache_prefix
    sys.pycache_prefix = folder
    try:
        for name in _BOOT:
            source = getattr(getattr(sys.modules.get(name), "__spec__", None), "origin", None)
            if source and source.endswith(".py"):
                _keep_pyc(source, cache_from_source(source))
    except (OSError, ValueError):
        pass  # only start-up time is lost
    finally:
        sys.pycache_prefix = saved


def _keep_pyc(source, target):
    """Writes target, the timestamp .pyc of source (PEP 552), unless it is there and fresh."""
    stat = os.stat(source)
    header = MAGIC_NUMBER + b"\0\0\0\0" + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    try:
        with open(target, "rb") as f:
            if f.read(16) == header:
                return
    except OSError:
        pass
    with open(source, "rb") as f:
        code = compile(f.read(), source, "exec", dont_inherit=True)
    os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
    _write_private(target, header + marshal.dumps(code))
