// Code blocks of the docs, as the docs test runs them (docs/README: "Docs
// that run"). A ```python block whose first line is a comment naming a
// file (`# shapes.py`) is that file; each ```js block is a module run by
// itself with `node`, in a folder holding those files, where "esem-bridge"
// is this repository. A `console.log(...)` line ending in `// text` must
// print exactly that text. A block fenced ```js no-run is shown, not run
// (a fragment, or one that needs what the test machine lacks).
import { readFileSync } from "node:fs";

export interface DocBlock {
  /** "js", "python", ... */
  lang: string;
  /** What follows the language on the fence line ("no-run"). */
  info: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

export interface DocPage {
  file: string;
  blocks: DocBlock[];
  /** name -> content of the Python files the page defines. */
  files: Map<string, string>;
  /** The blocks to run. */
  runnable: DocBlock[];
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
    blocks.push({ lang: open[2], info: open[3], code: body.join("\n"), line: i + 1 });
    i = j;
  }
  const files = new Map<string, string>();
  for (const b of blocks) {
    const name = b.lang === "python" ? FILE_NAME.exec(b.code.split("\n")[0])?.[1] : undefined;
    if (name) files.set(name, b.code + "\n");
  }
  const runnable = blocks.filter((b) => (b.lang === "js" || b.lang === "javascript" || b.lang === "mjs") && !b.info.includes("no-run"));
  return { file, blocks, files, runnable };
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
