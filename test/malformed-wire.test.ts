// Native wire decoder (issue 7, defect 6): every length and count read from
// a payload is checked before anything is allocated, so a malformed payload
// rejects that call with a clear ESEM_INTERNAL and the bridge keeps working.
// JS's own encoder never makes such payloads: the child script hands them
// to the addon's callWire directly. It runs in a child process because a
// failure here used to abort Node (std::bad_alloc on the Python thread).
import { describe, expect, it } from "vitest";
import { childScript, runNode, skipReason } from "./helpers.ts";

const reason = skipReason("native");

describe.skipIf(reason !== null)("a malformed wire payload in native mode", () => {
  it("rejects only that call with a clear BridgeError, whatever length or count lies, and the next call works", async () => {
    const child = await runNode(childScript("malformed-wire.mjs"), [], 60_000);
    expect(child.stderr).toBe("");
    expect(child.signal).toBeNull();
    expect(child.code).toBe(0);
    const lines = new Map(
      child.stdout
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)]),
    );
    // An ESEM_INTERNAL message ends by saying what to do with it.
    const rejected = (code: string, message: string) =>
      `BridgeError ${code} ${message}${code === "ESEM_INTERNAL" ? " (a bug in esem-bridge: please report it, with the call that caused it)" : ""}`;
    const malformed = (what: string) => rejected("ESEM_INTERNAL", `malformed wire data: ${what}`);
    expect(Object.fromEntries(lines)).toEqual({
      "ref-path-count": malformed("a count of 4294967295 at byte 14 is more than the 1 bytes left can hold"),
      "ref-id-nan": malformed("a proxy id that is not a registry id"),
      "list-count": malformed("a count of 4294967295 at byte 1 is more than the 1 bytes left can hold"),
      "dict-count": malformed("a count of 2147483647 at byte 6 is more than the 1 bytes left can hold"),
      "map-count": malformed("a count of 2147483648 at byte 6 is more than the 1 bytes left can hold"),
      "str-length": malformed("a string at byte 10 needs 4294967280 bytes, 2 left"),
      "str16-length": malformed("a UTF-16 string at byte 10 needs 8589934590 bytes, 2 left"),
      "bytes-length": malformed("a string at byte 10 needs 4294967294 bytes, 0 left"),
      "side-index": malformed("side buffer 3 at byte 14 of 0"),
      "typed-length": malformed("a string at byte 11 needs 2147483647 bytes, 0 left"),
      "key-ref": malformed("key reference 5 at byte 10 names none of the 0 keys read so far"),
      "bigint-digits": malformed("a bigint at byte 5 that is not hex digits"),
      "unknown-tag": malformed("unknown tag 99 at byte 5"),
      "json-length": malformed("JSON text at byte 10 needs 4294967280 bytes, 2 left"),
      "json-text": malformed("malformed JSON text at byte 10: an unexpected character"),
      "json-trailing": malformed("malformed JSON text at byte 10: text after the value"),
      truncated: malformed("a number at byte 6 needs 8 bytes, 2 left"),
      deep: malformed("nested more than 256 levels deep"),
      empty: rejected("ESEM_INTERNAL", "malformed wire arguments"),
      alive: "3",
    });
  });
});
