import type { Remote } from "../src/index.ts";
declare class Calculator { precision: number; add(a: number, b: number): number; }
declare const c: Remote<Calculator>;
type K = keyof Remote<Calculator>;
const k: K = null!;
k.foo;
export async function f() { for await (const x of c) { x.foo; } }
