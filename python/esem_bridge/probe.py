"""Describes this interpreter to the bridge as one line of JSON: version,
executable, sys.path and where its shared libpython is. Run as a script by
src/python-probe.ts; imports nothing outside the standard library."""

import json
import os
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
    for folder in (var("LIBDIR"), var("LIBPL"), os.path.join(sys.base_prefix, "lib"), sys.base_prefix,
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


def main():
    script_dir = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if p and os.path.abspath(p) != script_dir]
    info = {
        "version": "%d.%d.%d" % sys.version_info[:3],
        "versionInfo": list(sys.version_info[:2]),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "basePrefix": sys.base_prefix,
        "inVenv": sys.prefix != sys.base_prefix,
        "sysPath": path,
        "shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")) or sys.platform == "win32",
        "freeThreaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "debug": hasattr(sys, "gettotalrefcount"),
        "libraries": libpython_candidates(),
    }
    sys.stdout.write(json.dumps(info) + "\n")


if __name__ == "__main__":
    main()
