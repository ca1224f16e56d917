// Docs that run: every runnable code block of README.md and docs/*.md is
// executed as a user would run it (test/doc-blocks.ts says how), and what
// it prints is checked against the comments beside its console.log lines.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { choosePython } from "../src/python-probe.ts";
import { expectedOutput, readPage } from "./doc-blocks.ts";
import { repoRoot } from "./helpers.ts";

// Every page: README.md and docs/*.md.
const pages = [path.join(repoRoot, "README.md"), ...readdirSync(path.join(repoRoot, "docs")).filter((f) => f.endsWith(".md")).map((f) => path.join(repoRoot, "docs", f))]
  .map(readPage)
  .filter((p) => p.runnable.length > 0);

// Blocks fenced ```js numpy need numpy in the interpreter the bridge picks.
let numpyMissing: string | null | undefined;
function whyNoNumpy(): string | null {
  if (numpyMissing === undefined) {
    const python = choosePython(undefined, process.cwd()).command;
    try {
      execFileSync(python, ["-c", "import numpy"], { stdio: "ignore", timeout: 30_000 });
      numpyMissing = null;
    } catch {
      numpyMissing = `${python} has no numpy`;
    }
  }
  return numpyMissing;
}

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
  it.for(page.runnable.map((b) => [b.line, b] as const))("the block at line %i runs and prints what it says", ([line, block], ctx) => {
    if (block.numpy && whyNoNumpy()) ctx.skip(`needs numpy: ${whyNoNumpy()}`);
    const script = path.join(dir, `block-${line}.mjs`);
    writeFileSync(script, block.code + "\n");
    let stdout: string;
    try {
      stdout = execFileSync(process.execPath, [...block.nodeArgs, script], {
        cwd: dir,
        env: { ...process.env, ...block.env },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 60_000,
      });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${path.relative(repoRoot, page.file)}:${line} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
    }
    const printed = stdout.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
    const expected = expectedOutput(block.code);
    if (expected.length) expect(printed).toEqual(expected);
  });
});
