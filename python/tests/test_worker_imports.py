"""ops.import_module is atomic per file, as Python's own import is: threads
importing the same .py file at once all get the finished module (or the
error of its top level), never a half-initialized one. Plain asserts: run
with `python3 python/tests/test_worker_imports.py`."""

import os
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from esem_bridge import ops  # noqa: E402


def _import_at_once(path, n=4):
    """Imports `path` from n threads released together; (results, errors),
    a result being (module, its names at the moment import_module returned)."""
    start = threading.Barrier(n)
    results, errors = [None] * n, [None] * n

    def run(i):
        start.wait()
        try:
            module = ops.import_module(path, "/")
            # What the importer sees when import_module returns, not later.
            results[i] = (module, sorted(n for n in vars(module) if not n.startswith("__")))
        except BaseException as exc:  # noqa: B902 - the test looks at what each thread saw
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results, errors


def _write(folder, name, text):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_threads_importing_one_file_at_once_all_see_its_names():
    folder = tempfile.mkdtemp()
    path = _write(folder, "slow_race_ok.py", "import time\ntime.sleep(0.3)\nDEFINED = 7\n")
    results, errors = _import_at_once(path)
    assert errors == [None] * 4, errors
    assert all(names == ["DEFINED", "time"] for _, names in results), [names for _, names in results]
    assert len(set(id(m) for m, _ in results)) == 1  # one module object, run once


def test_a_failed_import_fails_for_every_waiting_thread_and_leaves_no_module_behind():
    folder = tempfile.mkdtemp()
    runs = os.path.join(folder, "runs.txt")
    path = _write(folder, "slow_race_fails.py",
                  "import time\nopen(%r, 'a').write('x')\ntime.sleep(0.3)\nraise ValueError('top level failed')\n" % runs)
    results, errors = _import_at_once(path, 3)
    assert results == [None] * 3, results
    assert all(isinstance(e, ValueError) and "top level failed" in str(e) for e in errors), errors
    assert "slow_race_fails" not in sys.modules
    # Each waiting thread tried again after the failure, as Python's import does, one at a time.
    with open(runs) as f:
        assert f.read() == "xxx"


def test_a_module_importing_itself_through_the_bridge_does_not_deadlock():
    folder = tempfile.mkdtemp()
    path = _write(folder, "self_import.py",
                  "from esem_bridge import ops\nSELF = ops.import_module(__file__, '/')\nDONE = True\n")
    results, errors = _import_at_once(path, 2)
    assert errors == [None, None], errors
    module = results[0][0]
    assert module.DONE and module.SELF is module


def test_a_plain_import_in_another_thread_waits_for_the_bridge_import():
    folder = tempfile.mkdtemp()
    path = _write(folder, "slow_race_plain.py", "import time\ntime.sleep(0.3)\nDEFINED = 7\n")
    seen = []
    bridge = threading.Thread(target=ops.import_module, args=(path, "/"))
    bridge.start()
    import time

    time.sleep(0.1)  # the bridge's import is running its top level now
    import importlib

    seen.append(hasattr(importlib.import_module("slow_race_plain"), "DEFINED"))
    bridge.join(10)
    assert seen == [True]


if __name__ == "__main__":
    from runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
