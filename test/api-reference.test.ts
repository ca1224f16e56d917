// The API reference (`npm run docs:api`, TypeDoc over src/index.ts) builds
// without a warning (typedoc.json makes warnings errors: a broken {@link},
// a public type that refers to one left out) and lists every export.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as api from "../src/index.ts";
import { repoRoot } from "./helpers.ts";

describe("the TypeDoc reference", () => {
  it("builds with warnings as errors and documents every runtime export of the package", () => {
    const out = mkdtempSync(path.join(tmpdir(), "esem-typedoc-"));
    const bin = path.join(repoRoot, "node_modules", "typedoc", "bin", "typedoc");
    try {
      execFileSync(process.execPath, [bin, "--out", path.join(out, "html"), "--json", path.join(out, "api.json")], {
        cwd: repoRoot,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 170_000,
      });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`typedoc failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
    }
    expect(existsSync(path.join(out, "html", "index.html"))).toBe(true);
    const project = JSON.parse(readFileSync(path.join(out, "api.json"), "utf8")) as { children?: { name: string }[] };
    const documented = new Set((project.children ?? []).map((c) => c.name));
    const missing = Object.keys(api).filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  }, 180_000);
});
