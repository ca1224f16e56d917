// `esem doctor`: which Python, which libpython, which mode and why, with a
// fix for each problem found. Exit code 1 when the default mode cannot work.
import { createBridge } from "./bridge.js";
import { BUILD_COMMAND } from "./build-command.js";
import { loadAddon } from "./native-binding.js";
import { cacheFolders, usableCacheFolder } from "./probe-cache.js";
import { choosePython, embedProblem, probePython, type PythonInfo } from "./python-probe.js";
import { SUPPORTED_RANGE } from "./python-support.js";

// The environment variables that change what an app gets (docs/api.md#environment-variables).
const SETTINGS = ["ESEM_MODE", "ESEM_PYTHON", "ESEM_ADDON", "VIRTUAL_ENV", "CONDA_PREFIX", "ESEM_PROBE_CACHE", "ESEM_BYTECODE_CACHE", "ESEM_CODE_CACHE", "ESEM_JSON_LANE", "ESEM_ARENA_CACHE_MB", "ESEM_BLOCK_CACHE_MB", "ESEM_DEBUG"];

interface Line {
  label: string;
  value: string;
  fix?: string;
}

export async function doctor(cwd: string, out: (text: string) => void): Promise<number> {
  const lines: Line[] = [];
  let healthy = true;
  const problem = (label: string, value: string, fix: string) => {
    healthy = false;
    lines.push({ label, value, fix });
  };

  // What the app will get: the settings it reads from the environment.
  const settings = SETTINGS.filter((name) => process.env[name] !== undefined && process.env[name] !== "");
  if (settings.length) lines.push({ label: "settings", value: settings.map((name) => `${name}=${process.env[name]}`).join(" ") });
  const requested = process.env.ESEM_MODE || "auto";
  if (!["auto", "native", "subprocess"].includes(requested)) {
    problem("ESEM_MODE", `"${requested}" is not a mode: the app's createBridge() throws ESEM_UNSUPPORTED_MODE`, 'set ESEM_MODE to "auto", "native" or "subprocess", or unset it');
  }

  const choice = choosePython(undefined, cwd);
  lines.push({ label: "interpreter", value: `${choice.command} (chosen by ${choice.source})` });
  let info: PythonInfo | undefined;
  try {
    info = await probePython(choice, cwd);
    const build = info.freeThreaded ? ` (free-threaded build, GIL ${info.gilEnabled ? "on" : "off"})` : "";
    lines.push({ label: "python", value: `${info.implementation} ${info.version}${build} at ${info.executable}${info.inVenv ? ` (venv ${info.prefix})` : ""}` });
    lines.push({ label: "libpython", value: info.libraries[0] ?? "none found" });
  } catch (error) {
    problem("python", (error as Error).message.split("\n")[0], `install CPython ${SUPPORTED_RANGE} or set ESEM_PYTHON=/path/to/python3`);
  }
  const cache = process.env.ESEM_PROBE_CACHE === "0" ? "off (ESEM_PROBE_CACHE=0)" : usableCacheFolder();
  lines.push({
    label: "probe cache",
    value: cache ?? `not used: none of ${cacheFolders().join(", ")} is a folder of this user's that only this user can write`,
  });
  const why = info ? embedProblem(info) : null;
  if (why) problem("embeddable", why, `point ESEM_PYTHON at a CPython ${SUPPORTED_RANGE} built with --enable-shared (not free-threaded)`);

  const addon = loadAddon();
  if (addon.addon) {
    lines.push({ label: "addon", value: `${addon.path} (${addon.prebuilt ? "prebuilt" : "built from source"})` });
  } else {
    const fix = process.env.ESEM_ADDON
      ? "unset ESEM_ADDON, or point it at a built esem_bridge.node"
      : `run \`${BUILD_COMMAND}\` (compiles it here; needs a C++ compiler, make and Python 3)`;
    problem("addon", addon.error ?? "not loaded", fix);
  }

  if (info && !why && addon.addon) {
    const bridge = createBridge({ mode: "native", cwd });
    try {
      const sys = await bridge.python("sys");
      lines.push({ label: "native mode", value: `works: CPython ${String(await sys.version).split(" ")[0]} in this process, libpython ${bridge.info().python?.libpython}` });
      try {
        const numpy = await bridge.python("numpy");
        lines.push({ label: "numpy", value: `${await numpy.__version__}` });
      } catch {
        lines.push({ label: "numpy", value: "not installed (optional: arrays then arrive as proxies of their Python objects)" });
      }
    } catch (error) {
      problem("native mode", (error as Error).message.split("\n")[0], "see docs/troubleshooting.md");
    } finally {
      await bridge.shutdown();
    }
  }
  const nativeWorks = healthy;
  let mode = "";
  if (requested === "native") {
    mode = nativeWorks ? "native (ESEM_MODE=native)" : "";
  } else if (requested === "auto" && nativeWorks) {
    mode = "native (the default, auto, will use it)";
  }
  if (requested === "subprocess" || (requested === "auto" && !nativeWorks)) {
    // auto falls back to a worker process: say whether that works.
    const bridge = createBridge({ mode: "subprocess", cwd });
    try {
      const sys = await bridge.python("sys");
      const version = String(await sys.version).split(" ")[0];
      lines.push({ label: "subprocess", value: `works: CPython ${version} in a worker process` });
      mode = requested === "subprocess"
        ? "subprocess (ESEM_MODE=subprocess)"
        : "subprocess (auto falls back to it: the native mode cannot work here, see above)";
      healthy = true;
    } catch (error) {
      lines.push({ label: "subprocess", value: `does not work: ${(error as Error).message.split("\n")[0]}` });
    } finally {
      await bridge.shutdown();
    }
  }
  if (requested === "native" && !nativeWorks) {
    lines.push({ label: "mode", value: "none: ESEM_MODE=native and the native mode cannot work here (the app's python() rejects with ESEM_NO_PYTHON)", fix: "fix the problems above, or unset ESEM_MODE to let auto fall back to the subprocess mode" });
  } else {
    lines.push({ label: "mode", value: mode || "none works: fix the problems above" });
  }

  const width = Math.max(...lines.map((l) => l.label.length));
  for (const line of lines) {
    out(`${line.label.padEnd(width)}  ${line.value}\n`);
    if (line.fix) out(`${" ".repeat(width)}  fix: ${line.fix}\n`);
  }
  return healthy ? 0 : 1;
}
