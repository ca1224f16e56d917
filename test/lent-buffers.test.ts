// Python memory lent to JS (native mode; docs/types.md "Copies and shared
// memory"): a large result is a view over the Python object's memory, which
// stays alive while JS holds the view and is released after JS collects it,
// also when the worker_thread holding it is terminated. Real GC in a child.
import { describe, expect, it } from "vitest";
import { childScript, fixture, runNode, skipReason } from "./helpers.ts";

describe.skipIf(skipReason("native"))("Python buffers lent to JS", () => {
  it("live while JS holds them, shared both ways, released after GC and after a terminated worker", async () => {
    const child = await runNode(childScript("lent-buffers.mjs"), [fixture()], 60_000, { nodeArgs: ["--expose-gc"] });
    expect({ code: child.code, signal: child.signal }, child.stderr.slice(-2000)).toEqual({ code: 0, signal: null });
    expect(JSON.parse(child.stdout.trim().split("\n").at(-1)!)).toEqual({
      arrayKind: "Float64Array",
      aliveWhileHeld: 1,
      aliveAfterGcWhileHeld: true,
      freedAfterJsDropped: true,
      pythonWriteSeen: true,
      jsWriteSeen: true,
      resizeWhileHeld: "BufferError",
      resizeAfterDrop: true,
      aliveInWorker: [1, 1], // as the worker and the main thread see it
      freedAfterWorkerEnded: true,
    });
  }, 90_000);
});
