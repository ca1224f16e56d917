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
// and said so, where it has none).
import { readFileSync } from "node:fs";

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
  const runnable = blocks.filter((b) => (b.lang === "js" || b.lang === "javascript" || b.lang === "mjs") && !/(^|\s)no-run(\s|$)/.test(b.info));
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
