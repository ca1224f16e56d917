// Bundles the library's CommonJS entries into one file each, after tsc:
// dist/library.js (what `require`, `import`, esem-bridge/register and the
// python: loader all run, through dist/index.js, which loads it with V8's
// code cache: src/code-cache.ts) and dist/cli.js (the `esem` command).
//
// Start-up time (docs/architecture.md#start-up): Node resolves, reads and
// compiles each CommonJS file on its own, and the ~35 files tsc writes cost
// about twice what one file of the same code does (`require` 22 ms against
// 11 ms here, medians of 15 runs). tsc's per-file output stays in dist/ beside the bundles (the type
// declarations point into it; nothing loads its .js at run time), and the
// bundles' source maps carry their sources.
//
// The ESM entry, dist/index.mjs, is rewritten too: tsc's `export * from
// "./index.js"` makes Node run its CommonJS export lexer over the whole
// bundle on every `import` (~30 ms of JavaScript on Node 20, more than the
// bundle saves). The rewritten entry loads the bundle through require(), the
// same module instance `require("esem-bridge")` gets (one set of classes, one
// default bridge), and names its exports from the loaded module itself, so
// the two entries cannot drift (test/child/require-smoke.cjs checks it).
// Its types stay tsc's (dist/index.d.mts).
//
// Usage: node scripts/bundle.mjs (run by `prepare`, `build` and `prepack`).
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");

// The library (tsc's dist/index.js and what it imports) -> dist/library.js;
// its entry, the code-cache loader (src/code-cache.ts) -> dist/index.js;
// the `esem` command -> dist/cli.js.
for (const [entry, out] of [["index.js", "library.js"], ["code-cache.js", "index.js"], ["cli.js", "cli.js"]]) {
  await build({
    entryPoints: [join(dist, entry)],
    outfile: join(dist, out),
    allowOverwrite: true,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    // Loaded from the package's own node_modules at run time (the addon's prebuild finder).
    external: ["node-gyp-build"],
    sourcemap: true,
    sourcesContent: true,
    logLevel: "warning",
    legalComments: "none",
  });
}

const names = Object.keys(createRequire(import.meta.url)(join(dist, "library.js"))).filter((name) => name !== "__esModule");
// The loader sets module.exports at run time; this line, never run, names
// the exports for an ESM importer's static reading of a CommonJS file
// (Node's cjs-module-lexer, Deno), as esbuild's own output does.
const entry = join(dist, "index.js");
const hint = `0 && (module.exports = { ${names.join(", ")} });\n`;
writeFileSync(entry, readFileSync(entry, "utf8").replace(/^\/\/# sourceMappingURL=/m, (comment) => hint + comment));
writeFileSync(
  join(dist, "index.mjs"),
  "// The ESM entry of esem-bridge (written by scripts/bundle.mjs): the CommonJS\n" +
    "// build loaded through require(), so `import` and `require()` share one\n" +
    "// implementation (instanceof holds across both, one default bridge).\n" +
    'import { createRequire } from "node:module";\n' +
    'const lib = createRequire(import.meta.url)("./index.js");\n' +
    `export const { ${names.join(", ")} } = lib;\n` +
    "export default lib;\n",
);
