// The native backend: CPython embedded in this process through the addon.
import type { AttrPath, Backend, BackendHooks, BridgeInfo } from "./backend.js";
import { Decoder, Encoder, flatEntries, type RefAnswer } from "./codec.js";
import { BridgeError, makeError } from "./errors.js";
import { loadAddon, type NativeBridge } from "./native-binding.js";
import { pythonRuntimeDir } from "./paths.js";
import { choosePython, embedProblem, probePython } from "./python-probe.js";

function makeMap(flat: unknown[]): Map<unknown, unknown> {
  const map = new Map();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}

const ARG_ROOTS = ["args", "kwargs"];
/** ESEM_WIRE=always|never forces one path (to test both); default auto. */
const WIRE = process.env.ESEM_WIRE === "always" || process.env.ESEM_WIRE === "never" ? process.env.ESEM_WIRE : "auto";

/**
 * Arguments that hold arrays or objects go in the wire format: encoding in
 * JS and parsing in C++ beats one Node-API call per value. Scalars, proxies
 * and binary buffers go through Node-API directly (no extra copy).
 */
function wantsWire(args: unknown[]): boolean {
  if (WIRE !== "auto") return WIRE === "always";
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === "object" && a !== null && !ArrayBuffer.isView(a) && !(a instanceof ArrayBuffer)) return true;
  }
  return false;
}

export class NativeBackend implements Backend {
  readonly mode = "native" as const;
  private readonly encoder: Encoder;

  private constructor(
    private readonly native: NativeBridge,
    readonly details: BridgeInfo,
    refSymbol: symbol,
  ) {
    // Re-entrant: a getter that calls Python while an argument is encoded gets a fresh encoder.
    this.encoder = new Encoder((f) => (f as unknown as Record<symbol, RefAnswer>)[refSymbol]);
  }

  /** Finds and probes the interpreter, loads the addon and starts the Python thread. */
  static async start(options: { python?: string; cwd: string }, hooks: BackendHooks): Promise<NativeBackend> {
    const choice = choosePython(options.python, options.cwd);
    const info = await probePython(choice, options.cwd);
    const problem = embedProblem(info);
    if (problem) throw new BridgeError("ESEM_NO_PYTHON", `Native mode cannot use ${choice.command}: ${problem}.`);
    const load = loadAddon();
    if (!load.addon) throw new BridgeError("ESEM_NO_PYTHON", `Native mode is unavailable: ${load.error}.`);
    const spin = Number(process.env.ESEM_SPIN_US);
    const native = new load.addon.NativeBridge(
      {
        libraries: info.libraries,
        program: info.executable,
        prefix: info.prefix,
        sysPath: info.sysPath,
        runtimeDir: pythonRuntimeDir,
        spinMicros: Number.isFinite(spin) && spin >= 0 ? spin : 100,
        wireThreshold: WIRE === "always" ? 0 : WIRE === "never" ? -1 : 48,
      },
      {
        refSymbol: hooks.refSymbol,
        wrap: hooks.wrap,
        makeError,
        entries: flatEntries,
        makeMap,
        makeSet: (items) => new Set(items),
        decode: (bytes) => new Decoder(bytes, hooks.wrap).value(),
      },
    );
    let library: string;
    try {
      library = await native.start();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const fix = reason.includes("one interpreter per process")
        ? ""
        : `\nTried: ${info.libraries.join(", ") || "(no shared libpython found)"}. ` +
          `Fix: install the interpreter's shared library, pick another with ESEM_PYTHON.`;
      throw new BridgeError(
        "ESEM_NO_PYTHON",
        `Could not start Python ${info.version} from ${info.executable} in this process: ${reason}${fix}`,
        { cause: error },
      );
    }
    return new NativeBackend(native, {
      mode: "native",
      reason: `embedded CPython ${info.version} (chosen by ${choice.source})`,
      python: { executable: info.executable, version: info.version, libpython: library, source: choice.source },
      addon: { path: load.path!, prebuilt: load.prebuilt },
    }, hooks.refSymbol);
  }

  importModule(spec: string, cwd: string): Promise<unknown> {
    return this.native.importModule(spec, cwd);
  }
  call(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown> {
    if (wantsWire(args)) {
      let bytes: Uint8Array;
      try {
        bytes = this.encoder.encode([args, kwargs ?? null], ARG_ROOTS);
      } catch (error) {
        return Promise.reject(error);
      }
      return this.native.callWire(ref, path, bytes);
    }
    return kwargs ? this.native.call(ref, path, args, kwargs) : this.native.call(ref, path, args);
  }
  getAttr(ref: number, path: AttrPath): Promise<unknown> {
    return this.native.getAttr(ref, path);
  }
  async setAttr(ref: number, path: AttrPath, value: unknown): Promise<void> {
    await this.native.setAttr(ref, path, value);
  }
  helper(name: string, args: unknown[]): Promise<unknown> {
    return this.native.helper(name, args);
  }
  release(ref: number | readonly number[]): void {
    this.native.release(ref as number | number[]);
  }
  shutdown(): Promise<void> {
    return this.native.shutdown();
  }
}
