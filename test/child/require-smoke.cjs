// Child script in CommonJS: require("esem-bridge") (resolved by the
// package's own name: from this repository, or from an app that installed
// it), a call in the given mode, and whether the ESM entry is the same
// implementation: the same classes, the same default bridge, the same
// export names. Prints one JSON line.
// Usage: node require-smoke.cjs <mode> <folder for a Python file>
const fs = require("node:fs");
const path = require("node:path");
const cjs = require("esem-bridge");

async function main() {
  const [mode, folder] = process.argv.slice(-2);
  process.env.ESEM_MODE = mode; // the default bridge's mode too
  const file = path.join(folder, "cjs_tools.py");
  fs.writeFileSync(file, "def add(a, b):\n    return a + b\n");
  const bridge = cjs.createBridge({ mode });
  const tools = await bridge.python(file);
  const out = { add: await tools.add(2, 3), mode: bridge.info().mode };
  try {
    await tools.add(1, "x");
  } catch (error) {
    out.error = error.name;
    out.cjsInstanceof = error instanceof cjs.PythonError;
    const esm = await import("esem-bridge");
    out.esmInstanceof = error instanceof esm.PythonError;
    out.sameClasses = esm.PythonError === cjs.PythonError && esm.BridgeError === cjs.BridgeError && esm.Bridge === cjs.Bridge;
    out.sameDefaultBridge = esm.python === cjs.python && esm.shutdown === cjs.shutdown;
    const names = (o) => Object.keys(o).filter((k) => k !== "__esModule" && k !== "default" && k !== "module.exports").sort();
    out.missingInEsm = names(cjs).filter((k) => !names(esm).includes(k));
    out.missingInCjs = names(esm).filter((k) => !names(cjs).includes(k));
    out.exports = names(cjs).length;
  }
  await bridge.shutdown();
  // The default bridge, loaded through the ESM entry, is the one require() gives.
  const esm = await import("esem-bridge");
  const viaEsm = await esm.python(file);
  out.defaultAdd = await cjs.python(file).then((m) => m.add(viaEsm === m ? 1 : 100, 1));
  await cjs.shutdown();
  console.log(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
