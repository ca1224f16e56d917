// Child script: a `python:` import of a fixture that counts its top-level
// runs (run under esem-bridge/register). Prints the imported name.
import { ANSWER } from "python:../../fixtures/run_counter.py";
import { shutdown } from "../../../dist/index.js";

console.log(await ANSWER);
await shutdown();
