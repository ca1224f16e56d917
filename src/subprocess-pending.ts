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
 * The calls a worker has not answered, by seq. Replies mostly come in the
 * order of the calls, but not always: a call that waits for a JS callback
 * lets later ones (the callback's own calls) finish first, and a coroutine
 * call ends whenever it ends. A reply for a seq that is not pending is a
 * protocol error, but for a call that was cancelled: its reply (if the
 * worker had already run it) is dropped.
 */
export class PendingCalls {
  private items = new Map<number, Pending>();
  /** Cancelled calls whose reply has not come yet. */
  private cancelled = new Set<number>();

  get size(): number {
    return this.items.size;
  }

  push(p: Pending): void {
    this.items.set(p.seq, p);
  }

  /** The oldest pending seq, or undefined when nothing is pending (for messages). */
  get expected(): number | undefined {
    for (const seq of this.items.keys()) return seq;
    return undefined;
  }

  /** The call `seq` answers, or undefined (and nothing changed) when it is not pending. */
  take(seq: number): Pending | undefined {
    const p = this.items.get(seq);
    if (p !== undefined) this.items.delete(seq);
    return p;
  }

  /** Whether call `seq` is pending. */
  has(seq: number): boolean {
    return this.items.has(seq);
  }

  /** Call `seq` is cancelled: no longer pending, its reply to come is dropped. The call, if it was pending. */
  cancel(seq: number): Pending | undefined {
    const p = this.take(seq);
    if (p !== undefined) this.cancelled.add(seq);
    return p;
  }

  /** Whether a reply for `seq` is that of a cancelled call (and forgets it). */
  dropCancelled(seq: number): boolean {
    return this.cancelled.delete(seq);
  }

  /** Whether cancelled call `seq` has not been answered yet (it is still running or queued). */
  stillCancelling(seq: number): boolean {
    return this.cancelled.has(seq);
  }

  drain(): Pending[] {
    const out = [...this.items.values()];
    this.items.clear();
    this.cancelled.clear();
    return out;
  }
}
