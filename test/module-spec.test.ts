// python(spec) takes a file: URL as well as a path (SPEC §2): the URL form
// names a file beside the caller (new URL("./x.py", import.meta.url)), the
// plain relative path keeps resolving against the cwd (0.1), and both are
// the same module as the absolute path. Same in both modes, on a bridge, on
// the default python() and on a pool; a URL that is not a file of this
// machine rejects with a BridgeError that says what to pass instead.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createBridge, createPool, python, shutdown } from "../src/index.ts";
import { BACKENDS, expectBridgeError, fixture, rejectionOf, skipReason, withBridge } from "./helpers.ts";

const work = mkdtempSync(path.join(tmpdir(), "esem-spec-"));
// A folder and a file name that a URL must percent-encode.
const oddDir = path.join(work, "my dir", "ünï");
mkdirSync(oddDir, { recursive: true });
const oddFile = path.join(oddDir, "state #1.py");
copyFileSync(fixture("state.py"), oddFile);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each(BACKENDS)("python() of a file: URL (%s)", (mode) => {
  describe.skipIf(skipReason(mode))("", () => {
    it("loads a URL object made from import.meta.url, as the same module as its path", async () => {
      await withBridge(mode, async (bridge) => {
        const byUrl = (await bridge.python(new URL("./fixtures/state.py", import.meta.url))) as any;
        const byPath = (await bridge.python(fixture("state.py"))) as any;
        expect(await byUrl.set_value(`url-${mode}`)).toBe(`url-${mode}`);
        expect(await byPath.get_value()).toBe(`url-${mode}`);
      });
    });

    it("loads a file:/// string, decoding spaces, # and non-ASCII letters in the path", async () => {
      await withBridge(mode, async (bridge) => {
        const href = pathToFileURL(oddFile).href;
        expect(href).toContain("%20");
        expect(href).toContain("%23");
        const byString = (await bridge.python(href)) as any;
        await byString.set_value(42);
        const byPath = (await bridge.python(oddFile)) as any;
        expect(await byPath.get_value()).toBe(42);
        const byUrl = (await bridge.python(new URL(href))) as any;
        expect(await byUrl.get_value()).toBe(42);
      });
    });

    it("keeps resolving a plain relative path against the bridge's cwd", async () => {
      const bridge = createBridge({ mode, cwd: oddDir });
      try {
        const mod = (await bridge.python("./state #1.py")) as any;
        await mod.set_value("cwd");
        const same = (await bridge.python(pathToFileURL(oddFile))) as any;
        expect(await same.get_value()).toBe("cwd");
      } finally {
        await bridge.shutdown();
      }
    });

    it("rejects an http: URL, string or object, with ESEM_BAD_REQUEST saying to pass a path", async () => {
      await withBridge(mode, async (bridge) => {
        for (const spec of ["http://example.com/m.py", new URL("https://example.com/m.py"), "data:text/plain,x"]) {
          const error = expectBridgeError(await rejectionOf(bridge.python(spec)), "ESEM_BAD_REQUEST");
          expect(error.message).toMatch(/only file: URLs/);
          expect(error.message).toMatch(/pass its path/);
        }
        // Nothing started for a spec that cannot be loaded.
        expect(bridge.info().mode).toBeNull();
      });
    });

    it("rejects a file: URL of another host, and an empty spec with a TypeError", async () => {
      await withBridge(mode, async (bridge) => {
        const error = expectBridgeError(await rejectionOf(bridge.python("file://server/share/m.py")), "ESEM_BAD_REQUEST");
        expect(error.message).toContain("file://server/share/m.py");
        expect(error.message).toMatch(/import\.meta\.url/);
        expect(await rejectionOf(bridge.python(""))).toBeInstanceOf(TypeError);
        expect(await rejectionOf(bridge.python(42 as unknown as string))).toBeInstanceOf(TypeError);
      });
    });

    it("loads a URL on a pool, on every member, and rejects an http: URL once", async () => {
      const pool = createPool({ size: 2, mode });
      try {
        const work = (await pool.python(new URL("./fixtures/pool_work.py", import.meta.url))) as any;
        expect(await work.VERSION).toBe("pool-1");
        expect(typeof (await work.pid())).toBe("number");
        expectBridgeError(await rejectionOf(pool.python("http://example.com/m.py")), "ESEM_BAD_REQUEST");
      } finally {
        await pool.shutdown();
      }
    });
  });
});

describe("the default python()", () => {
  it("loads a URL beside the caller and a file:/// string, and rejects an http: URL", async () => {
    try {
      const calc = (await python(new URL("./fixtures/calculator.py", import.meta.url))) as any;
      expect(await calc.add(2, 3)).toBe(5);
      const again = (await python(pathToFileURL(fixture("calculator.py")).href)) as any;
      expect(await again.VERSION).toBe("1.0.0");
      expectBridgeError(await rejectionOf(python("ftp://example.com/m.py")), "ESEM_BAD_REQUEST");
    } finally {
      await shutdown();
    }
  });
});
