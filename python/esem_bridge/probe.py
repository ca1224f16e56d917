"""Describes this interpreter to the bridge as one line of JSON: version,
executable, sys.path, whether it is a free-threaded build and where its
shared libpython is. Run as a script by src/python-probe.ts; imports nothing
outside the standard library.

Kept runnable by Python 2.7 and 3.x before 3.8 (no f-strings, no
sys.implementation or sys.base_prefix assumed): an interpreter too old for
the bridge still answers, and the bridge then says "Python X is not
supported" (src/python-support.ts) instead of showing a traceback. Tested
under every interpreter found on the machine (test/python-versions.test.ts).
"""

import json
import os
import platform
import sys
import sysconfig


def libpython_candidates():
    """Paths that may hold this interpreter's shared libpython, best first."""
    var = sysconfig.get_config_var
    names = [n for n in (var("LDLIBRARY"), var("INSTSONAME")) if n and not n.endswith(".a")]
    version = "%d.%d" % sys.version_info[:2]
    abiflags = getattr(sys, "abiflags", "")
    if sys.platform == "darwin":
        names += ["libpython%s%s.dylib" % (version, abiflags)]
        framework = var("PYTHONFRAMEWORKPREFIX")
        if framework:
            names.append(os.path.join(framework, var("PYTHONFRAMEWORK") or "Python", "Python"))
    elif sys.platform == "win32":
        names += ["python%d%d.dll" % sys.version_info[:2]]
    else:
        names += ["libpython%s%s.so.1.0" % (version, abiflags), "libpython%s%s.so" % (version, abiflags)]
    folders = []
    base_prefix = getattr(sys, "base_prefix", sys.prefix)
    for folder in (var("LIBDIR"), var("LIBPL"), os.path.join(base_prefix, "lib"), base_prefix,
                   os.path.dirname(sys.executable)):
        if folder:
            folders.append(folder)
            multiarch = var("MULTIARCH")
            if multiarch:
                folders.append(os.path.join(folder, multiarch))
    seen, out = set(), []
    for name in names:
        paths = [name] if os.path.isabs(name) else [os.path.join(f, name) for f in folders]
        for path in paths:
            real = os.path.realpath(path)
            if real not in seen and os.path.isfile(real):
                seen.add(real)
                out.append(path)
    return out


def implementation():
    """"cpython", "pypy", ...: sys.implementation from 3.3, platform before."""
    impl = getattr(sys, "implementation", None)
    return impl.name if impl is not None else platform.python_implementation().lower()


def gil_enabled(free_threaded):
    """Whether the GIL is on right now: a free-threaded build can turn it
    back on (PYTHON_GIL=1, or an extension that needs it)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return bool(check()) if check is not None else not free_threaded


def main():
    script_dir = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if p and os.path.abspath(p) != script_dir]
    base_prefix = getattr(sys, "base_prefix", getattr(sys, "real_prefix", sys.prefix))
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    info = {
        "version": "%d.%d.%d" % tuple(sys.version_info[:3]),
        "versionInfo": list(sys.version_info[:2]),
        "implementation": implementation(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "basePrefix": base_prefix,
        "inVenv": sys.prefix != base_prefix,
        "sysPath": path,
        "shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")) or sys.platform == "win32",
        "freeThreaded": free_threaded,
        "gilEnabled": gil_enabled(free_threaded),
        "abiflags": getattr(sys, "abiflags", ""),
        "debug": hasattr(sys, "gettotalrefcount"),
        "libraries": libpython_candidates(),
    }
    sys.stdout.write(json.dumps(info) + "\n")


if __name__ == "__main__":
    main()
