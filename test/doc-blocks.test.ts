// The docs runner itself (test/doc-blocks.ts): how it reads a page, and
// that a block which prints something else than its comments say, or
// throws, is caught. Without this, a runner bug could pass every page.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expectedOutput, folderFor, readPage, runBlock } from "./doc-blocks.ts";
import { repoRoot } from "./helpers.ts";

const PAGE = [
  "# A page",
  "",
  "```python",
  "# greet.py",
  "def greet(name):",
  '    return "hi " + name',
  "```",
  "",
  "```python",
  "print('not a file: no name comment')",
  "```",
  "",
  "```js",
  'import { python, shutdown } from "esem-bridge";',
  'const { greet } = await python("./greet.py");',
  'console.log(await greet("ada")); // hi ada',
  "await shutdown();",
  "```",
  "",
  "```js no-run",
  "notJavaScript(",
  "```",
  "",
  '```js env="DOC_TEST_WORD=kiwi DOC_TEST_EMPTY=" args="--no-warnings"',
  'console.log(process.env.DOC_TEST_WORD, JSON.stringify(process.env.DOC_TEST_EMPTY)); // kiwi ""',
  "console.log(process.execArgv.join(\" \")); // --no-warnings",
  "```",
  "",
  "- In a list:",
  "",
  "  ```js numpy",
  "  console.log(1 + 1); // 2",
  "  ```",
  "",
  "```js",
  "console.log(6 * 7); // 43",
  "```",
  "",
  "```js",
  'throw new Error("this block fails");',
  "```",
  "",
].join("\n");

function page() {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "esem-doc-page-")), "page.md");
  writeFileSync(file, PAGE);
  return readPage(file);
}

describe("the docs runner", () => {
  it("takes named python blocks as files and every js block but no-run ones as runnable, with their fence options", () => {
    const p = page();
    expect([...p.files.keys()]).toEqual(["greet.py"]);
    expect(p.files.get("greet.py")).toBe('# greet.py\ndef greet(name):\n    return "hi " + name\n');
    expect(p.runnable.map((b) => b.line)).toEqual([13, 24, 31, 35, 39]);
    const [, withOptions, inList] = p.runnable;
    expect(withOptions.env).toEqual({ DOC_TEST_WORD: "kiwi", DOC_TEST_EMPTY: "" });
    expect(withOptions.nodeArgs).toEqual(["--no-warnings"]);
    expect(withOptions.numpy).toBe(false);
    expect(inList.numpy).toBe(true);
    expect(inList.code).toBe("console.log(1 + 1); // 2");
  });

  it("reads what a block must print from the comments of its console.log lines", () => {
    expect(expectedOutput('const x = 1; // not output\nconsole.log(x); // 1\nconsole.log("a b");   // a b  \nconsole.log(x)')).toEqual(["1", "a b"]);
  });

  it("runs a block in a folder with the page's files and esem-bridge, with its env and node options", () => {
    const p = page();
    const dir = folderFor(p.files, repoRoot);
    const [first, withOptions] = p.runnable;
    expect(runBlock(dir, first, "page.md")).toEqual(expectedOutput(first.code));
    expect(runBlock(dir, withOptions, "page.md")).toEqual(expectedOutput(withOptions.code));
    expect(readFileSync(path.join(dir, "greet.py"), "utf8")).toContain("def greet");
  });

  it("catches a block that prints something else than its comment, and one that throws", () => {
    const p = page();
    const dir = folderFor(p.files, repoRoot);
    const wrong = p.runnable[3];
    expect(runBlock(dir, wrong, "page.md")).toEqual(["42"]);
    expect(expectedOutput(wrong.code)).toEqual(["43"]);
    expect(() => runBlock(dir, p.runnable[4], "page.md")).toThrow(/page\.md:39 failed[\s\S]*this block fails/);
  });
});
