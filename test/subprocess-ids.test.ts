// Subprocess mode's object ids and module bookkeeping (issue 7, defect 3):
// ids stay unique for the bridge's life, past 2^32 objects in one worker and
// across restarted workers; the module map holds only live module proxies.
import { describe, expect, it } from "vitest";
import { Session, releaseProxy, rootOf } from "../src/proxy.ts";
import { SubprocessBackend } from "../src/subprocess-backend.ts";
import { expectBridgeError, fixture, rejectionOf, repoRoot, skipReason } from "./helpers.ts";

type Box = { label: Promise<string> };
type Identity = { Box(label: string): Promise<Box>; label_of(box: Box): Promise<string> };
type Faults = { die(code: number): Promise<never>; pid(): Promise<number> };

/** A subprocess backend whose first worker's registry starts at firstId (an internal option for this test). */
async function backendFrom(firstId: number, fn: (backend: SubprocessBackend) => Promise<void>): Promise<void> {
  const session = new Session();
  const backend = await SubprocessBackend.start({ cwd: repoRoot, reason: "test", firstId }, session);
  session.backend = backend;
  try {
    await fn(backend);
  } finally {
    session.closed = true;
    await backend.shutdown();
  }
}

const refOf = (proxy: unknown) => rootOf(proxy)!.ref;

describe.skipIf(skipReason("subprocess"))("subprocess object ids", () => {
  it("keep objects made past 2^32 in one worker usable, each itself", async () => {
    await backendFrom(2 ** 32 - 3, async (backend) => {
      const identity = (await backend.importModule(fixture("identity.py"), repoRoot)) as Identity;
      const boxes: Box[] = [];
      for (let i = 0; i < 6; i++) boxes.push(await identity.Box(`box ${i}`));
      const ids = boxes.map(refOf);
      expect(new Set(ids).size).toBe(6);
      expect(ids.some((id) => id > 2 ** 32)).toBe(true);
      expect(ids.every(Number.isSafeInteger)).toBe(true);
      for (let i = 0; i < 6; i++) expect(await identity.label_of(boxes[i])).toBe(`box ${i}`);
    });
  });

  it("never let a proxy from a worker that died reach an object of the worker after it", async () => {
    await backendFrom(2 ** 32 - 3, async (backend) => {
      const identity = (await backend.importModule(fixture("identity.py"), repoRoot)) as Identity;
      const faults = (await backend.importModule(fixture("faults.py"), repoRoot)) as Faults;
      const old: Box[] = [];
      for (let i = 0; i < 6; i++) old.push(await identity.Box(`old ${i}`));
      const firstPid = await faults.pid();
      expectBridgeError(await rejectionOf(faults.die(0)), "ESEM_WORKER_EXITED");
      // The module proxies load again in a new worker; its objects get new ids.
      expect(await faults.pid()).not.toBe(firstPid);
      const fresh: Box[] = [];
      for (let i = 0; i < 6; i++) fresh.push(await identity.Box(`new ${i}`));
      const oldIds = new Set(old.map(refOf));
      expect(fresh.map(refOf).filter((id) => oldIds.has(id))).toEqual([]);
      for (const box of old) expectBridgeError(await rejectionOf(identity.label_of(box)), "ESEM_WORKER_EXITED");
      for (let i = 0; i < 6; i++) expect(await identity.label_of(fresh[i])).toBe(`new ${i}`);
    });
  });
});

describe.skipIf(skipReason("subprocess"))("the subprocess module map", () => {
  it("holds no entry for module proxies that were released, however often python() ran", async () => {
    await backendFrom(1, async (backend) => {
      const modules = (backend as unknown as { modules: { sources: Map<unknown, unknown> } }).modules.sources;
      for (let i = 0; i < 200; i++) {
        const mod = await backend.importModule(fixture("calculator.py"), repoRoot);
        expect(modules.size).toBeLessThanOrEqual(1);
        await releaseProxy(mod);
      }
      expect(modules.size).toBe(0);
    });
  });

  it("drops a reloaded module's entries when its proxy is released after the worker died", async () => {
    await backendFrom(1, async (backend) => {
      const internals = (backend as unknown as { modules: { sources: Map<unknown, unknown>; remapped: Map<unknown, unknown> } }).modules;
      const faults = (await backend.importModule(fixture("faults.py"), repoRoot)) as Faults;
      await rejectionOf(faults.die(0));
      expect(typeof (await faults.pid())).toBe("number"); // reloaded in the new worker
      await releaseProxy(faults);
      expect(internals.sources.size).toBe(0);
      expect(internals.remapped.size).toBe(0);
    });
  });
});
