// Docs that run: every runnable code block of README.md and docs/*.md is
// executed as a user would run it (test/doc-blocks.ts says how), and what
// it prints is checked against the comments beside its console.log lines.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expectedOutput, readPage } from "./doc-blocks.ts";
import { repoRoot } from "./helpers.ts";

// Pages whose blocks are not made runnable yet (issue 11 item 6 empties this list).
const NOT_YET = new Set(["README.md", "docs/api.md", "docs/concurrency.md", "docs/troubleshooting.md", "docs/types.md"]);

const pages = [path.join(repoRoot, "README.md"), ...readdirSync(path.join(repoRoot, "docs")).filter((f) => f.endsWith(".md")).map((f) => path.join(repoRoot, "docs", f))]
  .filter((f) => !NOT_YET.has(path.relative(repoRoot, f)))
  .map(readPage)
  .filter((p) => p.runnable.length > 0);

function folderFor(files: Map<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "esem-docs-"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(repoRoot, path.join(dir, "node_modules", "esem-bridge"), "dir");
  for (const [name, text] of files) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe.each(pages.map((p) => [path.relative(repoRoot, p.file), p] as const))("the code blocks of %s", (_name, page) => {
  const dir = folderFor(page.files);
  it.each(page.runnable.map((b) => [b.line, b] as const))("the block at line %i runs and prints what it says", (line, block) => {
    const script = path.join(dir, `block-${line}.mjs`);
    writeFileSync(script, block.code + "\n");
    let stdout: string;
    try {
      stdout = execFileSync(process.execPath, [script], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${path.relative(repoRoot, page.file)}:${line} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
    }
    const printed = stdout.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
    const expected = expectedOutput(block.code);
    if (expected.length) expect(printed).toEqual(expected);
  });
});
