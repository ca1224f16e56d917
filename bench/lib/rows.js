// The rows of the report: what each scenario measures, its unit, and its targets
// (SPEC §8 and the tracking issue). The first target of a mode is the one the chart uses.

const SUB_03 = "SPEC: 3× v0.1";
// v0.1 (the JSON-lines bridge) measured once on this kind of machine with the
// same scenarios (2026-11-24; median of 3 runs): object 332 µs/cycle,
// list100k 186 ms, dicts10k 155 ms, first call 120 ms. It cannot send a Buffer.
const SUB_03_MEASURED = "issue: 3× v0.1 measured here";

export const ROWS = [
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
    name: "buffer16m",
    unit: "ms",
    better: "lower",
    measures: "`echo(buf)` of a 16 MiB Buffer, copied there and back (not `shared()`); median of 8 calls",
    targets: {},
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
