"""Runs a test module's test_* functions in name order, printing one line
each and 'N passed, N failed' at the end. Returns the number failed."""

import traceback


def run_all(namespace):
    passed = failed = 0
    for name, fn in sorted(namespace.items()):
        if name.startswith("test_") and callable(fn):
            try:
                fn()
                passed += 1
                print("ok   %s" % name)
            except Exception:
                failed += 1
                print("FAIL %s" % name)
                traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    return failed
