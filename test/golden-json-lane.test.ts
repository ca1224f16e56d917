// The cold lane (src/json-lane.ts, native/py_json_*.cc) against the golden
// fixtures (test/golden/values.json): every JS -> Python case the lane takes
// reaches Python as the case's Python value, and every Python -> JS case the
// C++ JSON writer takes parses to the case's JS value, types included. So a
// value means the same whichever form it travelled in. The cases the lane
// leaves to the wire format (bigints, -0, NaN, bytes, Maps, ...) are named,
// so a change in what the lane takes shows here. The addon is driven
// directly, as in test/golden-native.test.ts.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonArguments } from "../src/json-lane.ts";
import type { NativeBridge } from "../src/native-binding.ts";
import { build, sameValue } from "./golden/forms.ts";
import { startRawBridge } from "./golden/raw-bridge.ts";
import { skipReason } from "./helpers.ts";

interface Case {
  name: string;
  dir: "js-to-py" | "py-to-js";
  readOnly?: boolean;
  hex: string;
  js: never;
}
const cases: Case[] = JSON.parse(readFileSync(new URL("./golden/values.json", import.meta.url), "utf8"));
const indexed = cases.map((c, index) => ({ ...c, index })).filter((c) => !JSON.stringify(c.js).includes('"$ref"'));

/** The lane's JSON text for [value, index] padded past the lane's minimum size, or undefined when the lane leaves it. */
function laneText(value: unknown, index: number): string | undefined {
  const padding = Array.from({ length: 64 }, (_, i) => `p${i}`); // strings: a list of numbers would be packed by wire, not sent as JSON
  return jsonArguments([value, index, padding], undefined);
}

describe.skipIf(skipReason("native"))("the golden fixtures through the JSON lane", () => {
  let native: NativeBridge;
  let module: number;
  let received: unknown;

  beforeAll(async () => {
    ({ native, module } = await startRawBridge((result) => {
      received = result;
    }));
  });
  afterAll(() => native?.shutdown());

  const toPy = indexed.filter((c) => c.dir === "js-to-py");
  const toJs = indexed.filter((c) => c.dir === "py-to-js" && !c.readOnly);

  it("takes the plain JSON cases both ways and leaves the others to the wire format", async () => {
    const sent = toPy.filter((c) => laneText(build(c.js), c.index) !== undefined).map((c) => c.name);
    expect(sent.length).toBeGreaterThan(20);
    const left = toPy.filter((c) => laneText(build(c.js), c.index) === undefined).map((c) => c.name);
    for (const name of ["negative zero", "NaN", "Infinity", "bytes", "undefined is None"]) {
      expect(left).toContain(name);
    }
    // Lists the wire format packs (16 numbers or more, nested or not) are faster by wire even cold.
    expect(laneText(Array.from({ length: 16 }, (_, i) => i + 0.5), 0)).toBeUndefined();
    expect(laneText([{ embedding: Array.from({ length: 20 }, (_, i) => i) }], 0)).toBeUndefined();
    expect(laneText(Array.from({ length: 15 }, (_, i) => i + 0.5), 0)).toBeDefined();
    native.jsonResults(2 ** 20);
    const parsed: string[] = [];
    for (const c of toJs) {
      received = undefined;
      await native.call(module, "make", [c.index]);
      if (typeof received === "string") parsed.push(c.name);
    }
    expect(parsed.length).toBeGreaterThan(20);
    expect(parsed).toContain("ASCII string");
    expect(parsed).not.toContain("lone high surrogate");
    expect(parsed).not.toContain("i64 max");
  });

  const taken = toPy.flatMap((c) => {
    const text = laneText(build(c.js), c.index);
    return text === undefined ? [] : [[c.name, text] as const];
  });
  it.each(taken)("reads %s as its Python value", async (_name, text) => {
    expect(await native.callWire(module, "check_decoded", text, undefined)).toBe("");
  });

  it.each(toJs.map((c) => [c.name, c] as const))("writes %s as JSON of its JS value, or else as its bytes", async (_name, c) => {
    native.jsonResults(2 ** 20);
    received = undefined;
    await native.call(module, "make", [c.index]);
    if (typeof received === "string") {
      const [value] = JSON.parse(received) as unknown[];
      expect(sameValue(value, build(c.js))).toBeNull();
    } else {
      // Left to the wire format: the one-item list, then exactly the case's bytes.
      expect(Buffer.from(received as Uint8Array).subarray(5).toString("hex")).toBe(c.hex);
    }
  });

  it("rejects malformed JSON arguments with ESEM_INTERNAL, that call only", async () => {
    const bad = ["", "[", "[[1,2]", "[[1],{]", '[["abc],null]', '[["\\q"],null]', "[[1e],null]", "[[-],null]", "[[tru],null]",
      "[{},null]", "[[1],[2]]", "[[1],null]x", '[[{"a" 1}],null]', "[[" + "[".repeat(200) + "]".repeat(200) + "],null]"];
    for (const text of bad) {
      await expect(native.callWire(module, "check_decoded", text, undefined), text).rejects.toMatchObject({ code: "ESEM_INTERNAL" });
    }
    const text = laneText(build(toPy.find((c) => c.name === "ASCII string")!.js), toPy.find((c) => c.name === "ASCII string")!.index);
    expect(await native.callWire(module, "check_decoded", text!, undefined)).toBe("");
  });

  it("gives up on a result past its byte limit, which then comes as bytes", async () => {
    native.jsonResults(64);
    received = undefined;
    await native.call(module, "make", [toJs.find((c) => c.name === "ASCII string")!.index]);
    expect(typeof received).toBe("string");
    const big = (await native.importModule("builtins", process.cwd())) as { id: number };
    await native.call(big.id, "list", ["x".repeat(100)]);
    expect(received).toBeInstanceOf(Uint8Array);
    native.jsonResults(0);
    await native.call(module, "make", [toJs.find((c) => c.name === "ASCII string")!.index]);
    expect(received).toBeInstanceOf(Uint8Array);
  });
});
