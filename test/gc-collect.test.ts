// Garbage collection of proxies (issue 7, defect 1): whatever was done
// with a proxy, dropping it frees its Python object and its JS memory.
// Real GC in a `node --expose-gc` child, both modes.
import { describe, it, expect } from "vitest";
import { BACKENDS, SANITIZED, skipReason, childScript, fixture, runNode } from "./helpers.ts";

const COUNT = 20_000;

describe.each(BACKENDS)("garbage collection on the %s backend", (mode) => {
  const reason = skipReason(mode);
  it.skipIf(reason !== null)(
    `frees ${COUNT} dropped objects after their methods were called, attributes awaited, members read, iterated and passed as arguments`,
    async () => {
      const result = await runNode(childScript("gc-collect.mjs"), [mode, fixture(), String(COUNT)], 60_000, { nodeArgs: ["--expose-gc"] });
      expect(result.timedOut, result.stderr).toBe(false);
      expect(result.code, result.stderr).toBe(0);
      const r = JSON.parse(result.stdout.trim().split("\n").pop()!);
      expect(r.liveBefore).toBeGreaterThan(COUNT / 2); // the objects were alive before the GC
      expect(r.liveAfter).toBeLessThanOrEqual(COUNT / 100);
      // JS keeps nothing per dropped object: back within 3 MB of the baseline
      // (a leak of 20 000 proxies with members is ~13 MB).
      expect(r.heapAfter - r.heapBase).toBeLessThan(3 * 1024 * 1024);
      // Released explicitly: Python frees them at once, and JS memory returns
      // to the baseline once the proxies are dropped too.
      expect(r.liveReleased).toBe(0);
      expect(r.heapDroppedReleased - r.heapBase).toBeLessThan(3 * 1024 * 1024);
      expect(r.bytesPerReleasedHeld).toBeLessThan(400);
      // A PythonError keeps its exception object until the error is collected.
      expect(r.liveWithErrors).toBe(COUNT);
      expect(r.liveAfterErrors).toBeLessThanOrEqual(COUNT / 100);
    },
    90_000,
  );
});

// Not judged under the sanitizer build (scripts/test-asan.sh): freed memory
// sits in ASan's quarantine, so RSS cannot show what the allocator gave back.
describe.each(BACKENDS)("explicit release on the %s backend", (mode) => {
  it.skipIf(skipReason(mode) !== null || SANITIZED)("gives back the memory of 100 000 released objects: after release the process holds no more than while they were held", async () => {
    const result = await runNode(childScript("release-memory.mjs"), [mode, fixture()], 90_000, { nodeArgs: ["--expose-gc"] });
    expect(result.code, result.stderr).toBe(0);
    const r = JSON.parse(result.stdout.trim().split("\n").pop()!);
    expect(r.live).toBe(0);
    expect(r.releasedMB, result.stdout).toBeLessThanOrEqual(r.heldMB + 5);
  });
});

