/**
 * A counting semaphore over bytes: acquire(n) resolves once n bytes fit under the limit (a single
 * request larger than the limit waits until it is alone), in arrival order, and can be aborted.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  async acquire(n: number, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.waiters.length === 0 && this.fits(n)) {
      this.used += n;
    } else {
      await new Promise<void>((resolve, reject) => {
        const waiter = { n, resolve: () => { signal?.removeEventListener('abort', onAbort); resolve(); } };
        const onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal!.reason ?? new Error('aborted'));
          this.pump();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(waiter);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= n;
      this.pump();
    };
  }

  private fits(n: number): boolean {
    return this.used === 0 || this.used + n <= this.limit;
  }

  private pump(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.n)) {
      const w = this.waiters.shift()!;
      this.used += w.n;
      w.resolve();
    }
  }
}
