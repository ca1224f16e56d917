// Subprocess faults (SPEC §5): a worker that dies rejects its pending calls
// with ESEM_WORKER_EXITED (exit code or signal, last stderr lines), and the
// next call starts a new worker; module proxies keep working, object
// proxies of the dead worker do not; shutdown leaves no process; Node's
// exit, however it happens, leaves no orphan worker.
import { describe, expect, it } from "vitest";
import { createBridge } from "../src/index.ts";
import { childScript, expectBridgeError, fixture, rejectionOf, runNode, skipReason, withBridge } from "./helpers.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !alive(pid);
}

const reason = skipReason("subprocess");

describe.skipIf(reason !== null)("a subprocess worker that dies", () => {
  it("rejects every pending call with the exit code and its last stderr lines, then restarts on the next call", async () => {
    await withBridge("subprocess", async (bridge) => {
      const faults = await bridge.python(fixture("faults.py"));
      const thing = await faults.Thing();
      const first = await faults.pid();
      // The worker runs calls in order: the one queued behind the dying call
      // is pending when the worker exits.
      const dying = rejectionOf(faults.die(3, "disk on fire"));
      const slow = rejectionOf(faults.sleep(5));
      for (const p of [dying, slow]) {
        const error = expectBridgeError(await p, "ESEM_WORKER_EXITED");
        expect(error.message).toContain("exited with code 3");
        expect(error.message).toContain("disk on fire");
      }
      expect(await faults.pid()).not.toBe(first); // a new worker, the module loaded again
      expectBridgeError(await rejectionOf(thing.value()), "ESEM_WORKER_EXITED");
      expect(await (await faults.Thing()).value()).toBe(42);
    });
  });

  it("loads a module proxy again when it is only passed as an argument after the worker died", async () => {
    await withBridge("subprocess", async (bridge) => {
      const faults = await bridge.python(fixture("faults.py"));
      const builtins = await bridge.python("builtins");
      await rejectionOf(faults.die(4));
      // Neither module has been called since: both reload on this call.
      expect(await builtins.callable(faults.pid)).toBe(true);
      expect(await builtins.hasattr(faults, "segfault")).toBe(true);
    });
  });

  it("says which signal killed it when a C extension crashes", async () => {
    await withBridge("subprocess", async (bridge) => {
      const faults = await bridge.python(fixture("faults.py"));
      const error = expectBridgeError(await rejectionOf(faults.segfault()), "ESEM_WORKER_EXITED");
      expect(error.message).toContain("killed by SIGSEGV");
      expect(await faults.sleep(0)).toBe(0);
    });
  });

  it("rejects the pending calls when the worker is killed from outside", async () => {
    await withBridge("subprocess", async (bridge) => {
      const faults = await bridge.python(fixture("faults.py"));
      const pid = await faults.pid();
      const slow = rejectionOf(faults.sleep(5));
      process.kill(pid, "SIGKILL");
      const error = expectBridgeError(await slow, "ESEM_WORKER_EXITED");
      expect(error.message).toContain("SIGKILL");
      expect(typeof (await faults.pid())).toBe("number");
    });
  });

  it("shutdown() rejects pending calls with ESEM_SHUTDOWN and leaves no process behind", async () => {
    const bridge = createBridge({ mode: "subprocess" });
    const faults = await bridge.python(fixture("faults.py"));
    const pid = await faults.pid();
    const slow = rejectionOf(faults.sleep(5)); // handled before shutdown rejects it
    await bridge.shutdown();
    expectBridgeError(await slow, "ESEM_SHUTDOWN");
    expect(await gone(pid)).toBe(true);
  });
});

describe.skipIf(reason !== null)("Node's end leaves no orphan worker", () => {
  it.each(["exit", "throw", "sigterm"])("when Node ends by %s during a long Python call", async (how) => {
    const result = await runNode(childScript("worker-orphan.mjs"), [fixture(), how]);
    const pid = Number(result.stdout.trim().split("\n")[0]);
    expect(pid, result.stderr).toBeGreaterThan(0);
    expect(await gone(pid)).toBe(true);
  });
});
