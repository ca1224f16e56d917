"""Run in a fresh interpreter by test_native_codec.py: installs the
large-block cache of esem_wire (native/py_large_blocks.h) and puts Python's
large allocations through it: bytes, bytearray growing and shrinking across
the 1 MiB line, lists, str, many blocks alive at once, threads. Prints one
JSON line of what it saw; any wrong byte raises."""
import json
import sys
import threading
import time

sys.path.insert(0, sys.argv[1])
from esem_bridge import native_codec as n  # noqa: E402

lib = n.load(sys.argv[2])
MIB = 1 << 20
seen = {"installed": n.cache_large_blocks(lib), "again": n.cache_large_blocks(lib)}
if not seen["installed"]:
    print(json.dumps(seen))
    sys.exit(0)
live0, held0 = lib.large_blocks()

b = bytes(range(256)) * (16 * MIB // 256)
seen["live_with_bytes"] = lib.large_blocks()[0] - live0
seen["on_boundary"] = id(b) % (2 * MIB) == 0
del b
seen["held_after_del"] = lib.large_blocks()[1] - held0
c = b"\x07" * (16 * MIB)  # the same size again: the kept block
seen["held_after_reuse"] = lib.large_blocks()[1] - held0
assert c.count(b"\x07") == 16 * MIB
del c

# A bytearray growing from small to 40 MiB (pymalloc, then malloc, then
# realloc in place or moved), then shrinking back below 1 MiB.
a = bytearray()
chunk = bytes(range(251))
while len(a) < 40 * MIB:
    a += chunk * 4096
expect = (chunk * (len(a) // len(chunk) + 1))[: len(a)]
assert a == expect, "grown bytearray"
del a[20 * MIB:]
assert a == expect[: 20 * MIB], "shrunk to 20 MiB"
del a[1000:]
assert a == expect[:1000], "shrunk below 1 MiB"
a.extend(b"x" * (3 * MIB))
assert a[:1000] == expect[:1000] and a[1000:] == b"x" * (3 * MIB), "grown again"
del a, expect

# calloc stays with Python's allocator: not counted here.
before = lib.large_blocks()[0]
z = bytes(32 * MIB)
seen["calloc_counted"] = lib.large_blocks()[0] - before
assert z.count(0) == 32 * MIB
del z

# Many alive at once, more than the budget keeps once freed.
many = [bytes([k]) * (3 * MIB + k) for k in range(40)]
assert all(x[0] == k and len(x) == 3 * MIB + k for k, x in enumerate(many))
del many
seen["held_after_many"] = lib.large_blocks()[1]

# Lists and str of more than 1 MiB.
xs = list(range(300_000))
s = "é" * (2 * MIB)
assert sum(xs) == 300_000 * 299_999 // 2 and len(s) == 2 * MIB
del xs, s


def churn(k, out):
    for i in range(50):
        x = bytes([k, i & 255]) * (MIB + 4096 * i)
        if x[-2:] != bytes([k, i & 255]):
            out.append("thread %d round %d" % (k, i))


# Kept blocks nobody took for a second go back at the next free.
x = b"\x02" * (2 * MIB)
del x
time.sleep(1.1)
y = b"\x03" * (5 * MIB)
del y
seen["held_after_idle"] = lib.large_blocks()[1]

errors = []
threads = [threading.Thread(target=churn, args=(k, errors)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
seen["thread_errors"] = errors
seen["live_at_end"] = lib.large_blocks()[0] - live0
print(json.dumps(seen))
