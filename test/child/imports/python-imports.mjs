// Child script: `python:` imports, run under esem-bridge/register, the 0.1
// --experimental-loader, or `esem run`. The file spec resolves against this
// file's folder, not the cwd.
import calc, { add, Calculator, VERSION } from "python:../../fixtures/calculator.py";
import json from "python:json";

console.log(await add(2, 3));
console.log(await VERSION);
console.log(await (await Calculator(2)).add(1.234, 2.345));
console.log(await json.dumps([1, 2]));
console.log(await calc.add(1, 1));
