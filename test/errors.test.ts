// Errors (SPEC §4, §9): what the user did, what they see, and that the
// bridge still works afterwards. The same cases on every backend.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createBridge, PythonError, BridgeError } from "../src/index.ts";
import {
  BACKENDS,
  skipReason,
  fixture,
  rejectionOf,
  expectBridgeError,
  expectPythonError,
} from "./helpers.ts";

describe.each(BACKENDS)("errors on the %s backend", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`are not tested: ${reason}`, () => {});
    return;
  }

  let bridge: ReturnType<typeof createBridge>;
  let e: any;

  beforeAll(async () => {
    bridge = createBridge({ mode });
    e = await bridge.python(fixture("errors_fixture.py"));
  });

  afterAll(async () => {
    await bridge?.shutdown();
  });

  describe("Python exceptions", () => {
    it("keeps a message that holds a lone surrogate (an attribute name that is not valid UTF-8)", async () => {
      const builtins = (await bridge.python("builtins")) as any;
      const error = expectPythonError(await rejectionOf(builtins.getattr(builtins, "x\ud800y")), "AttributeError");
      expect(error.message).toMatch(/x(\\ud800|\ud800)y/);
      expect(await e.ok(2)).toBe(2);
    });

    it("rejects a call that raises ValueError with a PythonError carrying type, message and traceback", async () => {
      const error = expectPythonError(await rejectionOf(e.raise_value_error("bad input")), "ValueError");
      expect(error.message).toBe("bad input");
      expect(error.pythonTraceback).toContain("Traceback");
      expect(error.pythonTraceback).toContain("raise_value_error");
      expect(error.pythonTraceback).toContain("ValueError: bad input");
      expect(await e.ok(1)).toBe(1);
    });

    it("gives a custom exception's type as module.Qualname", async () => {
      const error = await rejectionOf(e.raise_custom("custom message"));
      expect(error).toBeInstanceOf(PythonError);
      expect(error).toBeInstanceOf(Error);
      const pyError = error as PythonError;
      expect(pyError.pythonType).toMatch(/^[\w.]+\.CustomError$/);
      expect(pyError.name).toMatch(/^PythonError\(.*CustomError\)$/);
      expect(pyError.message).toBe("custom message");
      expect(pyError.pythonTraceback).toContain("raise_custom");
      expect(await e.ok(2)).toBe(2);
    });

    it("gives a nested exception class its qualified name after the module", async () => {
      const error = await rejectionOf(e.raise_nested());
      expect(error).toBeInstanceOf(PythonError);
      expect((error as PythonError).pythonType).toMatch(/^[\w.]+\.Outer\.Inner$/);
      expect((error as PythonError).message).toBe("nested class");
      expect(await e.ok(3)).toBe(3);
    });

    it("names a standard library exception by its full module path", async () => {
      const json = await bridge.python("json");
      const error = await rejectionOf(json.loads("{"));
      expect(error).toBeInstanceOf(PythonError);
      expect((error as PythonError).pythonType).toBe("json.decoder.JSONDecodeError");
      expect((error as PythonError).name).toBe("PythonError(json.decoder.JSONDecodeError)");
      expect(await json.loads("[1]")).toEqual([1]);
    });

    it("includes the chained cause in the traceback of `raise ... from ...`", async () => {
      const error = expectPythonError(await rejectionOf(e.raise_chained()), "RuntimeError");
      expect(error.message).toBe("outer failure");
      const tb = error.pythonTraceback;
      expect(tb).toContain("KeyError");
      expect(tb).toContain("inner cause");
      expect(tb).toContain("_inner_failure");
      expect(tb).toContain("direct cause");
      expect(tb).toContain("raise_chained");
      expect(tb.indexOf("KeyError")).toBeLessThan(tb.indexOf("RuntimeError: outer failure"));
      expect(await e.ok(4)).toBe(4);
    });

    it("rejects a failing method call on an object proxy, and the object stays usable", async () => {
      const broken = await e.Broken();
      const error = expectPythonError(await rejectionOf(broken.explode()), "ValueError");
      expect(error.message).toBe("method exploded");
      expect(error.pythonTraceback).toContain("explode");
      const again = expectPythonError(await rejectionOf(broken.explode()), "ValueError");
      expect(again.message).toBe("method exploded");
      await broken.release();
    });

    it("keeps the caller's JS stack, not only the bridge's internals", async () => {
      // The function awaits the call, as user code does; V8's async stack
      // trace then names it.
      async function callerFunctionForStack() {
        await e.raise_value_error("stack check");
      }
      const error = (await rejectionOf(callerFunctionForStack())) as Error;
      expect(error.stack ?? "").toContain("PythonError");
      expect(error.stack ?? "").toContain("callerFunctionForStack");
      expect(error.stack ?? "").toMatch(/errors\.test\.ts/);
    });
  });

  describe("SystemExit and KeyboardInterrupt", () => {
    // Invariant: exceptions that would end a Python program only end the call.

    it("rejects a call that raises SystemExit, and the process keeps working", async () => {
      const error = expectPythonError(await rejectionOf(e.raise_system_exit(3)), "SystemExit");
      expect(error.message).toBe("3");
      expect(await e.ok(5)).toBe(5);
      const math = await bridge.python("math");
      expect(await math.sqrt(9)).toBe(3);
    });

    it("rejects a call that raises KeyboardInterrupt, and the process keeps working", async () => {
      expectPythonError(await rejectionOf(e.raise_keyboard_interrupt()), "KeyboardInterrupt");
      expect(await e.ok(6)).toBe(6);
    });
  });

  describe("results that cannot be converted", () => {
    // Invariant: a failure while converting a result rejects that call alone.

    it("rejects only the call whose result is a released memoryview", async () => {
      const [before, bad, after] = await Promise.allSettled([
        e.ok("before"),
        e.released_memoryview(),
        e.ok("after"),
      ]);
      expect(before).toEqual({ status: "fulfilled", value: "before" });
      expect(after).toEqual({ status: "fulfilled", value: "after" });
      expect(bad.status).toBe("rejected");
      const error = (bad as PromiseRejectedResult).reason;
      expectPythonError(error, "ValueError");
      expect((error as PythonError).message).toContain("released");
      expect(await e.ok(7)).toBe(7);
    });

    it("rejects only the call whose datetime result cannot give its UTC offset", async () => {
      const [bad, after] = await Promise.allSettled([e.bad_datetime(), e.ok("after")]);
      expect(after).toEqual({ status: "fulfilled", value: "after" });
      expect(bad.status).toBe("rejected");
      const error = (bad as PromiseRejectedResult).reason;
      expectPythonError(error, "RuntimeError");
      expect((error as PythonError).message).toBe("offset unavailable");
      expect(await e.ok(8)).toBe(8);
    });
  });

  describe("bridge errors", () => {
    it("does not throw from createBridge with a missing interpreter, and the first python() rejects with ESEM_NO_PYTHON naming it", async () => {
      const missing = "/nonexistent/python3";
      const bad = createBridge({ mode, python: missing });
      try {
        const error = expectBridgeError(await rejectionOf(bad.python("math")), "ESEM_NO_PYTHON");
        expect(error.message).toContain(missing);
        // Not started, and info() says why.
        expect(bad.info()).toMatchObject({ mode: null, python: null, reason: error.message });
        expectBridgeError(await rejectionOf(bad.start()), "ESEM_NO_PYTHON");
      } finally {
        await bad.shutdown();
      }
      expect(await e.ok(9)).toBe(9);
    });

    it("rejects again with ESEM_NO_PYTHON on a second python() with the missing interpreter", async () => {
      const bad = createBridge({ mode, python: "/nonexistent/python3" });
      try {
        expectBridgeError(await rejectionOf(bad.python("math")), "ESEM_NO_PYTHON");
        expectBridgeError(await rejectionOf(bad.python("json")), "ESEM_NO_PYTHON");
      } finally {
        await bad.shutdown();
      }
    });

    it("rejects an import of a missing module with a PythonError of ModuleNotFoundError", async () => {
      const error = expectPythonError(
        await rejectionOf(bridge.python("esem_no_such_module_xyz")),
        "ModuleNotFoundError",
      );
      expect(error.message).toContain("esem_no_such_module_xyz");
      expect(await e.ok(10)).toBe(10);
    });

    it("exports BridgeError and PythonError as distinct Error subclasses", () => {
      expect(BridgeError.prototype).toBeInstanceOf(Error);
      expect(PythonError.prototype).toBeInstanceOf(Error);
      expect(BridgeError.prototype instanceof PythonError).toBe(false);
      expect(PythonError.prototype instanceof BridgeError).toBe(false);
    });
  });
});
