// Starts a bridge in the requested mode and loads a bench fixture (benchmod.py by default).
import { fileURLToPath } from "node:url";

export const FIXTURE = fileURLToPath(new URL("../fixtures/benchmod.py", import.meta.url));
export const DATA_FIXTURE = fileURLToPath(new URL("../fixtures/benchdata.py", import.meta.url));
// The package's ESM entry, what `import "esem-bridge"` resolves to. (Importing
// the CommonJS file from ESM would also run Node's CommonJS export lexer over
// the whole bundle, ~7 ms of a first call that no user pays.)
export const DIST = new URL("../../dist/index.mjs", import.meta.url).href;

export async function open(mode, fixture = FIXTURE) {
  const api = await import(DIST);
  const bridge = api.createBridge({ mode });
  const mod = await bridge.python(fixture);
  return { api, bridge, mod };
}
