// Shared test helpers: which backends to run, bridges that always shut down,
// fixture paths, assertions for the bridge's error shapes, frame reading.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { expect } from "vitest";
import { createBridge, BridgeError, PythonError } from "../src/index.ts";
import type { FrameReader } from "../src/framing.ts";

export type Mode = "native" | "subprocess";
type Bridge = ReturnType<typeof createBridge>;

/** Every backend the behaviour suite runs on; a mode that is not available is skipped with a reason. */
export const BACKENDS = ["native", "subprocess"] as const satisfies readonly Mode[];

const testDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(testDir, "..");

/** Absolute path of a file under test/fixtures. */
export function fixture(...parts: string[]): string {
  return path.join(testDir, "fixtures", ...parts);
}

/** Absolute path of a child script under test/child. */
export function childScript(name: string): string {
  return path.join(testDir, "child", name);
}

/**
 * Creates a bridge, runs fn, and shuts the bridge down in `finally`, so a
 * failing test never leaves a Python thread or worker behind.
 */
export async function withBridge<T>(mode: Mode, fn: (bridge: Bridge) => Promise<T>): Promise<T> {
  const bridge = createBridge({ mode });
  try {
    return await fn(bridge);
  } finally {
    await bridge.shutdown();
  }
}

/**
 * Why a mode is skipped, or null when it runs. A mode is skipped only when
 * the library says it does not offer it (createBridge throws, or the first
 * python() rejects with ESEM_UNSUPPORTED_MODE), or when ESEM_TEST_SUBPROCESS=0.
 * Any other failure is left for the tests to report.
 */
async function probeMode(mode: Mode): Promise<string | null> {
  if (mode === "subprocess" && process.env.ESEM_TEST_SUBPROCESS === "0") {
    return "ESEM_TEST_SUBPROCESS=0";
  }
  let bridge: Bridge;
  try {
    bridge = createBridge({ mode });
  } catch (error) {
    return `createBridge({ mode: "${mode}" }) throws: ${(error as Error).message}`;
  }
  try {
    await bridge.python("math");
    return null;
  } catch (error) {
    if ((error as { code?: string }).code === "ESEM_UNSUPPORTED_MODE") {
      return `${mode} mode is not supported yet: ${(error as Error).message}`;
    }
    return null;
  } finally {
    await bridge.shutdown().catch(() => {});
  }
}

const skipReasons = new Map<Mode, string | null>();
for (const mode of BACKENDS) skipReasons.set(mode, await probeMode(mode));

/** Whether this run is under the sanitizer build (scripts/test-asan.sh preloads libasan). */
export const SANITIZED = (process.env.LD_PRELOAD ?? "").includes("libasan");

/**
 * A test's time limit: as given, three times that under the sanitizer build,
 * where every process of the test (tsc and Node included) runs preloaded
 * with ASan and several times slower.
 */
export function timeLimit(ms: number): number {
  return SANITIZED ? ms * 3 : ms;
}

/** The reason a backend's suite is skipped, or null when it runs. */
export function skipReason(mode: Mode): string | null {
  return skipReasons.get(mode) ?? null;
}

/** Awaits a promise that must reject, and returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${String(value)}`);
  } catch (error) {
    return error;
  }
}

/** Asserts the error is a BridgeError with the given code, and returns it. */
export function expectBridgeError(error: unknown, code: string): BridgeError {
  expect(error).toBeInstanceOf(BridgeError);
  expect(error).toBeInstanceOf(Error);
  expect((error as BridgeError).code).toBe(code);
  return error as BridgeError;
}

/**
 * Asserts the error is a PythonError of a builtin exception type (a bare
 * name such as "ValueError"), and returns it.
 */
export function expectPythonError(error: unknown, pythonType: string): PythonError {
  expect(error).toBeInstanceOf(PythonError);
  expect(error).toBeInstanceOf(Error);
  expect((error as PythonError).pythonType).toBe(pythonType);
  expect((error as PythonError).name).toBe(`PythonError(${pythonType})`);
  return error as PythonError;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs `node <script> ...args` and waits for it to exit by itself. A child
 * still alive after timeoutMs is killed and reported as timed out: that is
 * the failure the lifetime tests look for.
 */
export function runNode(
  script: string,
  args: string[],
  timeoutMs = 20_000,
  options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
      cwd: options.cwd ?? repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** FrameReader.read() as a list: the payloads a chunk completed, copied out of it. */
export function payloadsOf(reader: FrameReader, chunk: Buffer): Buffer[] {
  const out: Buffer[] = [];
  reader.read(chunk, (buffer, start, end) => {
    out.push(Buffer.from(buffer.subarray(start, end)));
  });
  return out;
}
