// The short stress run in CI (the long one: npm run test:stress): many calls
// one at a time and in waves of 10 000, and objects dropped by release(), by
// Symbol.asyncDispose (what `await using` calls) and by garbage collection,
// in both modes. Each runs in a child `node --expose-gc` and reports one
// JSON line: every result right, no Python object left, memory flat after
// the warm-up (RSS < 5 %, JS heap in use < 5 % or 1 MiB; test/stress/common.mjs).
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BACKENDS, repoRoot, runNode, skipReason } from "./helpers.ts";

const stressDir = path.join(repoRoot, "test", "stress");
// --expose-gc and a fixed young generation (test/stress/common.mjs says why).
const NODE_FLAGS = ["--expose-gc", "--min-semi-space-size=1", "--max-semi-space-size=1"];

async function stress(script: string, args: string[]): Promise<Record<string, unknown>> {
  const result = await runNode(path.join(stressDir, script), args, 60_000, { nodeArgs: NODE_FLAGS });
  const line = result.stdout.trim().split("\n").pop() ?? "";
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`${script} ${args.join(" ")} gave no report: code ${result.code}, signal ${result.signal}\n${result.stdout}\n${result.stderr}`);
  }
  console.log(line);
  return report;
}

describe.each(BACKENDS)("the %s bridge under load", (mode) => {
  const reason = skipReason(mode);
  if (reason) {
    it.skip(`is not tested: ${reason}`, () => {});
    return;
  }
  // A subprocess round trip costs ~20x a native one: fewer sequential calls.
  const sequential = mode === "native" ? "50000" : "10000";

  it(`answers ${sequential} sequential calls right with flat memory`, async () => {
    const report = await stress("calls.mjs", [mode, sequential, "1"]);
    expect(report).toMatchObject({ wrong: 0, calls: Number(sequential), ok: true });
  }, 60_000);

  it("answers 100 000 calls in waves of 10 000 right with flat memory", async () => {
    const report = await stress("calls.mjs", [mode, "100000", "10000"]);
    expect(report).toMatchObject({ wrong: 0, calls: 100_000, ok: true });
  }, 60_000);

  for (const how of ["release", "using", "gc"]) {
    const by = { release: "release()", using: "Symbol.asyncDispose (await using)", gc: "garbage collection" }[how];
    it(`leaves no Python object and flat memory after 20 000 objects dropped by ${by}`, async () => {
      const report = await stress("objects.mjs", [mode, "20000", how]);
      expect(report).toMatchObject({ wrong: 0, liveAtEnd: 0, ok: true });
    }, 60_000);
  }
});
