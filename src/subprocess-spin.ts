// While calls are pending, keep the event loop polling (a queued
// setImmediate makes libuv poll with a zero timeout) for ESEM_SPIN_US
// (default 100 µs) after the last activity: a reply that comes back within
// microseconds is read without waking the thread from sleep, which costs
// tens of µs here. JS thread.

export class Spinner {
  private until = 0;
  private spinning = false;
  private readonly micros = spinBudget();

  /** `busy`: whether calls are pending (the spin stops when none are). */
  constructor(private readonly busy: () => boolean) {}

  /** A call was sent: spin from now on. */
  start(): void {
    if (this.spinning || this.micros <= 0) return; // spinning: the replies' touch() keeps it going
    this.touch();
    this.spinning = true;
    const tick = () => {
      if (!this.busy() || performance.now() > this.until) {
        this.spinning = false;
        return;
      }
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  /** Activity (a reply): the spin goes on for its budget from now. */
  touch(): void {
    this.until = performance.now() + this.micros / 1000;
  }
}

function spinBudget(): number {
  const us = Number(process.env.ESEM_SPIN_US);
  return Number.isFinite(us) && us >= 0 ? us : 100;
}
