// The native backend: CPython embedded in this process through the addon.
import type { AttrPath, Backend, BackendHooks, BridgeInfo } from "./backend.js";
import { BridgeError, makeError } from "./errors.js";
import { loadAddon, type NativeBridge } from "./native-binding.js";
import { pythonRuntimeDir } from "./paths.js";
import { choosePython, embedProblem, probePython } from "./python-probe.js";

function flatEntries(value: Map<unknown, unknown> | Set<unknown>): unknown[] {
  if (value instanceof Map) {
    const flat: unknown[] = [];
    for (const [k, v] of value) flat.push(k, v);
    return flat;
  }
  return [...value];
}

function makeMap(flat: unknown[]): Map<unknown, unknown> {
  const map = new Map();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}

export class NativeBackend implements Backend {
  readonly mode = "native" as const;

  private constructor(
    private readonly native: NativeBridge,
    readonly details: BridgeInfo,
  ) {}

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
      },
      {
        refSymbol: hooks.refSymbol,
        wrap: hooks.wrap,
        makeError,
        entries: flatEntries,
        makeMap,
        makeSet: (items) => new Set(items),
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
    });
  }

  importModule(spec: string, cwd: string): Promise<unknown> {
    return this.native.importModule(spec, cwd);
  }
  call(ref: number, path: AttrPath, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown> {
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
  release(ref: number, wait: boolean): Promise<void> | undefined {
    return this.native.release(ref, wait) as Promise<void> | undefined;
  }
  shutdown(): Promise<void> {
    return this.native.shutdown();
  }
  stats() {
    return this.native.stats();
  }
}
