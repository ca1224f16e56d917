// Docs that run: every runnable code block of README.md and docs/*.md is
// executed as a user would run it (test/doc-blocks.ts says how), and what
// it prints is checked against the comments beside its console.log lines.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { choosePython } from "../src/python-probe.ts";
import { expectedOutput, folderFor, readPage, runBlock } from "./doc-blocks.ts";
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

describe.each(pages.map((p) => [path.relative(repoRoot, p.file), p] as const))("the code blocks of %s", (name, page) => {
  const dir = folderFor(page.files, repoRoot);
  it.for(page.runnable.map((b) => [b.line, b] as const))("the block at line %i runs and prints what it says", ([, block], ctx) => {
    if (block.numpy && whyNoNumpy()) ctx.skip(`needs numpy: ${whyNoNumpy()}`);
    const printed = runBlock(dir, block, name);
    const expected = expectedOutput(block.code);
    if (expected.length) expect(printed).toEqual(expected);
  });
});
