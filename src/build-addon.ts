// `esem build-addon`: compiles the native addon from the package's own
// sources (binding.gyp) where no prebuilt binary matches. The published
// package has no install script (npm 11 would ask every user to approve
// one), so this is the one command that gets the native mode there; until
// then the default mode runs Python in a subprocess.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { packageRoot } from "./paths.js";

/** The command users are told to run (doctor, info().reason, docs). */
import { BUILD_COMMAND } from "./build-command.js";

export { BUILD_COMMAND };

const NEEDS =
  "It needs what node-gyp needs: a C++17 compiler, make and Python 3 " +
  "(Debian/Ubuntu: sudo apt install build-essential; macOS: xcode-select --install; " +
  "Windows: Visual Studio Build Tools), and Node's headers (node-gyp downloads them once).";

/** node-gyp's script: npm's own (npx sets npm_config_node_gyp), a local install, or the one beside npm. */
export function findNodeGyp(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates: string[] = [];
  if (env.npm_config_node_gyp) candidates.push(env.npm_config_node_gyp);
  try {
    candidates.push(require.resolve("node-gyp/bin/node-gyp.js", { paths: [packageRoot] }));
  } catch {
    // not installed beside the package: npm's bundled copy below
  }
  if (env.npm_execpath) candidates.push(join(dirname(dirname(env.npm_execpath)), "node_modules", "node-gyp", "bin", "node-gyp.js"));
  const nodeDir = dirname(process.execPath);
  candidates.push(
    join(dirname(nodeDir), "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    join(nodeDir, "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  );
  return candidates.find((file) => /node-gyp(\.js)?$/.test(file) && existsSync(file)) ?? null;
}

/** A C++ compiler this build would use, or null (checked on POSIX only: on Windows node-gyp finds MSVC itself). */
function findCompiler(env: NodeJS.ProcessEnv): string | null {
  if (process.platform === "win32") return "msvc";
  if (env.CXX) return env.CXX;
  for (const name of ["c++", "g++", "clang++"]) {
    for (const folder of (env.PATH ?? "").split(delimiter)) {
      if (folder && existsSync(join(folder, name))) return join(folder, name);
    }
  }
  return null;
}

/** Runs node-gyp rebuild in the package folder; resolves with the exit code to use. */
export async function buildAddon(out: (text: string) => void, err: (text: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!existsSync(join(packageRoot, "binding.gyp"))) {
    err(`esem: no binding.gyp in ${packageRoot}: this copy of esem-bridge has no sources to build. Reinstall it (npm install esem-bridge).\n`);
    return 1;
  }
  if (!findCompiler(env)) {
    err(`esem: cannot build the addon: no C++ compiler found (CXX is not set and none of c++, g++, clang++ is on PATH). ${NEEDS}\n` +
      "Meanwhile the default mode runs Python in a subprocess: everything works, more slowly.\n");
    return 1;
  }
  const nodeGyp = findNodeGyp(env);
  if (!nodeGyp) {
    err(`esem: cannot build the addon: node-gyp was not found (npm ships it; or: npm install -g node-gyp, then run ${BUILD_COMMAND} again).\n`);
    return 1;
  }
  out(`esem: building the native addon in ${packageRoot} (node-gyp rebuild; a minute or two)\n`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [nodeGyp, "rebuild"], { cwd: packageRoot, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", () => resolve(1));
    child.on("exit", (status, signal) => resolve(signal ? 1 : (status ?? 1)));
  });
  if (code !== 0) {
    err(`esem: the addon build failed (node-gyp exited with ${code}; its output is above). ${NEEDS}\n` +
      "Meanwhile the default mode runs Python in a subprocess: everything works, more slowly.\n");
    return 1;
  }
  const built = join(packageRoot, "build", "Release", "esem_bridge.node");
  out(`esem: built ${built}. The native mode is available to new processes; check with: npx esem doctor\n`);
  return 0;
}
