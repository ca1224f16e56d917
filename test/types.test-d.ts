// Compile-time checks of the proxy types (run by `tsc -p tsconfig.test.json`
// in `npm test`); nothing here runs.
import { python, kw, type PyProxy, type Remote } from "../src/index.ts";

type Expect<T extends true> = T;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// A TS description of calculator.py.
declare class Calculator {
  constructor(precision?: number);
  precision: number;
  add(a: number, b: number): number;
}
interface CalculatorModule {
  VERSION: string;
  add(a: number, b: number): number;
  Calculator: typeof Calculator;
}

export async function typed() {
  const mod = await python<CalculatorModule>("./calculator.py");
  // A file: URL names the same file beside the caller (SPEC §2).
  const byUrl = await python<CalculatorModule>(new URL("file:///srv/app/calculator.py"));
  const viaUrl = await byUrl.add(2, 3);
  type _viaUrl = Expect<Equal<typeof viaUrl, number>>;
  const sum = await mod.add(2, 3);
  type _sum = Expect<Equal<typeof sum, number>>;
  const version = await mod.VERSION;
  type _version = Expect<Equal<typeof version, string>>;
  const calc = await mod.Calculator(2);
  const calc2 = await new mod.Calculator(kw({ precision: 3 }));
  const r = await calc.add(1.234, 2.345);
  type _r = Expect<Equal<typeof r, number>>;
  const p = await calc.precision;
  type _p = Expect<Equal<typeof p, number>>;
  await calc.release();
  await calc2[Symbol.asyncDispose]();
  // @ts-expect-error: add takes numbers
  await mod.add("a", 1);
  // @ts-expect-error: no such function in the description
  await mod.subtract(1, 2);
  const asRemote: Remote<CalculatorModule> = mod;
  void asRemote;
}

export async function untyped() {
  const mod = await python("json");
  const text = await mod.dumps([1, 2], kw({ indent: 2 }));
  const anything = await mod.some.deep.attribute;
  const obj = await mod.JSONDecoder();
  await obj.release();
  const proxy: PyProxy = mod;
  void text, anything, proxy;
}
