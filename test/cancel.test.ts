// Cancellation and timeouts (docs/concurrency.md#cancellation), both modes:
// opts({ signal, timeout }) rejects the call at once with an AbortError or
// TimeoutError; a queued call never runs, a running pure-Python one gets
// CallCancelled at its next bytecode, a coroutine is cancelled; the bridge
// keeps working. And shutdown({ timeout, force }). Limits are generous (a
// loaded 2-core machine), but "within 100 ms" is checked as "the next
// call answers well before the spin could have ended by itself".
import { describe, expect, it } from "vitest";
import { BridgeError, createBridge, opts } from "../src/index.ts";
import { BACKENDS, fixture, skipReason, withBridge } from "./helpers.ts";

const codeOf = (e: unknown) => (e as { code?: string }).code;

describe.each(BACKENDS)("cancellation on the %s backend", (mode) => {
  const skip = skipReason(mode);

  it.skipIf(skip)("stops a running while True: pass on a timeout, and the bridge keeps working", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      await c.clear();
      const start = performance.now();
      const error = await c.spin("timeout", opts({ timeout: 150 })).catch((e: unknown) => e);
      const rejectedAfter = performance.now() - start;
      expect(error).toBeInstanceOf(BridgeError);
      expect(error.name).toBe("TimeoutError");
      expect(codeOf(error)).toBe("ESEM_TIMEOUT");
      expect(rejectedAfter).toBeLessThan(1000);
      // The worker (or Python thread) is free again: the spin ended.
      const next = performance.now();
      expect(await c.plain(7)).toBe(7);
      expect(performance.now() - next).toBeLessThan(1000);
      expect(await c.get_marks()).toEqual(["timeout:cancelled"]);
    });
  });

  it.skipIf(skip)("lets go of what the late error of a cancelled call holds (its exception objects reach nobody)", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      for (let i = 0; i < 3; i++) {
        const error = await c.spin_then_raise_held(opts({ timeout: 50 })).catch((e: unknown) => e);
        expect(codeOf(error)).toBe("ESEM_TIMEOUT");
      }
      // The raised HeldErrors came back after their calls were settled.
      let live = -1;
      for (let i = 0; i < 40 && live !== 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
        live = await c.held_live();
      }
      expect(live).toBe(0);
    });
  });

  it.skipIf(skip)("still knows a type first described by the late reply of a cancelled call", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      const error = await c.spin_then_return_fresh(opts({ timeout: 50 })).catch((e: unknown) => e);
      expect(codeOf(error)).toBe("ESEM_TIMEOUT");
      await new Promise((r) => setTimeout(r, 200)); // the late reply has come and gone
      const fresh = await c.make_fresh();
      expect(await fresh.value()).toBe("fresh");
    });
  });

  it.skipIf(skip)("rejects at once with an AbortError when the signal aborts, and the spin stops promptly", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      await c.clear();
      const controller = new AbortController();
      const call = c.spin("signal", opts({ signal: controller.signal }));
      await new Promise((r) => setTimeout(r, 100));
      const reason = new Error("user gave up");
      const abortedAt = performance.now();
      controller.abort(reason);
      const error = await call.catch((e: unknown) => e);
      expect(performance.now() - abortedAt).toBeLessThan(50); // at once, not when Python stops
      expect(error.name).toBe("AbortError");
      expect(codeOf(error)).toBe("ESEM_ABORTED");
      expect(error.cause).toBe(reason);
      expect(await c.plain(1)).toBe(1);
      expect(performance.now() - abortedAt).toBeLessThan(1000);
      expect(await c.get_marks()).toEqual(["signal:cancelled"]);
    });
  });

  it.skipIf(skip)("never runs a call cancelled while it was still queued", async () => {
    // One thread: the queued call stays queued (with spares, one would take
    // it once the running call has been stuck for 200 µs).
    const bridge = createBridge({ mode, threads: 1 });
    try {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      await c.clear();
      const controller = new AbortController();
      const running = c.sleep(0.3, "first");
      const queued = c.mark("queued", opts({ signal: controller.signal }));
      controller.abort();
      expect(codeOf(await queued.catch((e: unknown) => e))).toBe("ESEM_ABORTED");
      expect(await running).toBe(0.3);
      expect(await c.mark("after")).toBe("after");
      expect(await c.get_marks()).toEqual(["first", "after"]);
    } finally {
      await bridge.shutdown();
    }
  });

  it.skipIf(skip)("never runs a call cancelled in the middle of a burst, and runs the rest in order", async () => {
    // In native mode the calls of a burst wait in the bridge's outbox before
    // the host's queue (native/bridge.cc, Submit): a cancel finds them in either.
    const bridge = createBridge({ mode, threads: 1 });
    try {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      await c.clear();
      const controller = new AbortController();
      const running = c.sleep(0.2, "first"); // holds the one thread: the burst waits
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 300; i++) calls.push(i === 150 ? c.mark(`m${i}`, opts({ signal: controller.signal })) : c.mark(`m${i}`));
      controller.abort();
      const outcomes = await Promise.all(calls.map((p) => p.then(() => "ok", (e: unknown) => codeOf(e))));
      expect(outcomes[150]).toBe("ESEM_ABORTED");
      expect(outcomes.filter((o) => o === "ok")).toHaveLength(299);
      expect(await running).toBe(0.2);
      const expected = Array.from({ length: 300 }, (_, i) => `m${i}`).filter((_, i) => i !== 150);
      expect(await c.get_marks()).toEqual(["first", ...expected]);
      expect(await c.plain(1)).toBe(1);
    } finally {
      await bridge.shutdown();
    }
  });

  it.skipIf(skip)("rejects at once, sending nothing, when the signal has already aborted", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      await c.clear();
      const error = await c.mark("never", opts({ signal: AbortSignal.abort() })).catch((e: unknown) => e);
      expect(codeOf(error)).toBe("ESEM_ABORTED");
      expect(await c.get_marks()).toEqual([]);
    });
  });

  it.skipIf(skip)("cancels a coroutine call (CancelledError inside it)", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      await c.clear();
      const error = await c.watched_sleep(5, opts({ timeout: 100 })).catch((e: unknown) => e);
      expect(codeOf(error)).toBe("ESEM_TIMEOUT");
      for (let i = 0; i < 50 && (await c.get_marks()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await c.get_marks()).toEqual(["coroutine:cancelled"]);
    });
  });

  it.skipIf(skip)("resolves a call that ends before its timeout as usual", async () => {
    await withBridge(mode, async (bridge) => {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      const controller = new AbortController();
      expect(await c.plain(3, opts({ timeout: 5000, signal: controller.signal }))).toBe(3);
      controller.abort(); // after the end: nothing happens
      expect(await c.plain(4)).toBe(4);
    });
  });

  it.skipIf(skip)("shutdown({ timeout }) does not wait for a long call past its timeout", async () => {
    const bridge = createBridge({ mode });
    const c = (await bridge.python(fixture("cancel.py"))) as any;
    const pending = c.sleep(5).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const start = performance.now();
    await bridge.shutdown({ timeout: 200 });
    expect(performance.now() - start).toBeLessThan(2000);
    expect(codeOf(await pending)).toBe("ESEM_SHUTDOWN");
  });
});

describe.skipIf(skipReason("subprocess"))("cancellation specifics of the subprocess worker", () => {
  it("interrupts a time.sleep in the worker (the cancel signal ends the sleep)", async () => {
    await withBridge("subprocess", async (bridge) => {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      await c.clear();
      const error = await c.sleep(10, "long", opts({ timeout: 100 })).catch((e: unknown) => e);
      expect(codeOf(error)).toBe("ESEM_TIMEOUT");
      const start = performance.now();
      expect(await c.plain(2)).toBe(2);
      expect(performance.now() - start).toBeLessThan(2000);
      expect(await c.get_marks()).toEqual(["long:cancelled"]);
    });
  });

  it("restartStuckWorker restarts a worker whose cancelled call is stuck in C code", async () => {
    const bridge = createBridge({ mode: "subprocess", restartStuckWorker: 300 });
    try {
      const c = (await bridge.python(fixture("cancel.py"))) as any;
      const stuck = c.stuck_in_c(opts({ timeout: 100 })).catch((e: unknown) => e);
      const behind = c.plain(1).catch((e: unknown) => e);
      expect(codeOf(await stuck)).toBe("ESEM_TIMEOUT");
      const lost = await behind;
      expect(codeOf(lost)).toBe("ESEM_WORKER_EXITED");
      expect(lost.message).toMatch(/restarted because a cancelled call had not ended 300 ms/);
      expect(await c.plain(5)).toBe(5); // a new worker (the module proxy reloads)
    } finally {
      await bridge.shutdown({ force: true });
    }
  });

  it("shutdown({ force: true }) kills a worker stuck in C code at once", async () => {
    const bridge = createBridge({ mode: "subprocess" });
    const c = (await bridge.python(fixture("cancel.py"))) as any;
    const pending = c.stuck_in_c().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const start = performance.now();
    await bridge.shutdown({ force: true });
    expect(performance.now() - start).toBeLessThan(1000);
    expect(codeOf(await pending)).toBe("ESEM_SHUTDOWN");
  });
});
