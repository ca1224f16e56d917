// The package's CommonJS entry, dist/index.js (scripts/bundle.mjs bundles
// this file there): it runs the library's bundle, dist/library.js, with
// V8's code cache, so a start does not compile the library's JavaScript
// again (docs/architecture.md#start-up).
//
// - The cache is one file per library file and set of Node flags, in
//   `<cache folder>/code`, under the probe cache's trust rule (a private
//   folder, private regular files: src/probe-cache.ts).
// - Its header names the V8 version and the library file (path, size,
//   mtime); a changed library or another Node misses, and V8 itself
//   refuses data made for another source length or other flags. The data
//   is there twice, and is used only when both copies are the same.
// - A process that found no usable entry writes one when it exits, from
//   the code it compiled by then: the library's top level and every
//   function the process ran (its start-up path, its first calls).
// - ESEM_CODE_CACHE=0, Bun and Deno: the library is loaded by require().
//
// The library runs as the body of this module: the same exports, module,
// require and folder (dist/), so nothing in it can tell the difference.
import { lstatSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import { fnv64, privateSubfolder, readPrivate, writePrivate } from "./probe-cache.js";

const LIBRARY = join(__dirname, "library.js");
const FORMAT = "2"; // 2: the data twice

function cacheable(): boolean {
  const versions = process.versions as Record<string, string | undefined>;
  return process.env.ESEM_CODE_CACHE !== "0" && !versions.bun && !versions.deno && typeof Script.prototype.createCachedData === "function";
}

/** Where this library's entry is for the flags this Node runs with, and the header it must start with; null when nothing is cached. */
function entryFor(): { path: string; header: Buffer } | null {
  const folder = privateSubfolder("code");
  if (!folder) return null;
  const stat = statSync(LIBRARY);
  const flags = `${nodeFlags().join(" ")}\0${process.env.NODE_OPTIONS ?? ""}`;
  const name = `library-${fnv64(`${LIBRARY}\0${process.version}\0${process.arch}\0${flags}`)}.bin`;
  const header = Buffer.from(`esem-code ${FORMAT}\0${process.versions.v8}\0${LIBRARY}\0${stat.size}\0${stat.mtimeMs}\0${flags}\0`);
  return { path: join(folder, name), header };
}

/**
 * The code in an entry: after the header, the data V8 made, twice. A
 * release build of V8 does not check the content of its cache (a damaged
 * one can crash the process), so the two copies are compared instead of
 * a checksum (one native compare; a hash would load node:crypto or
 * node:zlib, ~2-3.5 ms, or take ~1.6 ms of cold JavaScript).
 */
function cachedCode(entry: Buffer | null, header: Buffer): Buffer | undefined {
  if (!entry || !entry.subarray(0, header.length).equals(header)) return undefined;
  const size = (entry.length - header.length) / 2;
  if (!Number.isInteger(size) || size === 0) return undefined;
  const code = entry.subarray(header.length, header.length + size);
  return code.equals(entry.subarray(header.length + size)) ? code : undefined;
}

/** Node's command-line flags, without the code of -e and -p (V8 refuses data made under other flags). */
function nodeFlags(): string[] {
  const flags: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (/^(-e|--eval|-p|--print|-pe)$/.test(argv[i])) i++;
    else if (!/^--(eval|print)=/.test(argv[i])) flags.push(argv[i]);
  }
  return flags;
}

// Entries for other flags, Node versions and installs pile up: past this
// many, the oldest go when one is written.
const MAX_ENTRIES = 32;
const KEEP_ENTRIES = 16;

function prune(folder: string): void {
  try {
    const entries = readdirSync(folder).filter((n) => n.startsWith("library-") && n.endsWith(".bin"));
    if (entries.length <= MAX_ENTRIES) return;
    const aged = entries.map((n) => ({ n, t: lstatSync(join(folder, n)).mtimeMs })).sort((a, b) => a.t - b.t);
    for (const { n } of aged.slice(0, aged.length - KEEP_ENTRIES)) unlinkSync(join(folder, n));
  } catch {
    // pruning is best effort
  }
}

function run(): void {
  if (!cacheable()) {
    module.exports = require(LIBRARY);
    return;
  }
  let entry: { path: string; header: Buffer } | null = null;
  try {
    entry = entryFor();
  } catch {
    // no cache this time
  }
  const cachedData = entry ? cachedCode(readPrivate(entry.path), entry.header) : undefined;
  const source = readFileSync(LIBRARY, "utf8");
  // The wrapper Node puts around a CommonJS file, on the library's first line (line numbers stay).
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename: LIBRARY, cachedData });
  (script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: NodeJS.Module, f: string, d: string) => void)(module.exports, require, module, LIBRARY, __dirname);
  if (entry && (cachedData === undefined || script.cachedDataRejected)) {
    const { path, header } = entry;
    process.once("exit", () => {
      try {
        const code = script.createCachedData();
        writePrivate(path, Buffer.concat([header, code, code]));
        prune(dirname(path));
      } catch {
        // a cache that cannot be written only costs time
      }
    });
  }
}

run();
