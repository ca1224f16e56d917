// The cold lane over a process's life (src/json-lane.ts): large plain
// arguments travel as JSON until the process has sent 1 MiB of it, or one
// message too large for the lane, then in the wire format for good (each
// way on its own); ESEM_JSON_LANE=0 leaves the lane shut. Seen through
// JSON.stringify and JSON.parse, which only the lane's values go through;
// a getter in an argument runs once whichever form it takes. Values are the
// same either way (test/golden-json-lane.test.ts).
import { describe, expect, it } from "vitest";
import { BACKENDS, childScript, runNode, skipReason, timeLimit } from "./helpers.ts";

// In the subprocess mode the worker keeps the results' side of the lane
// (native/wire_module.cc): its results of JSON text count against it, and
// the same rules close it.
describe.each(BACKENDS)("the cold lane on the %s backend", (mode) => {
  if (skipReason(mode)) {
    it.skip(`is not tested: ${skipReason(mode)}`, () => {});
    return;
  }

  it("carries large arguments as JSON for the first 1 MiB, then closes", async () => {
    const child = await runNode(childScript("json-lane.mjs"), ["2", mode], timeLimit(30_000));
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout.trim())).toEqual({ before: 1, after: 0, parsedBefore: 1, parsedAfter: 1, intact: true, getterRuns: 1 });
  });

  it("closes at one argument of more than 32 768 values", async () => {
    const child = await runNode(childScript("json-lane.mjs"), ["argument", mode], timeLimit(30_000));
    expect(child.stderr).toBe("");
    // Only the sending side: it warmed the encoder, not the decoder.
    expect(JSON.parse(child.stdout.trim())).toEqual({ before: 1, after: 0, parsedBefore: 1, parsedAfter: 1, intact: true, getterRuns: 1 });
  });

  it("closes at one argument of records whose first, times their count, is more than 32 768 values, without reading the rest", async () => {
    const child = await runNode(childScript("json-lane.mjs"), ["records", mode], timeLimit(30_000));
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout.trim())).toEqual({ before: 1, after: 0, parsedBefore: 1, parsedAfter: 1, intact: true, getterRuns: 1 });
  });

  it("closes at one result of more than 256 KiB of JSON", async () => {
    const child = await runNode(childScript("json-lane.mjs"), ["result", mode], timeLimit(30_000));
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout.trim())).toEqual({ before: 1, after: 1, parsedBefore: 1, parsedAfter: 0, intact: true, getterRuns: 1 });
  });

  it("stays open past a large message with ESEM_JSON_LANE=always", async () => {
    const child = await runNode(childScript("json-lane.mjs"), ["result", mode], timeLimit(30_000), {
      env: { ...process.env, ESEM_JSON_LANE: "always" },
    });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout.trim())).toEqual({ before: 1, after: 1, parsedBefore: 1, parsedAfter: 1, intact: true, getterRuns: 1 });
  });

  it("stays shut with ESEM_JSON_LANE=0", async () => {
    const child = await runNode(childScript("json-lane.mjs"), ["0", mode], timeLimit(30_000), {
      env: { ...process.env, ESEM_JSON_LANE: "0" },
    });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout.trim())).toEqual({ before: 0, after: 0, parsedBefore: 0, parsedAfter: 0, intact: true, getterRuns: 1 });
  });
});
