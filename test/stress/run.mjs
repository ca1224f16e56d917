// The long stress run (npm run test:stress): 1 000 000 sequential calls,
// 1 000 000 in waves of 10 000 and 1 000 000 objects dropped each way, in
// both modes, then the soak. Each is a child `node --expose-gc` (NODE_FLAGS); prints one
// JSON line per test and exits 1 if any failed. STRESS_COUNT changes the size.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { NODE_FLAGS } from "./common.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const count = String(process.env.STRESS_COUNT ?? 1_000_000);
const runs = [];
for (const mode of ["native", "subprocess"]) {
  runs.push(["calls.mjs", mode, count, "1"], ["calls.mjs", mode, count, "10000"]);
  for (const how of ["release", "using", "gc"]) runs.push(["objects.mjs", mode, count, how]);
  runs.push(["soak.mjs", mode]);
}
let failed = 0;
for (const [script, mode, ...args] of runs) {
  const result = spawnSync(process.execPath, [...NODE_FLAGS, path.join(here, script), mode, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, SOAK_MODE: mode },
    encoding: "utf8",
  });
  process.stdout.write(result.stdout || `${script} ${mode} ${args.join(" ")}: no report\n`);
  if (result.status !== 0) {
    failed++;
    console.log(`FAILED: ${script} ${mode} ${args.join(" ")} (exit ${result.status ?? result.signal})`);
  }
}
console.log(failed ? `${failed}/${runs.length} stress runs failed` : `all ${runs.length} stress runs passed`);
process.exitCode = failed ? 1 : 0;
