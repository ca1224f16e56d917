// From just before import("esem-bridge") to the first add(1, 2) resolving, in a fresh process: ms.
// Nothing of the bridge is loaded before this scenario starts its clock.
import { DIST, FIXTURE } from "../lib/open.js";

export async function run({ mode }) {
  const t0 = performance.now();
  const api = await import(DIST);
  const t1 = performance.now();
  const bridge = api.createBridge({ mode });
  const mod = await bridge.python(FIXTURE);
  const t2 = performance.now();
  await mod.add(1, 2);
  const t3 = performance.now();
  return {
    bridge,
    value: t3 - t0,
    extra: {
      importMs: t1 - t0,
      startAndLoadMs: t2 - t1,
      firstAddMs: t3 - t2,
      sinceProcessStartMs: t3, // performance.now() counts from the process's time origin
    },
  };
}
