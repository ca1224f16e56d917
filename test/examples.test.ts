// The examples (examples/*): each runs as its one documented command, with
// small sizes, and prints what it should. Real Python, real HTTP.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers.ts";

function run(script: string, args: string[] = []): string {
  return execFileSync(process.execPath, [path.join(repoRoot, "examples", script), ...args], {
    cwd: repoRoot, encoding: "utf8", timeout: 120_000, stdio: ["pipe", "pipe", "pipe"],
  });
}

describe("the examples", () => {
  it("demo: npm run demo", () => {
    const out = run("demo.mjs");
    expect(out).toContain("add(2, 3) = 5");
    expect(out).toContain("after release: ESEM_RELEASED");
  });

  it("http-stats: serves statistics under concurrent load, and answers bad input with 422", () => {
    const out = run("http-stats/server.mjs", ["--load", "60"]);
    expect(out).toMatch(/^60 concurrent requests in \d+ ms/m);
    expect(out).toContain("mean 499.5, p50 499.5, all answered: true, empty body -> 422");
  });

  it("crunch: a typed array through shared() and records both ways", () => {
    const out = run("crunch/crunch.mjs", ["100000", "20000"]);
    expect(out).toContain("sum 450000");
    expect(out).toContain("data[3] is now 6");
    expect(out).toContain('{"c":[10000,490000],"a":[10000,500000],"b":[10000,500000]}');
    expect(out).toContain('20000 records, last {"id":19999,"name":"item-19999","score":99,"tags":["a","b"]}');
  });

  it("progress: reports progress from Python and is cancelled by the user", () => {
    const out = run("progress/progress.mjs", ["--cancel-after", "3"]);
    expect(out).toContain("progress 3/100");
    expect(out).not.toContain("progress 5/100");
    expect(out).toContain("cancelled: AbortError (ESEM_ABORTED): the user cancelled");
  });

  it("electron: the main-process snippet parses (Electron itself is not installed here)", () => {
    execFileSync(process.execPath, ["--check", path.join(repoRoot, "examples", "electron", "main.cjs")]);
    execFileSync(process.execPath, ["--check", path.join(repoRoot, "examples", "electron", "preload.cjs")]);
  });
});
