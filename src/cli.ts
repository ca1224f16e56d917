#!/usr/bin/env node
// The `esem` command: run a script with `python:` imports, print the version.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot } from "./paths.js";

const pkg = JSON.parse(readFileSync(resolve(packageRoot, "package.json"), "utf8")) as { version: string };

const HELP = `esem ${pkg.version}: call Python from Node.js

Usage:
  esem run <file.js> [args...]   run a script with python: imports enabled
  esem node <file.js> [args...]  the same (kept from 0.1)
  esem doctor                    which Python and libpython, whether native mode works, and fixes
  esem build-addon               compile the native addon here (where no prebuilt binary matches)
  esem bench                     a short benchmark of the native and subprocess modes here
  esem types <file.py|module>    TypeScript declarations from the module's type hints (stdout)
       [--out f.d.ts] [--check]   write them to a file, or exit 1 when that file is stale
       [--ambient]                as declare module "python:./file.py", for python: imports
  esem --version                 print the version
  esem --help                    this text

In a script:
  import { python } from "esem-bridge";
  const { add } = await python("./tools.py");
  console.log(await add(2, 3));

  import tools from "python:./tools.py";   // with esem run, or node --import esem-bridge/register
`;

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(HELP);
    return;
  }
  if (command === "--version" || command === "-v") {
    process.stdout.write(`${pkg.version}\n`);
    return;
  }
  if (command === "types") {
    const { typesCommand } = await import("./types-command.js");
    const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
    process.exitCode = await typesCommand(rest, process.cwd(), write(process.stdout), write(process.stderr));
    return;
  }
  if (command === "bench") {
    const { quickBench } = await import("./quick-bench.js");
    process.exitCode = await quickBench((text) => process.stdout.write(text));
    return;
  }
  if (command === "doctor") {
    const { doctor } = await import("./doctor.js");
    process.exitCode = await doctor(process.cwd(), (text) => process.stdout.write(text));
    return;
  }
  if (command === "build-addon") {
    const { buildAddon } = await import("./build-addon.js");
    process.exitCode = await buildAddon((text) => process.stdout.write(text), (text) => process.stderr.write(text));
    return;
  }
  if (command === "run" || command === "node") {
    if (rest.length === 0) {
      process.stderr.write("esem: no file given. Usage: esem run <file.js>\n");
      process.exitCode = 2;
      return;
    }
    const register = pathToFileURL(join(__dirname, "register.mjs")).href;
    const child = spawn(process.execPath, ["--import", register, resolve(rest[0]), ...rest.slice(1)], { stdio: "inherit" });
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
    child.on("exit", (code, signal) => {
      if (signal) process.kill(process.pid, signal);
      else process.exitCode = code ?? 1;
    });
    return;
  }
  process.stderr.write(`esem: unknown command "${command}". Run esem --help.\n`);
  process.exitCode = 2;
}

void main(process.argv.slice(2));
