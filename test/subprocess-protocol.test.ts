// A malformed frame from the worker (issue 7, defects 6 and 9): never an
// exception in Node's socket handler, never a hang. The pending calls
// reject with ESEM_PROTOCOL naming the problem, that worker is stopped, and
// the next call starts a new one. Run in a child: before the fix these
// crashed Node or hung it.
import { describe, expect, it } from "vitest";
import { childScript, fixture, runNode, skipReason } from "./helpers.ts";

interface Outcome {
  value?: unknown;
  code?: string;
  message?: string;
}

describe.skipIf(skipReason("subprocess"))("malformed frames from the Python worker", async () => {
  const cases = new Map<string, { call: Outcome; behind: Outcome; newWorker: boolean }>();
  let stderr = "";
  const run = async () => {
    if (cases.size) return;
    const result = await runNode(childScript("subprocess-protocol.mjs"), [fixture()], 20_000);
    stderr = `code ${result.code}, signal ${result.signal}, timed out ${result.timedOut}\n${result.stderr}`;
    for (const line of result.stdout.trim().split("\n").filter(Boolean)) {
      const parsed = JSON.parse(line);
      cases.set(parsed.name, parsed);
    }
    expect(result.code, stderr).toBe(0);
  };

  it.each([
    ["short_frame", /2-byte payload is shorter than its 5-byte header/],
    ["unknown_status", /unknown reply status 255/],
    ["wrong_seq", /reply to call #4294967280.*expected #\d+/],
    ["huge_length", /payload length of 4294967295 bytes is over the/],
  ])("%s: rejects the pending calls with ESEM_PROTOCOL and the next call gets a new worker", async (name, problem) => {
    await run();
    const found = cases.get(name);
    expect(found, stderr).toBeDefined();
    expect(found!.call.code).toBe("ESEM_PROTOCOL");
    expect(found!.call.message).toMatch(problem);
    expect(found!.behind.code).toBe("ESEM_PROTOCOL");
    expect(found!.newWorker).toBe(true);
  });
});
