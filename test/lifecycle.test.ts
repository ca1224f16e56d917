// Lifetime (SPEC §5, §9): scripts exit by themselves, a started call keeps
// Node alive, and shutdown() rejects pending calls and allows a fresh start.
// Exit tests spawn a child `node` on the built package in dist/.
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, it, expect, beforeAll } from "vitest";
import { createBridge, python, shutdown, release } from "../src/index.ts";
import {
  BACKENDS,
  skipReason,
  fixture,
  childScript,
  repoRoot,
  runNode,
  expectBridgeError,
  withBridge,
  type Mode,
} from "./helpers.ts";

const distEntry = path.join(repoRoot, "dist", "index.js");
const fixturesDir = fixture();

function requireDist() {
  if (!existsSync(distEntry)) {
    throw new Error(`${distEntry} is missing: the exit tests run the built package; run \`npm run build:ts\` first`);
  }
}

function describeChild(result: Awaited<ReturnType<typeof runNode>>): string {
  return `exit code ${result.code}, signal ${result.signal}, timed out ${result.timedOut}\n` +
    `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

const childModes: Array<Mode | "default"> = ["default", ...BACKENDS];

describe.each(childModes)("a script using the %s bridge", (mode) => {
  const reason = mode === "default" ? null : skipReason(mode);
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }

  beforeAll(requireDist);

  it("exits by itself after using Python without calling shutdown()", async () => {
    // Invariant: an idle bridge never keeps Node alive, even with a live object proxy.
    const result = await runNode(childScript("exit-without-shutdown.mjs"), [mode, fixturesDir]);
    expect(result.timedOut, describeChild(result)).toBe(false);
    expect(result.code, describeChild(result)).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["5", "3.58"]);
  });

  it("stays alive until a call that was started but not awaited settles", async () => {
    // Invariant: a started call keeps Node alive until it settles.
    const result = await runNode(childScript("busy-call.mjs"), [mode, fixturesDir]);
    expect(result.timedOut, describeChild(result)).toBe(false);
    expect(result.code, describeChild(result)).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["started", "settled"]);
  });

  it.skipIf(mode === "default")("resolves `await shutdown()` at the end of an idle script and runs the code after it", async () => {
    const result = await runNode(childScript("shutdown-then-continue.mjs"), [mode]);
    expect(result.code, describeChild(result)).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["3", "after shutdown"]);
  });

  it("exits by itself after a call rejected with a Python exception", async () => {
    const result = await runNode(childScript("idle-after-error.mjs"), [mode, fixturesDir]);
    expect(result.timedOut, describeChild(result)).toBe(false);
    expect(result.code, describeChild(result)).toBe(0);
    expect(result.stdout.trim()).toBe("PythonError(ValueError)");
  });
});

describe("worker_threads with the native backend", () => {
  const reason = skipReason("native");
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }

  beforeAll(requireDist);

  it("shares one interpreter between the main thread and a worker, and the process exits by itself", async () => {
    // Invariant: one interpreter per process; each thread gets its own results channel.
    const result = await runNode(childScript("worker-threads.mjs"), [fixturesDir]);
    expect(result.timedOut, describeChild(result)).toBe(false);
    expect(result.code, describeChild(result)).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual([
      "worker saw: from main",
      "worker sqrt: 9",
      "from worker",
    ]);
  });
});

describe("a worker_thread that ends in the middle of a Python call", () => {
  const reason = skipReason("native");
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }

  beforeAll(requireDist);

  it("neither crashes nor stops the main thread's bridge, and the process exits by itself", async () => {
    // Invariant: a torn-down environment's Python thread never touches its
    // released thread-safe function, and finishes on its own.
    const result = await runNode(childScript("worker-terminate.mjs"), [fixturesDir]);
    expect(result.timedOut, describeChild(result)).toBe(false);
    expect(result.code, describeChild(result)).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual([
      "worker terminated: 1",
      "main still works: 5",
      "after the worker's call: ok",
    ]);
  });

  // Invariant: JS memory a job's arguments lie in (a lent wire buffer, a
  // Buffer beside the message) outlives every Python read of it. Before the
  // teardown waited, each terminate run here segfaulted in a read of freed memory.
  it.each(["terminate", "throw", "worker-exit"])("ends many times while Python reads its large arguments (%s) without a crash", async (how) => {
    const result = await runNode(childScript("worker-ends-mid-read.mjs"), [fixturesDir, how, "6"]);
    expect(result.timedOut, describeChild(result)).toBe(false);
    expect(result.signal, describeChild(result)).toBe(null);
    expect(result.code, describeChild(result)).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["workers ended: 6", "main still works: 3"]);
  });

  it("does not hang process.exit() while two workers and the main thread are being read", async () => {
    for (let i = 0; i < 3; i++) {
      const result = await runNode(childScript("worker-ends-mid-read.mjs"), [fixturesDir, "exit"]);
      expect(result.timedOut, describeChild(result)).toBe(false);
      expect(result.signal, describeChild(result)).toBe(null);
      expect(result.code, describeChild(result)).toBe(0);
      expect(result.stdout.trim()).toBe("exiting");
    }
  });
});

describe.each(BACKENDS)("shutdown on the %s backend", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }

  it("rejects the calls still pending with ESEM_SHUTDOWN", async () => {
    const bridge = createBridge({ mode });
    try {
      const timing = await bridge.python(fixture("timing.py"));
      const slow = timing.sleep_then_return(0.5, "late");
      const queued = Array.from({ length: 5 }, (_, i) => timing.add(i, 1));
      const slowSettled = Promise.allSettled([slow]);
      const queuedSettled = Promise.allSettled(queued);
      await bridge.shutdown();

      for (const outcome of await queuedSettled) {
        expect(outcome.status).toBe("rejected");
        expectBridgeError((outcome as PromiseRejectedResult).reason, "ESEM_SHUTDOWN");
      }
      // The call already running may finish or be rejected, but nothing else.
      const [slowOutcome] = await slowSettled;
      if (slowOutcome.status === "fulfilled") expect(slowOutcome.value).toBe("late");
      else expectBridgeError(slowOutcome.reason, "ESEM_SHUTDOWN");
    } finally {
      await bridge.shutdown();
    }
  });

  it("starts afresh on python() after shutdown()", async () => {
    const bridge = createBridge({ mode });
    try {
      const first = await bridge.python(fixture("calculator.py"));
      expect(await first.add(1, 1)).toBe(2);
      await bridge.shutdown();

      const second = await bridge.python(fixture("calculator.py"));
      expect(await second.add(2, 3)).toBe(5);
      const c = await second.Calculator(2);
      expect(await c.add(1.234, 2.345)).toBe(3.58);
      await release(c);
    } finally {
      await bridge.shutdown();
    }
  });

  it("resolves shutdown() on a bridge that never started, and twice in a row", async () => {
    const bridge = createBridge({ mode });
    await expect(bridge.shutdown()).resolves.toBeUndefined();
    await expect(bridge.shutdown()).resolves.toBeUndefined();
    const math = await bridge.python("math");
    expect(await math.sqrt(16)).toBe(4);
    await bridge.shutdown();
  });

  it("resolves start() once Python answers, with its version in info()", async () => {
    const bridge = createBridge({ mode });
    try {
      await bridge.start();
      expect(bridge.info()).toMatchObject({ mode, python: { version: expect.stringMatching(/^3\.\d+\.\d+$/) } });
    } finally {
      await bridge.shutdown();
    }
  });

  it("runs, in order, the calls made while Python starts", async () => {
    const bridge = createBridge({ mode });
    try {
      // All sent before the interpreter (or the worker) has answered.
      const [math, four, json] = await Promise.all([bridge.python("math"), bridge.eval("2 + 2"), bridge.python("json")]);
      expect([await math.sqrt(9), four, await json.dumps([1])]).toEqual([3, 4, "[1]"]);
    } finally {
      await bridge.shutdown();
    }
  });

  it("rejects a start() and a python() that shutdown() interrupts with ESEM_SHUTDOWN, then starts afresh", async () => {
    const bridge = createBridge({ mode });
    const started = bridge.start();
    const loaded = bridge.python("math");
    const [a, b] = await Promise.allSettled([started, loaded, bridge.shutdown()]);
    // The native mode's start is one step: it may finish before shutdown() runs.
    for (const outcome of [a, b]) if (outcome.status === "rejected") expectBridgeError(outcome.reason, "ESEM_SHUTDOWN");
    if (mode === "subprocess") expect([a.status, b.status]).toEqual(["rejected", "rejected"]);
    const math = await bridge.python("math");
    expect(await math.sqrt(16)).toBe(4);
    await bridge.shutdown();
  });

  it("touches only its own calls and objects when another bridge is alive", async () => {
    await withBridge(mode, async (keeper) => {
      const kept = await (await keeper.python(fixture("calculator.py"))).Calculator(2);
      await withBridge(mode, async (other) => {
        const calc = await other.python(fixture("calculator.py"));
        expect(await calc.add(1, 2)).toBe(3);
      });
      expect(await kept.add(1.234, 2.345)).toBe(3.58);
      await release(kept);
    });
  });
});

describe("the default bridge", () => {
  it("shuts down with shutdown() and starts afresh on the next python()", async () => {
    try {
      const calc = await python(fixture("calculator.py"));
      expect(await calc.add(2, 3)).toBe(5);
      await shutdown();
      const again = await python(fixture("calculator.py"));
      expect(await again.add(3, 4)).toBe(7);
    } finally {
      await shutdown();
    }
  });

  it("rejects the default bridge's pending calls with ESEM_SHUTDOWN", async () => {
    try {
      const timing = await python(fixture("timing.py"));
      const slow = timing.sleep_then_return(0.3);
      const queued = timing.add(1, 2);
      const settled = Promise.allSettled([slow, queued]);
      await shutdown();
      const [, queuedOutcome] = await settled;
      expect(queuedOutcome.status).toBe("rejected");
      expectBridgeError((queuedOutcome as PromiseRejectedResult).reason, "ESEM_SHUTDOWN");
      const math = await python("math");
      expect(await math.sqrt(4)).toBe(2);
    } finally {
      await shutdown();
    }
  });
});

describe("the native process integration", () => {
  const reason = skipReason("native");
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }

  beforeAll(requireDist);

  it("sends Python's print() output to Node's stdout at once, in order, even without a newline", async () => {
    // Invariant: the embedded interpreter is never finalized, so its streams must not buffer.
    const env = { ...process.env };
    delete env.PYTHONUNBUFFERED;
    const result = await runNode(childScript("print-and-signal.mjs"), [fixturesDir, "print"], 20_000, { env });
    expect(result.code, describeChild(result)).toBe(0);
    expect(result.stdout).toBe("first line\nfrom node\nno newline at the end");
  });

  it("leaves Ctrl-C to Node: SIGINT ends the process as if Python were not there", async () => {
    const result = await runNode(childScript("print-and-signal.mjs"), [fixturesDir, "sigint"]);
    expect(result.signal, describeChild(result)).toBe("SIGINT");
    expect(result.stdout).not.toContain("still alive");
  });

  it("releases the Python objects of proxies that JS garbage-collected", async () => {
    const result = await runNode(childScript("gc-release.mjs"), [fixturesDir], 30_000, { nodeArgs: ["--expose-gc"] });
    expect(result.code, describeChild(result)).toBe(0);
    const [before, after] = result.stdout.trim().split("\n").map(Number);
    expect(before).toBeGreaterThan(1000);
    expect(after).toBeLessThan(100);
  });
});
