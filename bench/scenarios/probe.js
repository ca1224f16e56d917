// Can this mode start at all? One add(1, 2); the runner skips a mode whose probe fails.
import { open } from "../lib/open.js";

export async function run({ mode }) {
  const { bridge, mod } = await open(mode);
  const three = await mod.add(1, 2);
  if (three !== 3) throw new Error(`add(1, 2) returned ${three}`);
  return { bridge, value: 1 };
}
