"""Crunches what JS sends: a big float64 array (read in place through
shared()) and a million records."""

try:
    import numpy as np
except ImportError:
    np = None


def array_stats(data):
    """data: a writable memoryview of float64 over JS's memory (shared())."""
    if np is not None:
        a = np.frombuffer(data, dtype=np.float64)  # no copy
        total = float(a.sum())
        a *= 2  # JS sees this: the memory is its own
        return {"n": int(a.size), "sum": total, "engine": "numpy"}
    view = data.cast("d") if data.format != "d" else data
    total = 0.0
    for i in range(len(view)):
        total += view[i]
        view[i] = view[i] * 2
    return {"n": len(view), "sum": total, "engine": "python"}


def by_tag(records):
    """{tag: [count, total score]} over records {id, name, score, tags}."""
    out = {}
    for r in records:
        for t in r["tags"]:
            entry = out.get(t)
            if entry is None:
                out[t] = [1, r["score"]]
            else:
                entry[0] += 1
                entry[1] += r["score"]
    return out


def make_records(n):
    return [{"id": i, "name": "item-%d" % i, "score": i % 100, "tags": ["a", "b"] if i % 2 else ["c"]} for i in range(n)]
