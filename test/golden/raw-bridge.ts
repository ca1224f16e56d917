// The raw addon, started for the golden tests that drive the native codec
// directly (test/golden-native.test.ts, golden-json-lane.test.ts): no
// library layer, proxies as {id}, results handed to `decode` as given.
import { expect } from "vitest";
import { makeError } from "../../src/errors.ts";
import { loadAddon, type NativeBridge } from "../../src/native-binding.ts";
import { pythonRuntimeDir } from "../../src/paths.ts";
import { choosePython, embedProblem, probePython } from "../../src/python-probe.ts";
import { fixture } from "../helpers.ts";

/** A started addon bridge and the id of test/fixtures/golden_native.py imported in it. */
export async function startRawBridge(decode: (result: Uint8Array | string) => void): Promise<{ native: NativeBridge; module: number }> {
  const cwd = process.cwd();
  const info = await probePython(choosePython(undefined, cwd), cwd);
  expect(embedProblem(info)).toBeNull();
  const { addon } = loadAddon();
  const native = new addon!.NativeBridge(
    { libraries: info.libraries, program: info.executable, prefix: info.prefix, sysPath: info.sysPath, runtimeDir: pythonRuntimeDir },
    {
      wrap: (id) => ({ id }),
      makeError,
      decode: (result) => {
        decode(result);
        return null;
      },
    },
  );
  await native.start();
  const module = ((await native.importModule(fixture("golden_native.py"), cwd)) as { id: number }).id;
  return { native, module };
}
