"""Statistics of a list of numbers, with numpy when it is installed (the
pure-Python statistics module otherwise)."""

try:
    import numpy as np
except ImportError:  # the example still runs, a little slower
    np = None
import statistics


def summary(values):
    if not values:
        raise ValueError("no values: send a JSON array of numbers")
    if np is not None:
        a = np.asarray(values, dtype=np.float64)
        return {
            "n": int(a.size),
            "mean": float(a.mean()),
            "std": float(a.std()),
            "p50": float(np.percentile(a, 50)),
            "p99": float(np.percentile(a, 99)),
            "engine": "numpy " + np.__version__,
        }
    ordered = sorted(values)
    return {
        "n": len(values),
        "mean": statistics.fmean(values),
        "std": statistics.pstdev(values),
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "engine": "statistics",
    }
