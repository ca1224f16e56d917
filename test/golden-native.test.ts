// The golden fixtures (test/golden/values.json) against the native codec
// (native/py_wire_read.cc, py_wire_write.cc): the C++ reader turns every
// JS -> Python case's bytes into its Python value (compared in Python by
// the rules of python/tests/test_golden.py), and the C++ writer turns every
// Python -> JS case's value into exactly its bytes. The addon is driven
// directly, with a decode hook that keeps the bytes it is given. Cases with
// proxies are left to the other two languages: their ids depend on the
// registry's history, which a bridge that has imported a module already has.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NativeBridge } from "../src/native-binding.ts";
import { startRawBridge } from "./golden/raw-bridge.ts";
import { skipReason } from "./helpers.ts";

interface Case {
  name: string;
  dir: "js-to-py" | "py-to-js";
  readOnly?: boolean;
  hex: string;
  js: unknown;
}
const cases: Case[] = JSON.parse(readFileSync(new URL("./golden/values.json", import.meta.url), "utf8"));
const withRefs = (c: Case) => JSON.stringify(c.js).includes('"$ref"');

const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const i64 = (n: number) => [...u32(n), 0, 0, 0, 0];
/** Call arguments [value, index], no keyword arguments, as src/codec.ts lays them out. */
const args = (hex: string, index: number) =>
  Uint8Array.from([7, ...u32(2), ...Buffer.from(hex, "hex"), 2, ...i64(index), 0]);

describe.skipIf(skipReason("native"))("the golden fixtures against the native codec", () => {
  let native: NativeBridge;
  let module: number;
  let written: Buffer | undefined;

  beforeAll(async () => {
    ({ native, module } = await startRawBridge((bytes) => {
      written = Buffer.from(bytes as Uint8Array);
    }));
  });
  afterAll(() => native?.shutdown());

  const plain = cases.map((c, index) => ({ ...c, index })).filter((c) => !withRefs(c));

  it.each(plain.filter((c) => c.dir === "js-to-py").map((c) => [c.name, c] as const))(
    "reads %s into its Python value",
    async (_name, c) => {
      expect(await native.callWire(module, "check_decoded", args(c.hex, c.index), [])).toBe("");
    },
  );

  it.each(plain.filter((c) => c.dir === "py-to-js" && !c.readOnly).map((c) => [c.name, c] as const))(
    "writes %s as its bytes",
    async (_name, c) => {
      written = undefined;
      await native.call(module, "make", [c.index]);
      // The value inside its one-item list: List tag and count, then the case's bytes.
      expect(written?.subarray(5).toString("hex")).toBe(c.hex);
    },
  );

  // The same raw addon: call()'s scalar fast path takes its arguments as
  // themselves (the library's form) or in one array (the older form), and
  // refuses anything but scalars, rejecting that call only.
  it("call() takes scalar arguments as themselves or in one array", async () => {
    const operator = ((await native.importModule("operator", process.cwd())) as { id: number }).id;
    expect(await native.call(operator, "add", 2, 3)).toBe(5);
    expect(await native.call(operator, "add", [2, 3])).toBe(5);
    expect(await native.call(operator, "concat", "a\u{1F600}", "\uFEFFb")).toBe("a\u{1F600}\uFEFFb");
    await expect(native.call(operator, "add", 2, {})).rejects.toMatchObject({ code: "ESEM_INTERNAL" });
    await expect(native.call(operator, "add", 2, 2 ** 60)).rejects.toMatchObject({ code: "ESEM_INTERNAL" });
    await expect(native.call(operator, "truth")).rejects.toMatchObject({ pythonType: "TypeError" });
    expect(await native.call(operator, "not_", null)).toBe(true);
    expect(await native.call(operator, "add", 1.5, true)).toBe(2.5);
  });
});
