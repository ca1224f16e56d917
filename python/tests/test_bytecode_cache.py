"""esem_bridge.bytecode_cache keeps the package's compiled code in a private
folder, whatever PYTHONDONTWRITEBYTECODE says, and trusts only what this
user alone could have written there. Each case runs a fresh interpreter
(the package is imported once per process). Plain asserts: run with
`python3 python/tests/test_bytecode_cache.py`."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)

CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
import esem_bridge.bytecode_cache as c
print(c.install(sys.argv[2]))
import esem_bridge.ops
print(type(esem_bridge.ops.__loader__).__name__)
"""


def _run(folder):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, "-c", CHILD, PYTHON_DIR, folder], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def _entries(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".bin"))


def test_keeps_the_package_code_and_reads_it_back():
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "bytecode")
        assert _run(folder) == ["True", "CachedLoader"]
        entries = _entries(folder)
        names = {e.split("-")[0] for e in entries}
        assert {"esem_bridge.ops", "esem_bridge.plain"} <= names, entries
        assert all(not n.startswith(("esem_bridge.bytecode_cache", "datetime")) for n in names), names
        assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
        assert all(os.stat(os.path.join(folder, e)).st_mode & 0o777 == 0o600 for e in entries)
        stamps = {e: os.stat(os.path.join(folder, e)).st_mtime_ns for e in entries}
        assert _run(folder) == ["True", "CachedLoader"]
        # Read, not rewritten.
        assert {e: os.stat(os.path.join(folder, e)).st_mtime_ns for e in entries} == stamps


def _ops_entry(folder):
    """Fills `folder` by one run; the path and bytes of esem_bridge.ops's entry."""
    _run(folder)
    path = os.path.join(folder, next(e for e in _entries(folder) if e.startswith("esem_bridge.ops-")))
    with open(path, "rb") as f:
        return path, f.read()


def test_a_damaged_entry_is_compiled_again():
    with tempfile.TemporaryDirectory() as tmp:
        path, data = _ops_entry(tmp)
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
        assert _run(tmp) == ["True", "CachedLoader"]
        assert os.path.getsize(path) == len(data)


def test_an_entry_others_could_write_is_not_trusted():
    with tempfile.TemporaryDirectory() as tmp:
        path, data = _ops_entry(tmp)
        # A planted entry: valid header, other code, group-writable.
        header_end = data.index(b"\0", data.index(b"\0", data.index(b"\0") + 1) + 1) + 1
        import marshal

        evil = compile("raise SystemExit('planted code ran')", "x", "exec")
        with open(path, "wb") as f:
            f.write(data[:header_end] + marshal.dumps(evil))
        os.chmod(path, 0o620)
        assert _run(tmp) == ["True", "CachedLoader"]


def test_a_changed_source_is_compiled_again():
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "copy")
        shutil.copytree(os.path.join(PYTHON_DIR, "esem_bridge"), os.path.join(root, "esem_bridge"))
        folder = os.path.join(tmp, "bytecode")
        probe = CHILD + "print(getattr(esem_bridge.ops, 'CHANGED', 0))\n"
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        run = lambda: subprocess.run([sys.executable, "-c", probe, root, folder], env=env, capture_output=True, text=True, check=True).stdout.split()
        assert run() == ["True", "CachedLoader", "0"]
        with open(os.path.join(root, "esem_bridge", "ops.py"), "a") as f:
            f.write("\nCHANGED = 1\n")
        assert run() == ["True", "CachedLoader", "1"]
        # The other checkout's entries are its own: the repository's copy misses them.
        assert _run(folder) == ["True", "CachedLoader"]
        assert len([e for e in _entries(folder) if e.startswith("esem_bridge.ops-")]) == 2


def test_old_entries_go_past_the_limit():
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "bytecode")
        os.makedirs(folder, mode=0o700)
        # Entries of 300 other checkouts, oldest first.
        for i in range(300):
            path = os.path.join(folder, "esem_bridge.ops-%016x-00.bin" % i)
            with open(path, "wb") as f:
                f.write(b"x")
            os.utime(path, ns=(i * 10**9, i * 10**9))
        assert _run(folder) == ["True", "CachedLoader"]
        entries = _entries(folder)
        assert len(entries) <= 256, len(entries)
        # The newest stay, and what this run wrote.
        assert "esem_bridge.ops-%016x-00.bin" % 299 in entries
        assert "esem_bridge.ops-%016x-00.bin" % 0 not in entries
        assert any(e.startswith("esem_bridge.plain-") and not e.endswith("-00.bin") for e in entries)
        assert _run(folder) == ["True", "CachedLoader"]


def test_a_folder_others_can_write_is_refused():
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        assert _run(tmp) == ["False", "SourceFileLoader"]
        assert _entries(tmp) == []


def test_no_folder_leaves_python_s_rules():
    assert _run("") == ["False", "SourceFileLoader"]


# As src/subprocess-worker.ts's BOOT and native/interpreter.cc start it.
BOOT_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
saved = sys.pycache_prefix
sys.pycache_prefix = sys.argv[2]
import esem_bridge.bytecode_cache as c
sys.pycache_prefix = saved
print(c.install(sys.argv[2]), getattr(sys.modules["esem_bridge.cancel"], "READ_FROM_PYC", False), sys.pycache_prefix)
"""


def _boot(root, folder):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, "-c", BOOT_CHILD, root, folder], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_modules_before_the_finder_come_from_pyc_files_under_the_folder():
    import importlib.util
    import marshal
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "root")
        shutil.copytree(os.path.join(PYTHON_DIR, "esem_bridge"), os.path.join(root, "esem_bridge"))
        folder = os.path.join(tmp, "bytecode")
        assert _boot(root, folder) == ["True", "False", "None"]  # written, and the prefix set back
        sys.pycache_prefix, saved = folder, sys.pycache_prefix
        try:
            pycs = {n: importlib.util.cache_from_source(os.path.join(root, "esem_bridge", n + ".py")) for n in ("__init__", "cancel", "bytecode_cache")}
        finally:
            sys.pycache_prefix = saved
        for path in pycs.values():
            assert path.startswith(folder) and os.path.isfile(path), path
            assert os.stat(path).st_mode & 0o077 == 0
        # Read, not written again: a .pyc holding other code, under the real
        # source's header, is what Python runs.
        cancel = os.path.join(root, "esem_bridge", "cancel.py")
        with open(pycs["cancel"], "rb") as f:
            header = f.read(16)
        with open(cancel) as f:
            other = compile(f.read() + "\nREAD_FROM_PYC = True\n", cancel, "exec")
        with open(pycs["cancel"], "wb") as f:
            f.write(header + marshal.dumps(other))
        assert _boot(root, folder) == ["True", "True", "None"]
        # A changed source makes it stale: compiled from the source, and written again.
        with open(cancel, "a") as f:
            f.write("\n# changed\n")
        os.utime(cancel, (1, 1))
        assert _boot(root, folder) == ["True", "False", "None"]
        with open(pycs["cancel"], "rb") as f:
            assert f.read(16) != header
        assert _boot(root, folder) == ["True", "False", "None"]


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    from runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
