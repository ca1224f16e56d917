// A getter in an argument that itself calls Python (issue 7, defect 9): the
// encoding is re-entrant, the nested call is sent whole, and every call
// settles. Run in a child with a timeout: before the fix, both hung forever.
import { describe, expect, it } from "vitest";
import { childScript, fixture, runNode, skipReason } from "./helpers.ts";

describe.skipIf(skipReason("subprocess"))("a getter that calls Python while its argument is encoded (subprocess)", () => {
  it("settles the outer and the nested calls, each with its own result", async () => {
    const result = await runNode(childScript("subprocess-reentrant.mjs"), [fixture()], 20_000);
    expect(result.timedOut, result.stderr).toBe(false);
    expect(result.code, result.stderr).toBe(0);
    const seen = JSON.parse(result.stdout);
    expect(seen.outer).toEqual({ value: { a: 1, x: 2, b: 3 } });
    expect(seen.deep).toEqual({ value: { y: "y" } });
    // A Promise is not a value Python can take (SPEC §3): that call rejects, the nested one runs.
    expect(seen.promised).toEqual({ code: "ESEM_UNSUPPORTED_VALUE" });
    expect(seen.nested).toEqual([{ value: "inner" }, { value: "deepest" }, { value: { z: "z" } }, { value: "from p" }]);
    expect(seen.after).toEqual({ value: "after" });
  });
});
