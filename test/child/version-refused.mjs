// Child script: how each mode answers an interpreter it must refuse
// (ESEM_PYTHON). Prints one JSON line: per mode, the error's class, code
// and message, or "started" when the bridge started after all.
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);
const out = {};
for (const mode of ["native", "subprocess", "auto"]) {
  const bridge = createBridge({ mode });
  try {
    await bridge.python("math");
    out[mode] = { started: bridge.info().mode };
  } catch (error) {
    out[mode] = { name: error.name, code: error.code, message: error.message };
  } finally {
    await bridge.shutdown().catch(() => {});
  }
}
console.log(JSON.stringify(out));
