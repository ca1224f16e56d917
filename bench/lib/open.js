// Starts a bridge in the requested mode and loads the bench fixture.
import { fileURLToPath } from "node:url";

export const FIXTURE = fileURLToPath(new URL("../fixtures/benchmod.py", import.meta.url));
export const DIST = new URL("../../dist/index.js", import.meta.url).href;

export async function open(mode) {
  const api = await import(DIST);
  const bridge = api.createBridge({ mode });
  const mod = await bridge.python(FIXTURE);
  return { api, bridge, mod };
}
