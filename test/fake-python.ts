// Fake interpreters for the version logic: a shell script that runs a real
// Python, except that its answer to the probe (python/esem_bridge/probe.py)
// is patched, so the bridge sees, for example, a free-threaded build that
// this machine does not have. Everything else (the worker) runs the real
// one. POSIX shells only.
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Writes <dir>/<name>: `real` with the probe's JSON answer updated by `patch`. */
export function fakePython(dir: string, name: string, real: string, patch: Record<string, unknown>): string {
  const rewrite = path.join(dir, `${name}-rewrite.py`);
  writeFileSync(
    rewrite,
    "import json, sys\n" +
      "info = json.loads(sys.stdin.read().strip().splitlines()[-1])\n" +
      `info.update(json.loads(${JSON.stringify(JSON.stringify(patch))}))\n` +
      "sys.stdout.write(json.dumps(info) + '\\n')\n",
  );
  const script = path.join(dir, name);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    script,
    "#!/bin/sh\n" +
      'case "$1" in\n' +
      `  *probe.py) ${q(real)} "$@" | ${q(real)} ${q(rewrite)} ;;\n` +
      `  *) exec ${q(real)} "$@" ;;\n` +
      "esac\n",
  );
  chmodSync(script, 0o755);
  return script;
}
