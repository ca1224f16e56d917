// Compile-time checks of every public type (run by `tsc -p tsconfig.test.json`
// in `npm test`, and under `tsc --strict` by test/types-strict.test.ts);
// nothing here runs. Each `// @ts-expect-error` line must fail to compile:
// tsc reports an unused one as an error, so a type that grew too loose
// breaks the build. test/types-strict.test.ts also checks that the
// expected errors are the ones named here.
import {
  python,
  createBridge,
  createPool,
  kw,
  opts,
  release,
  setattr,
  iterate,
  type Kwargs,
  type CallOptionsMarker,
  type ModuleProxy,
  type NDArray,
  type NDArrayLike,
  type ProxyOps,
  type PyMember,
  type PyProxy,
  type Remote,
  type RemoteClass,
  type RemoteFunction,
  type RemoteGenerator,
  type RemoteIterable,
  type Value,
  type Member,
  type PyCallable,
  type RemoteConstructor,
  type NumericArray,
  type BridgeInfo,
  type BridgeErrorCode,
  type Mode,
  PythonError,
  BridgeError,
  shared,
  toJs,
  len,
  getitem,
  contains,
} from "../src/index.ts";

type Expect<T extends true> = T;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// A TS description of calculator.py.
declare class Calculator {
  constructor(precision?: number);
  precision: number;
  readonly history: number[];
  add(a: number, b: number): number;
  scale(x: number, kwargs?: Kwargs<{ factor?: number }>): number;
  static fromString(text: string): Remote<Calculator>;
  static DEFAULT_PRECISION: number;
}
interface CalculatorModule {
  VERSION: string;
  readonly LIMIT: number;
  add(a: number, b: number): number;
  round(x: number, digits?: number): number;
  Calculator: typeof Calculator;
}

export async function typedModule() {
  const mod = await python<CalculatorModule>("./calculator.py");
  // A file: URL names the same file beside the caller (SPEC §2).
  const byUrl = await python<CalculatorModule>(new URL("file:///srv/app/calculator.py"));
  const viaUrl = await byUrl.add(2, 3);
  type _viaUrl = Expect<Equal<typeof viaUrl, number>>;
  const sum = await mod.add(2, 3);
  type _sum = Expect<Equal<typeof sum, number>>;
  const version = await mod.VERSION;
  type _version = Expect<Equal<typeof version, string>>;
  const r1 = await mod.round(1.5);
  const r2 = await mod.round(1.5, 1);
  type _r = Expect<Equal<typeof r1 | typeof r2, number>>;
  // @ts-expect-error: add takes numbers
  await mod.add("a", 1);
  // @ts-expect-error: add takes two arguments
  await mod.add(1);
  // @ts-expect-error: no such function in the description
  await mod.subtract(1, 2);
  // @ts-expect-error: a result is a promise until awaited
  const notYet: number = mod.add(1, 2);
  // @ts-expect-error: an attribute is read with await
  const alsoNotYet: string = mod.VERSION;
  const asRemote: Remote<CalculatorModule> = mod;
  const asModuleProxy: ModuleProxy<CalculatorModule> = mod;
  const { add, Calculator: Calc } = mod; // destructuring keeps the types
  const n: number = await add(1, 2);
  const c: Remote<Calculator> = await Calc(1);
  void notYet, alsoNotYet, asRemote, asModuleProxy, n, c;
}

export async function classesAndInstances() {
  const mod = await python<CalculatorModule>("./calculator.py");
  const calc = await mod.Calculator(2);
  const calc2 = await new mod.Calculator(kw({ precision: 3 }));
  const calc3 = await mod.Calculator();
  type _calc = Expect<Equal<typeof calc | typeof calc2 | typeof calc3, Remote<Calculator>>>;
  const r = await calc.add(1.234, 2.345);
  type _r = Expect<Equal<typeof r, number>>;
  const p = await calc.precision;
  type _p = Expect<Equal<typeof p, number>>;
  const h = await calc.history;
  type _h = Expect<Equal<typeof h, number[]>>;
  // @ts-expect-error: the constructor takes a number
  await mod.Calculator("2");
  // @ts-expect-error: the instance has no such method
  await calc.subtract(1, 2);

  // Static methods, classmethods and class attributes, on the class proxy.
  const parsed = await mod.Calculator.fromString("2");
  type _parsed = Expect<Equal<typeof parsed, Remote<Calculator>>>;
  const dp = await mod.Calculator.DEFAULT_PRECISION;
  type _dp = Expect<Equal<typeof dp, number>>;
  // @ts-expect-error: fromString takes a string
  await mod.Calculator.fromString(2);
  // @ts-expect-error: instance methods are not on the class
  await mod.Calculator.add(1, 2);

  // Assignment: writable attributes take a value of their type (the proxy queues a setattr).
  calc.precision = 4;
  mod.VERSION = "2.0";
  mod.Calculator.DEFAULT_PRECISION = 3;
  // @ts-expect-error: precision is a number
  calc.precision = "4";
  // @ts-expect-error: readonly in the description (a property without a setter)
  calc.history = [];
  // @ts-expect-error: readonly in the description
  mod.LIMIT = 3;
  // @ts-expect-error: methods are not assigned
  calc.add = (a: number, b: number) => a + b;
  // @ts-expect-error: nor classes
  mod.Calculator = mod.Calculator;

  // Keyword arguments: a typed kw() is checked against the signature's own.
  const s1 = await calc.scale(2, kw({ factor: 3 }));
  const s2 = await calc.scale(kw({ x: 2, factor: 3 }));
  type _s = Expect<Equal<typeof s1 | typeof s2, number>>;
  // @ts-expect-error: factor is a number
  await calc.scale(2, kw({ factor: "3" }));
  // Any kw() on a signature without one of its own (a name Python may accept).
  const added = await calc.add(kw({ a: 1, b: 2 }));
  type _added = Expect<Equal<typeof added, number>>;

  // The bridge's own operations.
  await calc.release();
  await release(calc2);
  await calc3[Symbol.asyncDispose]();
  // @ts-expect-error: not iterable in the description
  for await (const x of calc) void x;
}

export async function callOptions() {
  const mod = await python<CalculatorModule>("./calculator.py");
  const calc = await mod.Calculator(2);
  const a = await mod.add(1, 2, opts({ timeout: 100 }));
  const b = await mod.round(1.5, opts({ signal: new AbortController().signal }));
  const c = await calc.scale(2, kw({ factor: 3 }), opts({ timeout: 5 }));
  const d = await calc.scale(2, opts({ timeout: 5 }), kw({ factor: 3 }));
  type _abcd = Expect<Equal<typeof a | typeof b | typeof c | typeof d, number>>;
  const live = await mod.add(1, 2, opts({ result: "proxy" }));
  type _live = Expect<Equal<typeof live, PyProxy>>;
  const made = await mod.Calculator(2, opts({ timeout: 10 }));
  type _made = Expect<Equal<typeof made, Remote<Calculator>>>;
  // @ts-expect-error: still checks the arguments before the options
  await mod.add("1", 2, opts({ timeout: 100 }));
  // @ts-expect-error: not an option
  opts({ retries: 2 });
  const marker: CallOptionsMarker = opts({ result: "value" });
  void marker;
}

// Results map to what the bridge gives back.
declare class Node {
  name: string;
  child(): Node;
}
declare class Point {
  x: number;
  y: number;
}
interface Shapes {
  nodes(): Node[];
  root: Node;
  pair(): [number, string];
  table(): Record<string, Node>;
  lookup(): Map<number, string>;
  tags(): Set<string>;
  when(): Date;
  bytes(): Buffer;
  grid(): NDArray<Float64Array>;
  total(values: NDArrayLike): number;
  count(n: number): Iterator<number>;
  stream(): AsyncIterable<string>;
  gen(): Generator<number, void, string>;
  later(): Promise<number>;
  factory(): typeof Calculator;
  adder(): (a: number) => number;
  point(): Remote<Point>;
  plain(): Point;
  anything(): any;
  onEvent(callback: (value: number) => string | Promise<string>): null;
}

export async function results() {
  const m = await python<Shapes>("./shapes.py");
  const nodes = await m.nodes();
  type _nodes = Expect<Equal<typeof nodes, Remote<Node>[]>>;
  const name = await nodes[0].name;
  type _name = Expect<Equal<typeof name, string>>;
  // An object attribute chains on without await (one round trip).
  const grandchild = await m.root.child();
  type _gc = Expect<Equal<typeof grandchild, Remote<Node>>>;
  const root = await m.root;
  type _root = Expect<Equal<typeof root, Remote<Node>>>;
  const pair = await m.pair();
  type _pair = Expect<Equal<typeof pair, [number, string]>>;
  const table = await m.table();
  type _table = Expect<Equal<typeof table, { [key: string]: Remote<Node> }>>;
  const lookup = await m.lookup();
  type _lookup = Expect<Equal<typeof lookup, Map<number, string>>>;
  const tags = await m.tags();
  type _tags = Expect<Equal<typeof tags, Set<string>>>;
  const when = await m.when();
  type _when = Expect<Equal<typeof when, Date>>;
  const bytes = await m.bytes();
  type _bytes = Expect<Equal<typeof bytes, Buffer>>;
  const grid = await m.grid();
  const shape: number[] = grid.shape;
  const first: number = grid[0];
  await m.total(grid);
  await m.total(new Float32Array(3));
  await m.total(Object.assign(new Int32Array(6), { shape: [2, 3] }));
  // @ts-expect-error: a list is not an ndarray parameter (pass a TypedArray)
  await m.total([1, 2, 3]);
  const later = await m.later();
  type _later = Expect<Equal<typeof later, number>>;
  const Factory = await m.factory();
  const made = await Factory(2);
  type _made = Expect<Equal<typeof made, Remote<Calculator>>>;
  const adder = await m.adder();
  const added = await adder(1);
  type _added = Expect<Equal<typeof added, number>>;
  const point = await m.point();
  type _point = Expect<Equal<typeof point, Remote<Point>>>;
  const plain = await m.plain();
  type _plain = Expect<Equal<typeof plain, { x: number; y: number }>>;
  const anything = await m.anything();
  type _anything = Expect<Equal<typeof anything, any>>;
  await m.onEvent((v) => String(v));
  await m.onEvent(async (v) => String(v + 1));
  // @ts-expect-error: the callback gets a number and returns a string
  await m.onEvent((v: string) => v);
  void shape, first;
}

export async function iteration() {
  const m = await python<Shapes>("./shapes.py");
  const counted = await m.count(3);
  type _counted = Expect<Equal<typeof counted, RemoteIterable<number>>>;
  for await (const x of counted) {
    type _x = Expect<Equal<typeof x, number>>;
  }
  // @ts-expect-error: a Python iterator is a proxy, not an array
  const asArray: number[] = await m.count(3);
  // @ts-expect-error: and has no length
  counted.length;
  for await (const s of await m.stream()) {
    type _s = Expect<Equal<typeof s, string>>;
  }
  const gen = await m.gen();
  type _gen = Expect<Equal<typeof gen, RemoteGenerator<number, string>>>;
  const sent = await gen.send("x");
  type _sent = Expect<Equal<typeof sent, number>>;
  await gen.close();
  await counted.release();
  await using scoped = await m.count(2);
  for await (const x of iterate(scoped)) void x;
  void asArray;
}

interface Bag extends Iterable<string> {
  size(): number;
}
interface BagModule {
  Bag: new () => Bag;
}

export async function iterableObjects() {
  const m = await python<BagModule>("./bag.py");
  const bag = await m.Bag();
  for await (const item of bag) {
    type _item = Expect<Equal<typeof item, string>>;
  }
}

// A Python object with a `release` of its own: that one wins (SPEC §2).
declare class Lease {
  release(force: boolean): string;
}
export async function ownRelease() {
  const m = await python<{ Lease: typeof Lease }>("./lease.py");
  const lease = await m.Lease();
  const said = await lease.release(true);
  type _said = Expect<Equal<typeof said, string>>;
  await release(lease); // the bridge's release, always
  await lease[Symbol.asyncDispose]();
}

export async function untyped() {
  const mod = await python("json");
  type _mod = Expect<Equal<typeof mod, PyProxy>>;
  const text = await mod.dumps([1, 2], kw({ indent: 2 }));
  type _text = Expect<Equal<typeof text, any>>;
  const anything = await mod.some.deep.attribute;
  type _anything = Expect<Equal<typeof anything, any>>;
  const nested = mod.some.deep.call(1);
  type _nested = Expect<Equal<typeof nested, Promise<any>>>;
  const obj = await mod.JSONDecoder();
  const obj2 = await new mod.JSONDecoder();
  const timed = await mod.dumps([1], opts({ timeout: 100 }));
  await obj.release();
  await release(obj2);
  await setattr(obj, "strict", false);
  for await (const x of mod) void x;
  const member: PyMember = mod.dumps;
  const proxy: PyProxy = mod;
  const ops: ProxyOps = mod;
  // @ts-expect-error: a call is a promise until awaited
  const notYet: string = mod.dumps([1]);
  // @ts-expect-error: an untyped proxy takes no assignment (use setattr)
  mod.x = 1;
  void text, anything, timed, member, proxy, ops, notYet;
}

export async function bridgesAndPools() {
  const bridge = createBridge({ mode: "subprocess" });
  const m = await bridge.python<CalculatorModule>("./calculator.py");
  const n: number = await m.add(1, 2);
  const u = await bridge.python("math");
  type _u = Expect<Equal<typeof u, PyProxy>>;
  const pool = createPool({ size: 2 });
  const pm = await pool.python<CalculatorModule>("./calculator.py");
  const pn: number = await pm.add(1, 2);
  void n, pn;
}

// The helper types on their own.
export function helperTypes() {
  type _v1 = Expect<Equal<Value<number>, number>>;
  type _v2 = Expect<Equal<Value<Calculator>, Remote<Calculator>>>;
  type _v3 = Expect<Equal<Value<Remote<Calculator>>, Remote<Calculator>>>;
  type _v4 = Expect<Equal<Value<Iterator<string>>, RemoteIterable<string>>>;
  type _v5 = Expect<Equal<Value<Record<string, any>>, { [key: string]: any }>>;
  type _v6 = Expect<Equal<Value<number | null>, number | null>>;
  type _v7 = Expect<Equal<Value<typeof Calculator>, RemoteClass<typeof Calculator>>>;
  type _v8 = Expect<Equal<Value<(a: string) => number>, RemoteFunction<[a: string], number>>>;
  type _r = Expect<Equal<Remote<any>, PyProxy>>;
  const k: Kwargs<{ a: number }> = kw({ a: 1 });
  const loose: Kwargs<any> = kw(new Map([["a", 1]]));
  // @ts-expect-error: a typed Kwargs checks its values
  const wrong: Kwargs<{ a: number }> = kw({ a: "1" });
  void k, loose, wrong;
}

// The rest of the public surface that proxies meet.
export async function otherPublicTypes() {
  const bridge = createBridge();
  const info: BridgeInfo = bridge.info();
  const mode: Mode | null = info.mode;
  // @ts-expect-error: not a mode
  const bad: Mode = "threads";
  const mod = await bridge.python("json");
  const n: number = await len(mod);
  const item: unknown = await getitem(mod, 0);
  const has: boolean = await contains(mod, "x");
  const plain: unknown = await toJs(mod);
  shared(new Float64Array(2));
  // @ts-expect-error: shared() takes memory, not a string
  shared("text");
  try {
    await mod.loads("{");
  } catch (error) {
    if (error instanceof PythonError) {
      const t: string = error.pythonType;
      const tb: string = error.pythonTraceback;
      void t, tb;
    }
    if (error instanceof BridgeError) {
      const code: BridgeErrorCode = error.code;
      void code;
    }
  }
  const call: PyCallable = mod.dumps;
  const arr: NumericArray = new Float64Array(1);
  // @ts-expect-error: a plain array is not a TypedArray
  const notArr: NumericArray = [1];
  type _member = Expect<Equal<Member<number>, PromiseLike<number>>>;
  type _ctor = Expect<RemoteClass<typeof Calculator> extends RemoteConstructor<[precision?: number], Calculator> ? true : false>;
  void mode, bad, n, item, has, plain, call, arr, notArr;
}
