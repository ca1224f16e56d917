// `import { f } from "python:./m.py"` (esem-bridge/register) in TypeScript:
// every python: module and each of its names is `any`. Reference it once
// (`/// <reference types="esem-bridge/python" />`, or "types" in tsconfig).
// For precise types of one module, generate its own declaration, which wins
// over this one: `esem types ./m.py --ambient --out m.d.ts` (docs/typescript.md).
declare module "python:*";
