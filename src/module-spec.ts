// What python(spec) loads: a file path, a file: URL (string or URL object),
// or a module name. URLs become absolute paths here, before either backend
// sees the spec; plain relative paths stay relative (resolved against the
// bridge's cwd by the Python side, as in 0.1).
import { fileURLToPath } from "node:url";
import { BridgeError } from "./errors.js";

// A URL scheme of two or more letters: a Windows drive ("C:\x.py") is one
// letter, and a Python module name never holds a colon.
const SCHEME = /^([A-Za-z][A-Za-z\d+.-]+):/;

/** The spec as the backends take it; throws TypeError or BridgeError (ESEM_BAD_REQUEST) for what cannot be loaded. */
export function moduleSpec(spec: unknown): string {
  if (spec instanceof URL) return filePath(spec, spec.href);
  if (typeof spec !== "string" || spec === "") {
    throw new TypeError("python() takes a file path, a file: URL or a module name");
  }
  if (!SCHEME.test(spec)) return spec;
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw badUrl(spec, "it is not a valid URL");
  }
  return filePath(url, spec);
}

function filePath(url: URL, shown: string): string {
  if (url.protocol !== "file:") {
    throw badUrl(shown, `only file: URLs name a file Python can import, not ${url.protocol} ones; download the file and pass its path`);
  }
  try {
    return fileURLToPath(url);
  } catch (error) {
    throw badUrl(shown, `${(error as Error).message}; pass a file: URL of this machine, like new URL("./m.py", import.meta.url)`);
  }
}

function badUrl(shown: string, why: string): BridgeError {
  return new BridgeError("ESEM_BAD_REQUEST", `python() cannot load ${JSON.stringify(shown)}: ${why}.`);
}
