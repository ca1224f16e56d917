// Reads the sanitizer reports of a scripts/test-asan.sh run (one file per
// process) and exits 1 on any AddressSanitizer or UBSan error and, with
// --leaks, on any leak whose stack passes through the addon (less the
// addon's own per-process data: its class definitions). Prints a summary.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const dir = process.argv[2];
const gateLeaks = process.argv.includes("--leaks");
// Made once per process or environment and kept for its life on purpose.
const LIFETIME = /Bridge::Define|InitEsem|napi_register_module_v1/;
let errors = 0, ourLeaks = 0, otherLeaks = 0, files = 0;
for (const name of readdirSync(dir)) {
  files++;
  const text = readFileSync(path.join(dir, name), "utf8");
  for (const block of text.split(/\n(?==+\n==\d+==ERROR|Direct leak|Indirect leak)/)) {
    if (/ERROR: AddressSanitizer|runtime error:/.test(block)) {
      errors++;
      console.log(`--- ${name}\n${block.slice(0, 4000)}`);
    } else if (/^(Direct|Indirect) leak/m.test(block)) {
      if (block.includes("esem_bridge.node") && !LIFETIME.test(block)) {
        ourLeaks++;
        if (gateLeaks) console.log(`--- leak through the addon, ${name}\n${block.slice(0, 3000)}`);
      } else {
        otherLeaks++;
      }
    }
  }
}
const counted = gateLeaks ? "counted" : "listed, not counted: JS-held at exit";
console.log(`sanitizers (${dir}): ${files} report files, ${errors} errors, ${ourLeaks} leaks through the addon (${counted}), ${otherLeaks} other leaks (Node, V8, CPython: not counted)`);
process.exit(errors || (gateLeaks && ourLeaks) ? 1 : 0);
