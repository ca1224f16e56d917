// Module proxies outlive their worker: the bridge keeps how each module was
// imported, by the id its proxy has, and loads it again in the next worker
// when the proxy is used. A proxy's old id then maps to the module's id in
// that worker (a chain after several deaths). JS thread.
import type { ModuleSource } from "./subprocess-pending.js";

export class ModuleReloads {
  /** How to load each module again, by the id its proxy (or its reload) has; an entry goes when its proxy is released. */
  private readonly sources = new Map<number, ModuleSource>();
  /** A module proxy's id -> its module's id in a later worker. */
  private readonly remapped = new Map<number, number>();
  private readonly reloading = new Map<number, Promise<number>>();

  /**
   * `load`: imports a module in the current worker and gives its bare id;
   * `release`: releases an id (a reload whose proxy went while it loaded).
   */
  constructor(
    private readonly load: (source: ModuleSource) => Promise<number>,
    private readonly release: (id: number) => void,
  ) {}

  /** Module `id` was imported from `source`. */
  imported(id: number, source: ModuleSource): void {
    this.sources.set(id, source);
  }

  /** Whether `ref` (a current id) is a module that can be loaded again. */
  reloadable(ref: number): boolean {
    return this.sources.has(ref);
  }

  /** A ref id after the module reloads that replaced it, if any. */
  current(ref: number): number {
    for (let next = this.remapped.get(ref); next !== undefined; next = this.remapped.get(ref)) ref = next;
    return ref;
  }

  /** Drops what is kept for a released proxy's id (module source, reload chain); its current id. */
  forget(ref: number): number {
    this.sources.delete(ref);
    for (let next = this.remapped.get(ref); next !== undefined; next = this.remapped.get(ref)) {
      this.remapped.delete(ref);
      ref = next;
      this.sources.delete(ref);
    }
    return ref;
  }

  /** Loads a module again in the current worker; one reload per module and worker. */
  reload(ref: number): Promise<number> {
    let reload = this.reloading.get(ref);
    if (!reload) {
      reload = this.load(this.sources.get(ref)!).then((fresh) => {
        if (this.sources.has(ref)) this.remapped.set(ref, fresh);
        else this.release(fresh); // released while it loaded
        return fresh;
      });
      this.reloading.set(ref, reload);
      const forget = () => this.reloading.delete(ref);
      reload.then(forget, forget);
    }
    return reload;
  }
}
