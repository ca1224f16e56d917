// Where the package's own files are, from either src/ (tests) or dist/.
// The library is CommonJS (docs/architecture.md#module-formats): __dirname
// is this file's folder (vitest gives its modules one too).
import { dirname, join } from "node:path";

export const packageRoot = dirname(__dirname);
/** The folder that holds the `esem_bridge` Python package. */
export const pythonRuntimeDir = join(packageRoot, "python");
