// Runs one scenario in a fresh Node process and returns its parsed record.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCENARIO = fileURLToPath(new URL("../scenario.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MARK = "ESEM_BENCH_RESULT ";

export function runChild(name, mode, nodeArgs = [], timeoutMs = 90_000) {
  const started = performance.now();
  const child = spawnSync(process.execPath, [...nodeArgs, SCENARIO, name, mode], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  const wallMs = performance.now() - started;
  const line = (child.stdout ?? "").split("\n").find((l) => l.startsWith(MARK));
  if (line) return { ...JSON.parse(line.slice(MARK.length)), wallMs };
  const why = child.error?.code === "ETIMEDOUT" ? `timed out after ${timeoutMs / 1000} s` : `exit ${child.status ?? child.signal}`;
  const stderr = (child.stderr ?? "").trim().split("\n").slice(-3).join(" | ");
  return { ok: false, code: "BENCH_CHILD", message: `${why}${stderr ? `: ${stderr}` : ""}`, wallMs };
}
