// Module hooks for `import x from "python:./x.py"` (ESM, as hooks must be): registered by
// esem-bridge/register (node --import), or used directly as the 0.1
// `node --experimental-loader esem-bridge/loader`. They run on Node's hooks
// thread; the generated module runs on the importing thread.
import { existsSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { MessagePort } from "node:worker_threads";

const PREFIX = "python:";
const SCHEME = "esem-python:";
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const RESERVED = new Set(["default", "await", "break", "case", "catch", "class", "const", "continue", "debugger",
  "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function", "if", "import", "in",
  "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void",
  "while", "with", "yield", "let", "static", "implements", "interface", "package", "private", "protected", "public"]);

type Resolve = (specifier: string, context: { parentURL?: string }) => Promise<{ url: string }> | { url: string };
type Load = (url: string, context: object) => Promise<{ format: string; source?: string | Buffer }> | { format: string };

function isFileSpec(spec: string): boolean {
  return spec.endsWith(".py") || spec.startsWith("./") || spec.startsWith("../") || spec.startsWith("/");
}

/**
 * `python:./x.py` resolves against the importing file's folder, falling
 * back to the current folder when no such file is there (SPEC §9; 0.1
 * resolved against the current folder only); module names stay as they are.
 */
export function resolve(specifier: string, context: { parentURL?: string }, next: Resolve) {
  if (!specifier.startsWith(PREFIX)) return next(specifier, context);
  const spec = specifier.slice(PREFIX.length);
  let target = spec;
  if (isFileSpec(spec)) {
    const importer = context.parentURL?.startsWith("file:") ? dirname(fileURLToPath(context.parentURL)) : undefined;
    target = resolvePath(importer ?? process.cwd(), spec);
    if (importer !== undefined && !existsSync(target)) {
      const fromCwd = resolvePath(process.cwd(), spec);
      if (existsSync(fromCwd)) target = fromCwd;
    }
  }
  return { url: SCHEME + encodeURIComponent(target), shortCircuit: true };
}

/** Public names become named exports; the module proxy is the default export. */
export async function load(url: string, context: object, next: Load) {
  if (!url.startsWith(SCHEME)) return next(url, context);
  const spec = decodeURIComponent(url.slice(SCHEME.length));
  const entry = pathToFileURL(resolvePath(dirname(fileURLToPath(import.meta.url)), "index.mjs")).href;
  const names = await publicNames(entry, spec);
  const exports = names
    .filter((n) => IDENTIFIER.test(n) && !RESERVED.has(n) && n !== "__esem_mod")
    .map((n) => `export const ${n} = __esem_mod.${n};`)
    .join("\n");
  const source =
    `import { python } from ${JSON.stringify(entry)};\n` +
    `const __esem_mod = await python(${JSON.stringify(spec)});\n` +
    `export default __esem_mod;\nexport { __esem_mod as mod };\n${exports}\n`;
  return { format: "module", source, shortCircuit: true };
}

// Set by register.mts: the importing thread answers name requests on it.
// While this hook waits for the answer, Node's hooks thread may serve no
// other request of the importing thread until the hook returns (Node 20: a
// resolve or load sent meanwhile can wait for good, and both threads hang),
// so the answer must load no module on the way: register.ts imports all it
// needs before register(). A second `python:` import of the same file may
// likewise reach this hook only once the first has its names.
let namesPort: MessagePort | undefined;
const waiting = new Map<number, { names(names: string[]): void; ack(): void }>();
let lastRequest = 0;
/** How long the importing thread may take to see a request: it does not when it is blocked in a synchronous load. */
const ACK_MS = 1000;

/** Called by Node with register()'s data. */
export function initialize(data: { namesPort?: MessagePort } | undefined): void {
  namesPort = data?.namesPort;
  namesPort?.on("message", ({ id, names, ack }: { id: number; names?: string[]; ack?: boolean }) => {
    const request = waiting.get(id);
    if (!request) return;
    if (ack) return request.ack();
    waiting.delete(id);
    if (waiting.size === 0) namesPort?.unref();
    request.names(names ?? []);
  });
  namesPort?.unref();
}

/**
 * The module's public names. Under esem-bridge/register the importing
 * thread loads the module (once: its own later python() finds it loaded);
 * under the 0.1 --experimental-loader form (no port), or when the importing
 * thread does not see the request within ACK_MS (blocked in a synchronous
 * load), the hooks thread loads it on a bridge of its own (in subprocess
 * mode: a second worker, where the top level runs a second time).
 */
function publicNames(entry: string, spec: string): Promise<string[]> {
  const port = namesPort;
  if (!port) return ownBridgeNames(entry, spec);
  const id = ++lastRequest;
  return new Promise((resolve) => {
    const unseen = setTimeout(() => {
      waiting.delete(id);
      if (waiting.size === 0) port.unref();
      resolve(ownBridgeNames(entry, spec));
    }, ACK_MS);
    waiting.set(id, { names: resolve, ack: () => clearTimeout(unseen) });
    port.ref();
    port.postMessage({ id, spec });
  });
}

async function ownBridgeNames(entry: string, spec: string): Promise<string[]> {
  try {
    const { python } = (await import(entry)) as { python(spec: string): Promise<object> };
    return Object.keys(await python(spec));
  } catch {
    return []; // the importing thread reports the real error when it loads the module
  }
}
