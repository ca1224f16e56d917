// The rows of the report: what each scenario measures, its unit, and its targets
// (SPEC §8 and the tracking issue). The first target of a mode is the one the chart uses.
// A row with `derive` has no process of its own: its values come from other rows'
// repetitions (lib/derive.js). `maxReps` caps the repetitions of a heavy row.
// The issue's targets relative to other bridges (≥ 5× node-calls-python, no slower than
// python-shell cold, …) are judged in the same run of ../shared/peer-bench, not here.

const SUB_03 = "SPEC: 3× v0.1";
// v0.1 (the JSON-lines bridge) measured once on this kind of machine with the
// same scenarios (2026-11-24; median of 3 runs): object 332 µs/cycle,
// list100k 186 ms, dicts10k 155 ms, first call 120 ms. It cannot send a Buffer.
const SUB_03_MEASURED = "issue: 3× v0.1 measured here";
const ISSUE = "issue 8";
const native = (op, value, source = ISSUE) => ({ native: [{ op, value, source }] });

export const ROWS = [
  {
    name: "callback",
    unit: "µs/call",
    better: "lower",
    measures: "Python calling a JS function: `call_n(fn, 2000)` loops `fn(i)`; median µs per round trip of 10 batches",
    targets: { native: [{ op: "≤", value: 8, source: "issue 9" }] },
  },
  {
    name: "sync_add",
    unit: "µs/call",
    better: "lower",
    measures: "`callSync(add, 1, 2)` (native only): 20 batches of 10 000 after 10 000 warm-up calls; median µs per call",
    targets: { native: [{ op: "≤", value: 0.3, source: "issue 9" }] },
  },
  {
    name: "sync_callback",
    unit: "µs/call",
    better: "lower",
    measures: "`callSync(call_n, fn, 2000)` (native only): Python calls a JS function during a sync call; median µs per callback",
    targets: { native: [{ op: "≤", value: 0.5, source: "issue 9" }] },
  },
  {
    name: "async_concurrent10k",
    unit: "calls/s",
    better: "higher",
    measures: "10 000 `async def` calls fired together, then `Promise.all`; median of 3 rounds after a warm-up",
    targets: {},
  },
  {
    name: "pool_http",
    unit: "× (2 members / 1)",
    better: "higher",
    measures: "requests/s of an HTTP handler doing ~1 ms of CPU-bound Python, 32 in flight for 2 s: `createPool({ size: 2 })` over `size: 1`, members in the row's mode",
    targets: { subprocess: [{ op: "≥", value: 1.5, source: "issue 9 (2 cores)" }] },
  },
  {
    name: "sequential",
    unit: "µs/call",
    better: "lower",
    measures: "awaited `add(1, 2)` in a loop: 2 000 warm-up calls, then 20 batches of 1 000; median µs per call",
    targets: {
      native: [{ op: "≤", value: 5, source: "SPEC" }, { op: "≤", value: 10, source: "issue" }],
      subprocess: [{ op: "≤", value: 32, source: SUB_03 }],
    },
  },
  {
    name: "concurrent",
    unit: "calls/s",
    better: "higher",
    measures: "100 000 `add()` calls fired without awaiting, then `Promise.all`; median of 3 rounds after a 100 000-call warm-up",
    targets: {
      native: [{ op: "≥", value: 1_000_000, source: "SPEC" }, { op: "≥", value: 500_000, source: "issue" }],
      subprocess: [{ op: "≥", value: 168_000, source: SUB_03 }],
    },
  },
  {
    name: "concurrent20k",
    unit: "calls/s",
    better: "higher",
    measures: "20 000 `add()` calls fired without awaiting, then `Promise.all`; median of 5 rounds after a 20 000-call warm-up (issue 9's burst)",
    targets: { native: [{ op: "≥", value: 1_000_000, source: "issue 9" }] },
  },
  {
    name: "object",
    unit: "µs/cycle",
    better: "lower",
    measures: "`Counter(5)` + one `add(3)` + `release()`: 1 000 warm-up cycles, then 10 batches of 1 000; median µs per cycle",
    targets: {
      native: [{ op: "≤", value: 15, source: "SPEC" }],
      subprocess: [{ op: "≤", value: 110, source: SUB_03_MEASURED }],
    },
  },
  {
    name: "list100k",
    unit: "ms",
    better: "lower",
    measures: "`echo(list)` of 100 000 ints, there and back; median of 10 calls",
    targets: { subprocess: [{ op: "≤", value: 62, source: SUB_03_MEASURED }] },
  },
  {
    name: "sum100k",
    unit: "ms",
    better: "lower",
    measures: "`sum_list(list)` of 100 000 ints, sent one way (one int back); median of 10 calls",
    targets: {},
  },
  {
    name: "buffer16m",
    unit: "ms",
    better: "lower",
    measures: "the issue's echo_bytes16m: `echo(buf)` of a 16 MiB Buffer, copied there and back (not `shared()`); median of 8 calls",
    targets: {},
  },
  {
    name: "echo_bytes_shared16m",
    unit: "ms",
    better: "lower",
    measures: "`echo(shared(buf))` of a 16 MiB Buffer: zero copy both ways; median of 20 calls; unavailable while the package does not export `shared`",
    targets: native("≤", 0.1),
  },
  {
    name: "bytes_len16m",
    unit: "ms",
    better: "lower",
    measures: "`bytes_len(buf)` (Python `len()`) of a 16 MiB Buffer sent the default way (copied); median of 20 calls",
    targets: {},
  },
  {
    name: "bytes_len16m_vs_memcpy",
    unit: "×",
    better: "lower",
    measures: "bytes_len16m ÷ one 16 MiB memcpy in the same process (`dst.set(buf)` into memory already touched, median of 20)",
    derive: { num: ["bytes_len16m"], den: ["bytes_len16m", "warmMemcpyMs"] },
    targets: native("≤", 1),
  },
  {
    name: "bytes_len_shared1m",
    unit: "µs/call",
    better: "lower",
    measures: "`bytes_len(shared(buf))` of a 1 MiB Buffer, no copy; median of 10 batches of 200 (same process as bytes_len_shared16m)",
    derive: { num: ["bytes_len_shared16m", "us1m"] },
    targets: native("≤", 50),
  },
  {
    name: "bytes_len_shared16m",
    unit: "µs/call",
    better: "lower",
    measures: "`bytes_len(shared(buf))` of a 16 MiB Buffer, no copy; median of 10 batches of 200; unavailable while the package does not export `shared`",
    targets: native("≤", 50),
  },
  {
    name: "bytes_len_shared64m",
    unit: "µs/call",
    better: "lower",
    measures: "`bytes_len(shared(buf))` of a 64 MiB Buffer, no copy: flat in size is the goal; median of 10 batches of 200",
    derive: { num: ["bytes_len_shared16m", "us64m"] },
    targets: native("≤", 50),
  },
  {
    name: "ndarray1m_to_js",
    unit: "ms",
    better: "lower",
    measures: "`ones1m()` returning the same prebuilt `numpy.ones(1_000_000)` (float64) to JS; median of 20 calls; unavailable without numpy",
    targets: native("≤", 1),
  },
  {
    name: "dicts10k",
    unit: "ms",
    better: "lower",
    measures: "`echo(rows)` of 10 000 `{id, name, score}` objects in one call, there and back; median of 15 calls",
    targets: {
      native: [{ op: "≤", value: 10, source: "SPEC" }],
      subprocess: [{ op: "≤", value: 52, source: SUB_03_MEASURED }],
    },
  },
  {
    name: "dicts10k_vs_build",
    unit: "×",
    better: "lower",
    measures: "dicts10k ÷ python_build10k's flat build (Python alone building the same 10 000 `{id, name, score}`)",
    derive: { num: ["dicts10k"], den: ["python_build10k", "flatMs"] },
    targets: native("≤", 2),
  },
  {
    name: "nested10k",
    unit: "ms",
    better: "lower",
    measures: "`echo(rows)` of 10 000 `{id, name, tags: [3 strings]}` records (the peer benchmark's shape), there and back; median of 15 calls",
    targets: {},
  },
  {
    name: "nested10k_vs_build",
    unit: "×",
    better: "lower",
    measures: "nested10k ÷ python_build10k: the echo against Python alone building the same records",
    derive: { num: ["nested10k"], den: ["python_build10k"] },
    targets: native("≤", 2),
  },
  {
    name: "python_build10k",
    unit: "ms",
    better: "lower",
    measures: "the limit: Python alone building the 10 000 nested records, timed inside Python (`time.perf_counter`); median of 15 builds (the flat build is in the JSON). It runs in the bridge's interpreter, so it has the bridge's caches of freed memory too (native/py_arena_cache.h): with them off the same build measured 2.75 against 2.3 ms, so the `_vs_build` ratios are against the faster limit",
    targets: {},
  },
  {
    name: "records1m",
    unit: "ms",
    better: "lower",
    measures: "`count(rows)` (returns `len`) of 1 000 000 nested records, sent one way; median of the timed calls (2 per process), at most 3 processes",
    nodeArgs: ["--expose-gc"],
    maxReps: 3,
    targets: {},
  },
  {
    name: "records1m_linear",
    unit: "×",
    better: "lower",
    measures: "records1m ÷ (100 × the warm 10 000-record `count()` in the same process): 1 is linear",
    derive: { num: ["records1m", "linearity"] },
    targets: native("≤", 1.1),
  },
  {
    name: "records1m_peak_rss",
    unit: "MiB",
    better: "lower",
    measures: "peak RSS of records1m's process (`/proc/self/status` VmHWM) plus, in subprocess mode, the Python worker's",
    derive: { num: ["records1m", "peakMiB"] },
    targets: {},
  },
  {
    name: "records1m_rss_ratio",
    unit: "×",
    better: "lower",
    measures: "(peak RSS − RSS before the records were built) ÷ the data's own size (JS heap growth building the records + Python's `sys.getsizeof` of the same records)",
    derive: { num: ["records1m", "rssRatio"] },
    targets: native("≤", 1.5),
  },
  {
    name: "cold2000",
    unit: "ms",
    better: "lower",
    measures: "fresh process, bridge started, no warm-up: the first `echo(rows)` of 2 000 nested records",
    targets: {},
  },
  {
    name: "cold2000_mean3",
    unit: "ms",
    better: "lower",
    measures: "the mean of cold2000's first 3 calls (same processes)",
    derive: { num: ["cold2000", "mean3Ms"] },
    targets: {},
  },
  {
    name: "first_call",
    unit: "ms",
    better: "lower",
    measures: "fresh process: from just before `import(\"esem-bridge\")` to the first `add(1, 2)` resolving",
    targets: {
      native: [{ op: "≤", value: 40, source: "SPEC" }],
      subprocess: [{ op: "≤", value: 40, source: SUB_03_MEASURED }],
    },
  },
  {
    name: "memory",
    unit: "B/object",
    better: "lower",
    measures: "JS heap growth per live object proxy: 100 000 `Counter` proxies kept in an array, `heapUsed` after full GCs",
    nodeArgs: ["--expose-gc"],
    targets: {
      native: [{ op: "≤", value: 300, source: "SPEC" }, { op: "≤", value: 200, source: "issue" }],
      subprocess: [{ op: "≤", value: 200, source: "issue" }],
    },
  },
];

export const MODES = ["native", "subprocess"];
