// Links between the docs: every relative link of README.md and docs/*.md
// names a file of the repository and, for a page, a heading of it (GitHub's
// anchor for the heading) or an `<a id="...">` of it. The one
// exception is the generated API reference (docs/reference/, made by
// `npm run docs:api`, not committed). And every `npm run x` the docs
// mention is a script of package.json.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers.ts";

const GENERATED = "docs/reference/";

const pages = ["README.md", ...readdirSync(path.join(repoRoot, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** The page's text without its fenced code blocks. */
function prose(page: string): string {
  return readFileSync(path.join(repoRoot, page), "utf8").replace(/^\s*```[^\n]*\n[\s\S]*?^\s*```\s*$/gm, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces become hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, "").replace(/ /g, "-");
}

function anchorsOf(page: string): Set<string> {
  const anchors = new Set<string>();
  const text = prose(page);
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.*)$/gm)) anchors.add(slug(heading));
  for (const [, id] of text.matchAll(/<a (?:id|name)="([^"]+)"/g)) anchors.add(id);
  return anchors;
}

describe("links between the docs", () => {
  it.each(pages)("every relative link of %s reaches a file and a heading", (page) => {
    const broken: string[] = [];
    for (const [, link] of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][\w+.-]*:/i.test(link)) continue; // https:, mailto:
      const [file, anchor] = link.split("#", 2);
      const target = file ? path.posix.normalize(path.posix.join(path.posix.dirname(page), file)) : page;
      if (target.startsWith(GENERATED)) continue;
      if (!existsSync(path.join(repoRoot, target))) broken.push(`${link} (no file ${target})`);
      else if (anchor && target.endsWith(".md") && !anchorsOf(target).has(anchor)) broken.push(`${link} (no heading #${anchor} in ${target})`);
    }
    expect(broken).toEqual([]);
  });

  it.each(pages)("every `npm run <script>` that %s names is a script of package.json", (page) => {
    const scripts = Object.keys((JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
    const text = readFileSync(path.join(repoRoot, page), "utf8");
    const missing = [...text.matchAll(/npm run ([\w:.-]+)/g)].map((m) => m[1]).filter((name) => !scripts.includes(name));
    expect(missing).toEqual([]);
  });

  it("finds GitHub's anchors for headings with code and punctuation, and <a id> anchors", () => {
    expect(slug("`print()` output is missing or late")).toBe("print-output-is-missing-or-late");
    expect(slug("The subprocess worker's threads")).toBe("the-subprocess-workers-threads");
    expect(slug('"one interpreter per process"')).toBe("one-interpreter-per-process");
    expect(anchorsOf("docs/objects.md").has("with")).toBe(true);
  });
});
