// createPool(): several bridges behind one API (docs/concurrency.md#pools).
// A module loaded through the pool is loaded by every member; a call of a
// module's function (or class) goes to the member with the fewest calls in
// flight, and what it returns is that member's: an object stays with the
// member that made it, so its methods run there. Subprocess members (the
// default) run Python on more than one core.
import type { BridgeInfo, Mode, ShutdownOptions } from "./backend.js";
import { Bridge, type BridgeOptions, type ModuleProxy } from "./bridge.js";
import { backendOf, evaluate, execute, readStatement } from "./expressions.js";
import { moduleSpec } from "./module-spec.js";

export interface PoolOptions extends BridgeOptions {
  /** How many bridges (default: 2; 1 to 64). */
  size?: number;
}

type Callable = (...args: unknown[]) => unknown;

/** Several bridges with the API of one (createPool). */
export class Pool {
  readonly size: number;
  private readonly members: Bridge[];
  private readonly inFlight: number[];
  private next = 0;

  constructor(options: PoolOptions = {}) {
    const size = options.size ?? 2;
    if (!(Number.isInteger(size) && size >= 1 && size <= 64)) {
      throw new TypeError(`createPool(): size must be a whole number from 1 to 64, not ${String(size)}`);
    }
    const { size: _size, ...bridgeOptions } = options;
    const mode = bridgeOptions.mode ?? "subprocess";
    this.size = size;
    this.members = Array.from({ length: size }, () => new Bridge({ ...bridgeOptions, mode }));
    this.inFlight = new Array<number>(size).fill(0);
  }

  /** The members' mode. */
  get mode(): Mode {
    return this.members[0].mode;
  }

  /** The first member's details, with the pool's size. */
  info(): BridgeInfo & { size: number } {
    return { ...this.members[0].info(), size: this.size };
  }

  /**
   * Loads the module on every member, and returns one proxy for all of
   * them: its functions and classes run on the least busy member.
   */
  async python<T = never>(spec: string | URL): Promise<ModuleProxy<T>> {
    const target = moduleSpec(spec); // a bad spec rejects once, not once per member
    const modules = (await Promise.all(this.members.map((m) => m.python(target)))) as unknown[];
    return this.spread(modules, []) as ModuleProxy<T>;
  }

  /**
   * bridge.eval() on the member that owns the proxies among the values
   * (or the namespace), else on the least busy member.
   */
  async eval(source: string | TemplateStringsArray, ...rest: unknown[]): Promise<any> {
    const statement = readStatement("eval", [source, ...rest]);
    return evaluate(backendOf(statement) ?? (await this.members[this.pick()].connected()).backend, statement);
  }

  /** bridge.exec() on the member that owns the namespace or the proxies given, else the least busy one. */
  async exec(source: string | TemplateStringsArray, ...rest: unknown[]): Promise<any> {
    const statement = readStatement("exec", [source, ...rest]);
    return execute(backendOf(statement) ?? (await this.members[this.pick()].connected()).backend, statement);
  }

  /** Shuts every member down. */
  async shutdown(options?: ShutdownOptions): Promise<void> {
    await Promise.all(this.members.map((m) => m.shutdown(options)));
  }

  private pick(): number {
    let best = this.next;
    for (let k = 0; k < this.size; k++) {
      const i = (this.next + k) % this.size;
      if (this.inFlight[i] < this.inFlight[best]) best = i;
    }
    this.next = (best + 1) % this.size;
    return best;
  }

  // A proxy over the same attribute path of every member's module.
  private spread(modules: unknown[], path: string[]): unknown {
    const at = (i: number): Callable => {
      let v = modules[i] as Record<string, unknown>;
      for (const name of path) v = v[name] as Record<string, unknown>;
      return v as unknown as Callable;
    };
    const pool = this;
    const call = (args: unknown[], construct: boolean): unknown => {
      const i = pool.pick();
      pool.inFlight[i]++;
      const target = at(i);
      const done = (): void => {
        pool.inFlight[i]--;
      };
      const result = construct ? Reflect.construct(target as unknown as new (...a: unknown[]) => unknown, args) : target(...args);
      if (result !== null && typeof (result as Promise<unknown>)?.then === "function") {
        (result as Promise<unknown>).then(done, done);
      } else {
        done();
      }
      return result;
    };
    const children = new Map<string, unknown>();
    return new Proxy(function poolMember() {} as unknown as object, {
      apply: (_t, _this, args) => call(args, false),
      construct: (_t, args) => call(args, true) as object,
      get: (_t, prop) => {
        if (typeof prop === "symbol") return (at(0) as unknown as Record<symbol, unknown>)[prop];
        if (prop === "then") {
          // `await pool.mod.value` reads the attribute (on the first member); a module itself is not awaited.
          if (path.length === 0) return undefined;
          const first = at(0) as unknown as PromiseLike<unknown>;
          return first.then.bind(first);
        }
        let child = children.get(prop);
        if (child === undefined) children.set(prop, (child = pool.spread(modules, [...path, prop])));
        return child;
      },
      has: (_t, prop) => prop in (at(0) as unknown as object),
      // The first member's names (destructuring, Object.keys), plus the target's own.
      ownKeys: (t) => {
        const own = Reflect.ownKeys(t);
        return [...Reflect.ownKeys(at(0) as unknown as object).filter((k) => !own.includes(k)), ...own];
      },
      getOwnPropertyDescriptor: (t, prop) => {
        const own = Reflect.getOwnPropertyDescriptor(t, prop);
        if (own) return own;
        const d = Reflect.getOwnPropertyDescriptor(at(0) as unknown as object, prop);
        return d ? { value: (pool.spread(modules, [...path, String(prop)])), writable: false, enumerable: d.enumerable, configurable: true } : undefined;
      },
    });
  }
}

/** Several bridges behind one API: calls go to the least busy member (docs/concurrency.md#pools). */
export function createPool(options?: PoolOptions): Pool {
  return new Pool(options);
}
