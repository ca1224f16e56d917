// One build of the addon serves every CPython 3.8-3.13 (SPEC §6): the same
// .node file runs the smoke test under each interpreter found on this
// machine, one child process each (one interpreter per process).
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { childScript, fixture, runNode } from "./helpers.ts";

function interpreters(): string[] {
  const found: string[] = [];
  const root = process.env.PYENV_ROOT ?? path.join(process.env.HOME ?? "/root", ".pyenv");
  const versions = path.join(root, "versions");
  if (existsSync(versions)) {
    for (const v of readdirSync(versions).sort()) {
      const m = /^3\.(\d+)\.\d+$/.exec(v);
      const exe = path.join(versions, v, "bin", "python3");
      if (m && Number(m[1]) >= 8 && Number(m[1]) <= 13 && existsSync(exe)) found.push(exe);
    }
  }
  if (existsSync("/usr/bin/python3")) found.push("/usr/bin/python3");
  return found;
}

const found = interpreters();

describe("the same addon build under each CPython on this machine", () => {
  if (found.length === 0) {
    it.skip("is not tested: no pyenv 3.8-3.13 or /usr/bin/python3 here", () => {});
    return;
  }
  it.each(found)("passes the smoke test with %s", async (exe) => {
    const result = await runNode(childScript("version-smoke.mjs"), [fixture()], 30_000, {
      env: { ...process.env, ESEM_PYTHON: exe },
    });
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout.trim());
    console.log(`python ${out.version} (${exe}, ${out.libpython}): ok`);
    expect(out).toMatchObject({
      add: 5,
      method: 3.58,
      big: String(2n ** 70n + 1n),
      text: "😀\0",
      error: "PythonError(TypeError)",
    });
  });
});
