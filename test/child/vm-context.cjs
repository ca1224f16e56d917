// Child script: the addon loaded a second time, from a second vm context,
// gives a second working NativeBridge class (Node-API modules are
// context-aware: each load has its own environment data). Both load into
// the one interpreter of the process.
// Usage: node vm-context.cjs <addon path> <probe json>
const vm = require("node:vm");
const [addon, probeJson, runtimeDir] = process.argv.slice(2);
const probe = JSON.parse(probeJson);

const first = { exports: {} };
process.dlopen(first, addon);
const context = vm.createContext({ process });
const second = vm.runInContext(
  `(() => { const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(addon)}); return m; })()`,
  context,
);

async function use(exports, label) {
  const refSymbol = Symbol("ref");
  const hooks = {
    refSymbol,
    wrap: (id) => ({ [refSymbol]: id }),
    makeError: (python, type, message) => new Error(`${type}: ${message}`),
    entries: (x) => [...x],
    makeMap: () => new Map(),
    makeSet: (items) => new Set(items),
    decode: () => null,
  };
  const bridge = new exports.NativeBridge(
    { libraries: probe.libraries, program: probe.executable, prefix: probe.prefix, sysPath: probe.sysPath, runtimeDir },
    hooks,
  );
  await bridge.start();
  const math = await bridge.importModule("math", process.cwd());
  const value = await bridge.call(math[refSymbol], "sqrt", [81]);
  await bridge.shutdown();
  return `${label}: ${value}`;
}

(async () => {
  console.log(first.exports.NativeBridge !== second.exports.NativeBridge);
  console.log(await use(first.exports, "first load"));
  console.log(await use(second.exports, "second load, second context"));
})();
