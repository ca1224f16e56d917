// Code blocks of the docs, as the docs test runs them (docs/README: "Docs
// that run"). A ```python block whose first line is a comment naming a
// file (`# shapes.py`) is that file; each ```js block is a module run by
// itself with `node`, in a folder holding those files, where "esem-bridge"
// is this repository. A `console.log(...)` line ending in `// text` must
// print exactly that text. A block fenced ```js no-run is shown, not run
// (a fragment, or one that needs what the test machine lacks). Words after
// the language: `args="--import esem-bridge/register"` runs the block with
// those node options, `env="ESEM_MODE=subprocess"` with those environment
// variables (the block should say so in a comment, for the reader);
// `numpy` marks a block that needs numpy in the bridge's Python (skipped,
// and said so, where it has none). Each ```ts block is type-checked
// instead (test/doc-types.test.ts), beside the `.d.ts` that `esem types`
// writes for each page file it imports (`./calculator.js`).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface DocBlock {
  /** "js", "python", ... */
  lang: string;
  /** What follows the language on the fence line ("no-run"). */
  info: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Node options to run it with (`args="..."` on the fence line). */
  nodeArgs: string[];
  /** Environment variables to run it with (`env="K=V ..."` on the fence line). */
  env: Record<string, string>;
  /** It needs numpy (`numpy` on the fence line). */
  numpy: boolean;
}

export interface DocPage {
  file: string;
  blocks: DocBlock[];
  /** name -> content of the Python files the page defines. */
  files: Map<string, string>;
  /** The blocks to run. */
  runnable: DocBlock[];
  /** The ```ts blocks (not no-run), which test/doc-types.test.ts type-checks. */
  typed: DocBlock[];
}

const FENCE = /^(\s*)```(\S*)\s*(.*)$/;
const FILE_NAME = /^#\s*([\w./-]+\.py)\s*$/;

export function readPage(file: string): DocPage {
  const lines = readFileSync(file, "utf8").split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].slice(Math.min(indent, lines[j].search(/\S|$/))));
    const info = open[3];
    const args = /\bargs="([^"]*)"/.exec(info)?.[1];
    const env = /\benv="([^"]*)"/.exec(info)?.[1];
    blocks.push({
      lang: open[2],
      info,
      code: body.join("\n"),
      line: i + 1,
      nodeArgs: args ? args.split(/\s+/).filter(Boolean) : [],
      env: Object.fromEntries((env ?? "").split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])),
      numpy: /(^|\s)numpy(\s|$)/.test(info),
    });
    i = j;
  }
  const files = new Map<string, string>();
  for (const b of blocks) {
    const name = b.lang === "python" ? FILE_NAME.exec(b.code.split("\n")[0])?.[1] : undefined;
    if (name) files.set(name, b.code + "\n");
  }
  const runnable = blocks.filter((b) => (b.lang === "js" || b.lang === "javascript" || b.lang === "mjs" || b.lang === "cjs") && !/(^|\s)no-run(\s|$)/.test(b.info));
  const typed = blocks.filter((b) => (b.lang === "ts" || b.lang === "typescript") && !/(^|\s)no-run(\s|$)/.test(b.info));
  return { file, blocks, files, runnable, typed };
}

/** The lines a block must print, from its `console.log(...); // text` lines, in order. */
export function expectedOutput(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split("\n")) {
    const m = /console\.log\(.*\);?\s*\/\/ (.*)$/.exec(line);
    if (m) out.push(m[1].trimEnd());
  }
  return out;
}

/** A fresh folder with the page's Python files, where "esem-bridge" resolves to `packageRoot`. */
export function folderFor(files: Map<string, string>, packageRoot: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "esem-docs-"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(packageRoot, path.join(dir, "node_modules", "esem-bridge"), "dir");
  for (const [name, text] of files) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/**
 * Runs a block as its own module with `node` in `dir` and returns the
 * non-empty lines it printed (trailing blanks trimmed). Throws, with its
 * output, when it exits with an error or takes over a minute.
 */
export function runBlock(dir: string, block: DocBlock, where: string): string[] {
  const script = path.join(dir, `block-${block.line}.${block.lang === "cjs" ? "cjs" : "mjs"}`);
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
    throw new Error(`${where}:${block.line} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
  return stdout.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
}
