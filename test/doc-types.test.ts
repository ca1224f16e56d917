// Docs that compile: every ```ts block of README.md and docs/*.md is
// type-checked as its own module by tsc, against the package's types
// (src/index.ts, so a stale dist/ cannot hide a change), and a TypeScript
// example cannot drift from them. `// @ts-expect-error` lines in a block must still be errors. A
// block that imports `./name.js` for a page file `name.py` gets the `.d.ts`
// that `esem types ./name.py` writes, as the page tells the reader to make.
// A block that declares an interface the package exports (`BridgeOptions`)
// must agree with it both ways.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { folderFor, readPage } from "./doc-blocks.ts";
import { repoRoot } from "./helpers.ts";

const pages = [path.join(repoRoot, "README.md"), ...readdirSync(path.join(repoRoot, "docs")).filter((f) => f.endsWith(".md")).map((f) => path.join(repoRoot, "docs", f))]
  .map(readPage)
  .filter((p) => p.typed.length > 0);

const publicTypes = readFileSync(path.join(repoRoot, "src", "index.ts"), "utf8");

/** For each interface the block declares that the package exports too: a check that the two agree. */
function agreement(code: string, line: number): string {
  const checks: string[] = [];
  for (const [, name] of code.matchAll(/^(?:export\s+)?interface\s+(\w+)/gm)) {
    if (!new RegExp(`\\b${name}\\b`).test(publicTypes)) continue;
    checks.push(
      `import type { ${name} as Published${line}${name} } from "esem-bridge";`,
      `declare const documented${name}: ${name};`,
      `declare const published${name}: Published${line}${name};`,
      `export const documentedIsPublished${name}: Published${line}${name} = documented${name};`,
      `export const publishedIsDocumented${name}: ${name} = published${name};`,
    );
  }
  return checks.length ? `\n// Added by the docs test: the documented shape is the published one.\n${checks.join("\n")}\n` : "";
}

describe.each(pages.map((p) => [path.relative(repoRoot, p.file), p] as const))("the TypeScript blocks of %s", (name, page) => {
  it("type-check against the package's types", () => {
    const dir = folderFor(page.files, repoRoot);
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2022", "ESNext.Disposable"],
          types: ["node"],
          typeRoots: [path.join(repoRoot, "node_modules", "@types")],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          paths: { "esem-bridge": [path.join(repoRoot, "src", "index.ts")] },
        },
        include: ["*.ts"],
      }),
    );
    const cli = path.join(repoRoot, "dist", "cli.js");
    for (const block of page.typed) {
      for (const [, stem] of block.code.matchAll(/from\s+["']\.\/([\w-]+)\.js["']/g)) {
        if (!page.files.has(`${stem}.py`)) continue;
        const declarations = execFileSync(process.execPath, [cli, "types", `./${stem}.py`], { cwd: dir, encoding: "utf8", timeout: 60_000 });
        writeFileSync(path.join(dir, `${stem}.d.ts`), declarations);
      }
      const code = /^\s*(import|export)\b/m.test(block.code) ? block.code : `${block.code}\nexport {};`;
      writeFileSync(path.join(dir, `block-${block.line}.ts`), `${code}\n${agreement(block.code, block.line)}`);
    }
    const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    let output = "";
    try {
      execFileSync(process.execPath, [tsc, "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      output = `${e.stdout ?? ""}${e.stderr ?? ""}`;
    }
    // block-298.ts(12,7): error TS2345: ... -> docs/api.md:298 (line 12 of the block): ...
    const errors = output
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => l.replace(/^block-(\d+)\.ts\((\d+),\d+\)/, (_m, at, row) => `${name}:${at} (line ${row} of the block)`));
    expect(errors).toEqual([]);
  }, 150_000);
});
