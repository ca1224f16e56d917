// Imports are atomic per module (issue 7, defect 7): bridges importing the
// same .py file at once all get the finished module, never one that is
// still running its top level.
import { describe, expect, it } from "vitest";
import { createBridge } from "../src/index.ts";
import { fixture, skipReason } from "./helpers.ts";

describe.skipIf(skipReason("native"))("two native bridges importing one slow file at once", () => {
  it("both see the name the file defines after its 0.3 s sleep", async () => {
    const bridges = [createBridge({ mode: "native" }), createBridge({ mode: "native" })];
    try {
      await Promise.all(bridges.map((b) => b.start()));
      const spec = fixture("slow_import", "slow_defs.py");
      const modules = await Promise.all(bridges.map((b) => b.python(spec)));
      // A proxy's keys are the names the module had when python() returned.
      expect(modules.map((m) => Object.keys(m).includes("DEFINED"))).toEqual([true, true]);
      const seen = await Promise.all(modules.map((m) => (m as { DEFINED: Promise<string> }).DEFINED));
      expect(seen).toEqual(["defined after the sleep", "defined after the sleep"]);
    } finally {
      await Promise.all(bridges.map((b) => b.shutdown()));
    }
  });
});
