// Calls of the subprocess mode awaiting their replies.

/** How a module was imported, to load it again in a later worker (see ModuleReloads). */
export interface ModuleSource {
  spec: string;
  cwd: string;
}

export interface Pending {
  seq: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** An import: the module's source, and whether its reply gives the bare id (a reload) instead of a proxy. */
  importOf?: { source: ModuleSource; bare: boolean };
}

/**
 * The worker answers in the order it was asked, so a queue (no hashing)
 * finds each reply's call; a reply for any other seq is a protocol error.
 */
export class PendingQueue {
  private items: Pending[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(p: Pending): void {
    this.items.push(p);
  }

  /** The seq the next reply must carry, or undefined when nothing is pending. */
  get expected(): number | undefined {
    return this.items[this.head]?.seq;
  }

  /** The call `seq` answers, or undefined (and the queue unchanged) when it is not the oldest. */
  take(seq: number): Pending | undefined {
    const p = this.items[this.head];
    if (!p || p.seq !== seq) return undefined;
    this.items[this.head++] = undefined as unknown as Pending;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return p;
  }

  drain(): Pending[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}
