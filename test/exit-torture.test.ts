// Exit torture (issue 7): every way a Node process ends, repeated, with
// bridges busy in the main thread and in worker_threads, in both modes. Each
// run must end with its path's exit code (or be killed by the very signal it
// was sent), within a deadline although a long Python call is in flight, and
// leave no Python process behind. EXIT_RUNS sets the runs per path (default
// 5 native, 2 subprocess, to keep the default run near 40 s; the long run
// is EXIT_RUNS=30).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, childScript, fixture, repoRoot, skipReason, type Mode } from "./helpers.ts";

const RUNS: Record<Mode, number> = {
  native: Number(process.env.EXIT_RUNS ?? 5),
  subprocess: Number(process.env.EXIT_RUNS ?? 2),
};
const PARALLEL = 2;
/** How long a process may take to end after being told to; its Python call in flight lasts 3 s. */
const DEADLINE_MS = 1500;
/** How long a Python worker may outlive its Node process. */
const ORPHAN_GRACE_MS = 1000;

type Placement = "main" | "workers";
interface Expected {
  code: number | null;
  signal: NodeJS.Signals | null;
}
const PATHS: Array<{ name: string; placements: Placement[]; expected: Expected; what: string }> = [
  { name: "normal", placements: ["main", "workers"], expected: { code: 0, signal: null }, what: "ends normally without shutdown()" },
  { name: "exit", placements: ["main", "workers"], expected: { code: 3, signal: null }, what: "calls process.exit(3) with calls in flight" },
  { name: "uncaught", placements: ["main", "workers"], expected: { code: 1, signal: null }, what: "throws an uncaught error" },
  { name: "rejection", placements: ["main", "workers"], expected: { code: 1, signal: null }, what: "leaves a rejection unhandled" },
  { name: "sigint", placements: ["main", "workers"], expected: { code: null, signal: "SIGINT" }, what: "receives SIGINT" },
  { name: "sigterm", placements: ["main", "workers"], expected: { code: null, signal: "SIGTERM" }, what: "receives SIGTERM" },
  // No hook of Node's runs: a subprocess worker busy in a long call ends by its PR_SET_PDEATHSIG (Linux).
  { name: "sigkill", placements: ["main", "workers"], expected: { code: null, signal: "SIGKILL" }, what: "is killed by SIGKILL" },
  { name: "worker-throws", placements: ["workers"], expected: { code: 6, signal: null }, what: "has a worker that throws (exitCode 6 set by its error handler)" },
  { name: "worker-terminate", placements: ["workers"], expected: { code: 0, signal: null }, what: "terminates a worker in the middle of its calls" },
  { name: "worker-terminate-blocked", placements: ["workers"], expected: { code: 0, signal: null }, what: "terminates a worker blocked right after a burst of calls" },
];

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  endedMs: number; // from "go" (or the signal) to the exit
  timedOut: boolean;
  orphans: number[];
  stdout: string;
  stderr: string;
}

/** pid -> ppid for every process, from /proc. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(name), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

function descendants(root: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of table) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function survivors(pids: number[], graceMs: number): Promise<number[]> {
  const until = Date.now() + graceMs;
  let left = pids.filter(alive);
  while (left.length && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(alive);
  }
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL"); // do not leave them to the next run
    } catch {
      // already gone
    }
  }
  return left;
}

function runOnce(exitPath: string, mode: Mode, placement: Placement): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript("exit-paths.mjs"), exitPath, mode, placement, fixture()], {
      cwd: repoRoot,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let toldAt = 0;
    let pythons: number[] = [];
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, 20_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const before = stdout;
      stdout += chunk;
      if (!before.includes("ready\n") && stdout.includes("ready\n")) {
        pythons = descendants(child.pid!);
        toldAt = Date.now();
        if (exitPath === "sigint") child.kill("SIGINT");
        else if (exitPath === "sigterm") child.kill("SIGTERM");
        else if (exitPath === "sigkill") child.kill("SIGKILL");
        else child.stdin.write("go\n");
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdin.on("error", () => {}); // the child may be gone before "go" is read
    child.on("error", reject);
    let endedMs = -1;
    // "exit", not "close": a Python worker that outlives Node holds the inherited stdout open.
    child.on("exit", () => (endedMs = toldAt ? Date.now() - toldAt : -1));
    child.on("close", async (code, signal) => {
      clearTimeout(timer);
      const orphans = await survivors([...pythons, ...descendants(child.pid!)], ORPHAN_GRACE_MS);
      resolve({ code, signal, endedMs, timedOut, orphans, stdout, stderr });
    });
  });
}

function problemOf(result: RunResult, expected: Expected): string | null {
  if (result.timedOut) return "hung (killed after 20 s)";
  if (result.signal !== expected.signal || result.code !== expected.code) {
    const got = result.signal ? `signal ${result.signal}` : `code ${result.code}`;
    return `${got}${result.stderr ? `: ${result.stderr.trim().split("\n").slice(-3).join(" | ").slice(0, 300)}` : ""}`;
  }
  if (result.endedMs > DEADLINE_MS) return `ended ${result.endedMs} ms after being told to (deadline ${DEADLINE_MS} ms)`;
  if (result.orphans.length) return `left Python processes behind: ${result.orphans.join(", ")}`;
  return null;
}

async function torture(exitPath: string, mode: Mode, placement: Placement, expected: Expected): Promise<string[]> {
  const problems: string[] = [];
  const runs = RUNS[mode];
  let next = 0;
  const lane = async () => {
    while (next < runs) {
      next++;
      const problem = problemOf(await runOnce(exitPath, mode, placement), expected);
      if (problem) problems.push(problem);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  const rate = `${problems.length}/${runs}`;
  console.log(`exit torture ${mode} ${placement} ${exitPath}: ${rate} failed${problems.length ? `\n  ${[...new Set(problems)].join("\n  ")}` : ""}`);
  return problems;
}

const distEntry = path.join(repoRoot, "dist", "index.js");

describe.each(BACKENDS)("a process with %s bridges", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }
  beforeAll(() => {
    if (!existsSync(distEntry)) throw new Error(`${distEntry} is missing: run \`npm run build:ts\` first`);
  });

  for (const { name, placements, expected, what } of PATHS) {
    for (const placement of placements) {
      const where = placement === "main" ? "in the main thread" : "in the main thread and two worker_threads";
      const outcome = expected.signal ? `is killed by ${expected.signal}` : `exits with code ${expected.code}`;
      it(`${outcome}, in time and leaving no Python process, every time it ${what} with busy bridges ${where}`, async () => {
        const problems = await torture(name, mode, placement, expected);
        expect(problems, `${problems.length}/${RUNS[mode]} runs failed`).toEqual([]);
      }, 60_000 + RUNS[mode] * 12_000);
    }
  }
});
