// Where the package's own files are, from either src/ (tests) or dist/.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const packageRoot = dirname(dirname(fileURLToPath(import.meta.url)));
/** The folder that holds the `esem_bridge` Python package. */
export const pythonRuntimeDir = join(packageRoot, "python");
