// A burst: n add() calls fired without awaiting, then Promise.all; calls/s.
export async function burst(mod, n) {
  const pending = new Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) pending[i] = mod.add(i, 1);
  await Promise.all(pending);
  return n / ((performance.now() - t0) / 1000);
}
