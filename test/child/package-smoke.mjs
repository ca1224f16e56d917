// Child script, run inside a folder where esem-bridge was installed from its
// packed tarball: a function, a class, a method and an error, and which
// addon file was loaded (or why the subprocess mode is in use). Prints one JSON line.
import { createBridge } from "esem-bridge";
import { writeFileSync } from "node:fs";

writeFileSync("tools.py", "def add(a, b):\n    return a + b\n\nclass Counter:\n    def __init__(self, n):\n        self.n = n\n    def add(self, k):\n        self.n += k\n        return self.n\n");
const bridge = createBridge();
const tools = await bridge.python("./tools.py");
const counter = await tools.Counter(5);
const { mode, reason, addon } = bridge.info();
const out = { add: await tools.add(2, 3), method: await counter.add(3), mode, reason, addon };
try {
  await tools.add(1, "x");
} catch (error) {
  out.error = error.name;
}
await bridge.shutdown();
console.log(JSON.stringify(out));
