// Reads the sanitizer reports of a scripts/test-asan.sh run (one file per
// process) and exits 1 on any AddressSanitizer or UBSan error, or on any
// leak whose stack passes through the addon. Prints a summary line.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const dir = process.argv[2];
let errors = 0, ourLeaks = 0, otherLeaks = 0, files = 0;
for (const name of readdirSync(dir)) {
  files++;
  const text = readFileSync(path.join(dir, name), "utf8");
  for (const block of text.split(/\n(?==+\n==\d+==ERROR|Direct leak|Indirect leak)/)) {
    if (/ERROR: AddressSanitizer|runtime error:/.test(block)) {
      errors++;
      console.log(`--- ${name}\n${block.slice(0, 4000)}`);
    } else if (/^(Direct|Indirect) leak/m.test(block)) {
      if (block.includes("esem_bridge.node")) {
        ourLeaks++;
        console.log(`--- leak through the addon, ${name}\n${block.slice(0, 3000)}`);
      } else {
        otherLeaks++;
      }
    }
  }
}
console.log(`sanitizers: ${files} report files, ${errors} errors, ${ourLeaks} leaks through the addon, ${otherLeaks} other leaks (Node, V8, CPython: not counted)`);
process.exit(errors || ourLeaks ? 1 : 0);
