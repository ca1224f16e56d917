// Where the subprocess worker finds the native value codec (esem_wire.so,
// built beside the addon from native/wire_module.cc): the local build, or a
// prebuild for this platform. The worker loads it with ctypes and falls
// back to its pure-Python codec when there is none (or it cannot load).
// ESEM_SUBPROCESS_CODEC=python always uses the pure-Python codec.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./paths.js";

let found: string | undefined;

/** The codec library's path, or "" when there is none. */
export function wireLibraryPath(): string {
  if (process.env.ESEM_SUBPROCESS_CODEC === "python") return "";
  if (found !== undefined) return found;
  const name = process.platform === "win32" ? "esem_wire.dll" : "esem_wire.so";
  const candidates = [
    join(packageRoot, "build", "Release", name),
    join(packageRoot, "prebuilds", `${process.platform}-${process.arch}`, name),
  ];
  found = candidates.find((p) => existsSync(p)) ?? "";
  return found;
}
