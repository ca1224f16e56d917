// The Python side's threading model (SPEC §1, issue 7): one process-lifetime
// Python thread runs every native bridge's calls and is Python's main
// thread; each call settles as soon as it has run; bridges dropped without
// shutdown() are collected; every exit path with worker_threads ends with
// the right code, never a signal.
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, it, expect, beforeAll } from "vitest";
import { createBridge } from "../src/index.ts";
import { BACKENDS, skipReason, fixture, childScript, repoRoot, runNode, withBridge } from "./helpers.ts";

const hostFile = fixture("host.py");

describe.each(BACKENDS)("calls in %s mode", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`are not tested: ${reason}`, () => {});
    return;
  }

  it("settle one by one: a fast call sent just before a slow one does not wait for it", async () => {
    await withBridge(mode, async (bridge) => {
      const host = await bridge.python(hostFile);
      await host.fast(); // warm
      const start = performance.now();
      const quick = host.fast().then(() => performance.now() - start);
      const slow = host.slow(1.5).then(() => performance.now() - start);
      expect(await quick).toBeLessThan(700);
      expect(await slow).toBeGreaterThanOrEqual(1400);
    });
  });

  it("run on Python's main thread, so signal.signal works in every bridge", async () => {
    await withBridge(mode, async (first) => {
      await withBridge(mode, async (second) => {
        const a = await first.python(hostFile);
        const b = await second.python(hostFile);
        expect(await a.install_signal_handler()).toBe(true);
        expect(await b.install_signal_handler()).toBe(true);
        expect(await a.thread_facts()).toMatchObject({ is_main: true, main_alive: true });
        expect(await b.thread_facts()).toMatchObject({ is_main: true, main_alive: true });
      });
    });
  });

  it("keep Python's main thread alive when the bridge that started Python shuts down", async () => {
    const first = createBridge({ mode });
    await (await first.python(hostFile)).fast();
    await withBridge(mode, async (second) => {
      const b = await second.python(hostFile);
      await first.shutdown();
      expect(await b.thread_facts()).toMatchObject({ is_main: true, main_alive: true });
      expect(await b.install_signal_handler()).toBe(true);
    });
  });
});

describe("native bridges", () => {
  const reason = skipReason("native");
  if (reason) {
    it.skip(`are not tested: ${reason}`, () => {});
    return;
  }
  beforeAll(() => {
    if (!existsSync(path.join(repoRoot, "dist", "index.js"))) throw new Error("run `npm run build:ts` first");
  });

  it("are garbage-collected when dropped without shutdown(), releasing their Python objects", async () => {
    const result = await runNode(childScript("host-gc-bridge.mjs"), [fixture()], 30_000, { nodeArgs: ["--expose-gc"] });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim().split("\n")).toEqual(["100", "5"]);
  });

  const paths = [
    ["exit", 3],
    ["throw", 1],
    ["end", 0],
    ["worker-throws", 0],
  ] as const;
  for (const script of ["host-exit-workers.mjs", "host-exit-busy.mjs"]) {
    it.each(paths)(`in worker_threads end cleanly when the process ends by "%s" (${script})`, async (how, code) => {
      const runs = script === "host-exit-busy.mjs" ? 3 : 2;
      // Invariant: whatever the exit path, the process ends with its own exit
      // code, never a signal (0.2.0 aborted or segfaulted here in some runs).
      for (let run = 0; run < runs; run++) {
        const result = await runNode(childScript(script), [how, fixture()], 20_000);
        expect({ run, code: result.code, signal: result.signal, timedOut: result.timedOut }, result.stderr.slice(-2000)).toEqual({
          run, code, signal: null, timedOut: false,
        });
      }
    }, 120_000);
  }
});
