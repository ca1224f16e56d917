// Proxy identity (issue 7, defect 8): a proxy works only with the bridge
// that made it. Passed to another bridge, or to the same bridge after a
// restart, it rejects with a BridgeError that says where it came from,
// and it never becomes whatever object has the same id there.
import { describe, it, expect } from "vitest";
import { createBridge, kw, release } from "../src/index.ts";
import { BACKENDS, skipReason, fixture, rejectionOf, expectBridgeError, withBridge } from "./helpers.ts";

type Mode = (typeof BACKENDS)[number];

/** Every way a proxy can sit in the arguments, with the path the error names. */
function placements(proxy: unknown): [string, (fn: (...a: unknown[]) => Promise<unknown>) => Promise<unknown>][] {
  return [
    ["args[0]", (fn) => fn(proxy)],
    ["args[1][0]", (fn) => fn(1, [proxy])],
    ["args[0].deep.box", (fn) => fn({ deep: { box: proxy } })],
    ["args[0]<value 0>", (fn) => fn(new Map([["k", proxy]]))],
    ["kwargs.b", (fn) => fn(kw({ a: 1, b: proxy }))],
  ];
}

async function expectRejectedEverywhere(fn: (...a: unknown[]) => Promise<unknown>, proxy: unknown, code: string, words: RegExp) {
  for (const [path, call] of placements(proxy)) {
    const error = expectBridgeError(await rejectionOf(call(fn)), code);
    expect(error.message.startsWith(`${path} is a proxy`), `${path}: ${error.message}`).toBe(true);
    expect(error.message).toMatch(words);
  }
}

describe.each(BACKENDS)("proxy identity on the %s backend", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }

  it("rejects a proxy of another bridge with ESEM_FOREIGN_PROXY wherever it is in the arguments", async () => {
    await withBridge(mode, async (a) => {
      await withBridge(mode, async (b) => {
        const ia = await a.python(fixture("identity.py"));
        const ib = await b.python(fixture("identity.py"));
        const boxA = await ia.Box("from a");
        // b has objects under the same small ids: none of them may answer for boxA.
        const boxesB = await Promise.all([1, 2, 3, 4].map((i) => ib.Box(`from b ${i}`)));
        const words = new RegExp(`from another bridge \\(bridge #\\d+, ${mode} mode\\).*only with the bridge that made it`);
        await expectRejectedEverywhere(ib.is_box, boxA, "ESEM_FOREIGN_PROXY", words);
        await expectRejectedEverywhere(ib.is_box, boxA.put, "ESEM_FOREIGN_PROXY", words);
        await expectRejectedEverywhere(ib.is_box, ia, "ESEM_FOREIGN_PROXY", words);
        // Both bridges still work, each with its own objects.
        expect(await ib.label_of(boxesB[0])).toBe("from b 1");
        expect(await ia.label_of(boxA)).toBe("from a");
      });
    });
  });

  it("rejects a proxy made before shutdown() with ESEM_SHUTDOWN when passed to the restarted bridge", async () => {
    const bridge = createBridge({ mode });
    try {
      const before = await bridge.python(fixture("identity.py"));
      const oldBox = await before.Box("before");
      await bridge.shutdown();
      const after = await bridge.python(fixture("identity.py"));
      const fresh = await Promise.all([1, 2, 3].map((i) => after.Box(`after ${i}`)));
      await expectRejectedEverywhere(after.is_box, oldBox, "ESEM_SHUTDOWN", /from bridge #\d+ .*which was shut down/);
      await expectRejectedEverywhere(after.is_box, oldBox.label, "ESEM_SHUTDOWN", /which was shut down/);
      expect(await after.label_of(fresh[1])).toBe("after 2");
    } finally {
      await bridge.shutdown();
    }
  });

  it("rejects a released proxy passed as an argument with ESEM_RELEASED, before anything is sent", async () => {
    await withBridge(mode, async (bridge) => {
      const ident = await bridge.python(fixture("identity.py"));
      const box = await ident.Box("gone");
      await release(box);
      await expectRejectedEverywhere(ident.is_box, box, "ESEM_RELEASED", /was released/);
      expect(await ident.is_box(await ident.Box("new"))).toBe(true);
    });
  });

  it("cannot be forged: a function carrying every symbol and key a proxy shows is not the object", async () => {
    await withBridge(mode, async (bridge) => {
      const ident = await bridge.python(fixture("identity.py"));
      const box = await ident.Box("real");
      for (const proxy of [box, box.put, ident]) {
        expect(Object.getOwnPropertySymbols(proxy)).toEqual([]);
        const forged = function () {} as unknown as Record<string | symbol, unknown>;
        for (const key of Reflect.ownKeys(proxy)) {
          try {
            forged[key] = (proxy as Record<string | symbol, unknown>)[key];
          } catch {
            // read-only keys of a function
          }
        }
        // It reaches Python as what it is: a JS function (a callable), not the object.
        expect(await ident.is_box(forged)).toBe(false);
      }
      expect(await ident.is_same(box, box)).toBe(true);
    });
  });
});

describe("proxy identity across modes", () => {
  const reason = skipReason("native") ?? skipReason("subprocess");
  it.skipIf(reason !== null)("rejects a native proxy passed to a subprocess bridge, and the other way round", async () => {
    await withBridge("native", async (native) => {
      await withBridge("subprocess", async (sub) => {
        const n = await native.python(fixture("identity.py"));
        const s = await sub.python(fixture("identity.py"));
        const nBox = await n.Box("native");
        const sBox = await s.Box("subprocess");
        await expectRejectedEverywhere(s.is_box, nBox, "ESEM_FOREIGN_PROXY", /native mode/);
        await expectRejectedEverywhere(n.is_box, sBox, "ESEM_FOREIGN_PROXY", /subprocess mode/);
        expect(await s.label_of(sBox)).toBe("subprocess");
        expect(await n.label_of(nBox)).toBe("native");
      });
    });
  });
});

export type { Mode };
