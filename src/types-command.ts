// `esem types <file.py|module> [--out file.d.ts] [--check] [--ambient] [--specifier python:...]`:
// TypeScript declarations from a module's type hints (python/esem_bridge/typegen.py),
// written to stdout or a file, or checked against a file (docs/typescript.md).
import { readFileSync, writeFileSync } from "node:fs";

export const TYPES_USAGE =
  "usage: esem types <file.py|module> [--out <file.d.ts>] [--check] [--ambient] [--specifier <python:...>]";

interface TypesArgs {
  spec: string;
  out?: string;
  check: boolean;
  /** undefined: a module of declarations; "": an ambient module for the default specifier; else that specifier. */
  ambient?: string;
}

type Write = (text: string) => void;

/** The parsed arguments, or the message of a usage error. */
export function parseTypesArgs(args: string[]): TypesArgs | string {
  let spec: string | undefined;
  let out: string | undefined;
  let check = false;
  let ambient: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--check") check = true;
    else if (a === "--ambient") ambient ??= "";
    else if (a === "--out" || a === "-o" || a === "--specifier") {
      const value = args[++i];
      if (value === undefined || value.startsWith("--")) return `${a} needs a value`;
      if (a === "--specifier") {
        if (!value.startsWith("python:")) return `--specifier takes the import's specifier as written, starting with "python:" (got "${value}")`;
        ambient = value;
      } else out = value;
    } else if (a.startsWith("-")) return `unknown option "${a}"`;
    else if (spec === undefined) spec = a;
    else return `one module at a time (got "${spec}" and "${a}")`;
  }
  if (spec === undefined) return "no module given";
  if (check && out === undefined) return "--check compares with a file: give it with --out <file.d.ts>";
  return { spec, out, check, ambient };
}

/** Runs the command; returns the exit code (0, 1: failed or stale, 2: usage). */
export async function typesCommand(args: string[], cwd: string, stdout: Write, stderr: Write): Promise<number> {
  const parsed = parseTypesArgs(args);
  if (typeof parsed === "string") {
    stderr(`esem types: ${parsed}\n${TYPES_USAGE}   (without --out: the .d.ts goes to stdout)\n`);
    return 2;
  }
  const { createBridge } = await import("./bridge.js");
  const bridge = createBridge();
  let text: string;
  try {
    const typegen = await bridge.python("esem_bridge.typegen");
    text = (await typegen.generate(parsed.spec, cwd, parsed.ambient ?? null)) as string;
  } catch (error) {
    stderr(`esem types: could not describe ${parsed.spec}: ${(error as Error).message}\n` +
      "Check that the module imports with this Python (esem doctor says which one is used).\n");
    return 1;
  } finally {
    await bridge.shutdown();
  }
  if (parsed.out === undefined) {
    stdout(text);
    return 0;
  }
  if (parsed.check) {
    let current: string | undefined;
    try {
      current = readFileSync(parsed.out, "utf8");
    } catch {
      current = undefined;
    }
    if (current === text) return 0;
    const again = ["esem types", ...args.filter((a) => a !== "--check")].join(" ");
    stderr(`esem types: ${parsed.out} ${current === undefined ? "does not exist" : "is stale (the module's types changed)"}; ` +
      `regenerate it with: ${again}\n`);
    return 1;
  }
  writeFileSync(parsed.out, text);
  stderr(`esem types: wrote ${parsed.out}\n`);
  return 0;
}
