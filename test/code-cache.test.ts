// The package's entry runs the library's bundle with V8's code cache
// (src/code-cache.ts, docs/architecture.md#start-up): an entry is written
// when a process that found none exits, read by the next one, and one that
// is not this library's, is damaged or is not private is never used (it is
// written again). Fresh child processes with a cache folder of their own.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { childScript, runNode } from "./helpers.ts";

const work = mkdtempSync(path.join(tmpdir(), "esem-code-cache-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function start(cache: string, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []) {
  const run = await runNode(childScript("code-cache.mjs"), ["native"], 30_000, { env: { ...process.env, XDG_CACHE_HOME: cache, ...env }, nodeArgs });
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout.trim()).toBe("5");
}

function entries(cache: string): string[] {
  const folder = path.join(cache, "esem-bridge", "code");
  return readdirSync(folder)
    .filter((n) => n.endsWith(".bin"))
    .map((n) => path.join(folder, n));
}

/** An entry as the loader writes it: a header ending in a NUL, then the same data twice. */
function wellFormed(bytes: Buffer): boolean {
  const fields = bytes.toString("latin1").split("\0", 7); // format, V8, file, size, mtime, flags, NODE_OPTIONS
  const start = fields.reduce((n, f) => n + f.length + 1, 0);
  const size = (bytes.length - start) / 2;
  return size > 0 && bytes.subarray(start, start + size).equals(bytes.subarray(start + size));
}

describe("the code cache of the library's JavaScript", () => {
  it("is written, private, by the first process and read by the next", async () => {
    const cache = path.join(work, "on");
    await start(cache);
    const [entry, ...more] = entries(cache);
    expect(more).toEqual([]);
    expect(statSync(entry).mode & 0o777).toBe(0o600);
    expect(readFileSync(entry).subarray(0, 11).toString()).toBe("esem-code 2");
    expect(wellFormed(readFileSync(entry))).toBe(true);
    const before = statSync(entry);
    await start(cache);
    const after = statSync(entry);
    // Read, not written again (a rejected entry would have been replaced).
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it("keeps one entry per set of Node flags", async () => {
    const cache = path.join(work, "flags");
    await start(cache);
    await start(cache, {}, ["--expose-gc"]);
    expect(entries(cache)).toHaveLength(2);
  });

  it("is left out with ESEM_CODE_CACHE=0", async () => {
    const cache = path.join(work, "off");
    await start(cache, { ESEM_CODE_CACHE: "0" });
    expect(() => entries(cache)).toThrow();
  });

  it.each([
    ["for another library file", (bytes: Buffer) => Buffer.from(bytes.toString("latin1").replace("library.js", "library.jz"), "latin1")],
    ["damaged", (bytes: Buffer) => Buffer.from(bytes).fill(0x5a, bytes.length >> 2, (bytes.length >> 2) + 64)], // in the first copy
    ["cut short", (bytes: Buffer) => bytes.subarray(0, 40)],
  ])("is written again when the entry is %s, and the library still loads", async (_what, spoil) => {
    const cache = path.join(work, `spoiled-${_what.replace(/\W+/g, "-")}`);
    await start(cache);
    const [entry] = entries(cache);
    const good = readFileSync(entry);
    const spoiled = spoil(good);
    writeFileSync(entry, spoiled, { mode: 0o600 });
    await start(cache);
    const again = readFileSync(entry);
    expect(again.equals(spoiled)).toBe(false);
    expect(wellFormed(again)).toBe(true);
    expect(statSync(entry).mode & 0o777).toBe(0o600);
  });

  it.skipIf(process.platform === "win32")("never reads an entry that others can write", async () => {
    const cache = path.join(work, "shared");
    await start(cache);
    const [entry] = entries(cache);
    chmodSync(entry, 0o666);
    const before = statSync(entry).ino;
    await start(cache);
    // Not trusted, so not read: a fresh private entry replaced it.
    expect(statSync(entry).ino).not.toBe(before);
    expect(statSync(entry).mode & 0o777).toBe(0o600);
  });
});
