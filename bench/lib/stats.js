// Order statistics for small samples (linear interpolation between ranks).

export function quantile(values, q) {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const pos = (xs.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

/** The 90th-percentile value in the bad direction: high for costs, low for rates. */
export function p90(values, better) {
  return quantile(values, better === "higher" ? 0.1 : 0.9);
}

/** Times `fn` over `batches` × `size` iterations; returns the cost per iteration of each batch, in µs. */
export async function timeBatches(fn, batches, size) {
  const perCall = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < size; i++) await fn();
    perCall.push(((performance.now() - t0) * 1000) / size);
  }
  return perCall;
}

/** Times each of `n` runs of `fn`; returns ms per run. */
export async function timeRuns(fn, n) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}
