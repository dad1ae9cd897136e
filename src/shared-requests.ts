/**
 * Joins concurrent identical requests into one: a burst of snapshot triggers
 * must not become a burst of camera requests (cameras serve few at a time).
 *
 * Each waiter brings its own AbortSignal (its own timeout, its node's close);
 * leaving does not disturb the others. The shared request itself is aborted
 * only when the last waiter has gone, with the reason `cancelled()` gives.
 */
interface Flight<T> {
  /** Order of opening: flights with a higher id started later. */
  id: number;
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
  settled: boolean;
}

export class SharedRequests<T> {
  private readonly flights = new Map<string, Flight<T>>();
  private opened = 0;

  constructor(private readonly cancelled: () => unknown) {}

  /** Requests running now, for tests and status. */
  get size(): number {
    return this.flights.size;
  }

  /** Waits for the request `key`, starting it with `start` if none runs. */
  join(key: string, start: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    const f = this.flights.get(key) ?? this.open(key, start);
    f.waiters++;
    return new Promise<T>((resolve, reject) => {
      let left = false;
      const leave = (): void => {
        if (left) return;
        left = true;
        signal.removeEventListener('abort', onAbort);
        f.waiters--;
        if (f.waiters === 0 && !f.settled) {
          if (this.flights.get(key) === f) this.flights.delete(key);
          f.controller.abort(this.cancelled());
        }
      };
      const onAbort = (): void => {
        leave();
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      f.promise.then(
        (v) => {
          leave();
          resolve(v);
        },
        (e) => {
          leave();
          reject(e);
        },
      );
    });
  }

  /** A point in time for joinStartedAfter(): requests opened from now on are after it. */
  mark(): number {
    return this.opened;
  }

  /**
   * join(), but never a request opened before `mark`: a caller that wants an
   * image taken after its trigger waits for an older request to end, then
   * joins (or opens) the next one, so a burst still shares one request.
   */
  async joinStartedAfter(key: string, start: (signal: AbortSignal) => Promise<T>, signal: AbortSignal, mark: number): Promise<T> {
    for (;;) {
      const f = this.flights.get(key);
      if (!f || f.id > mark) return this.join(key, start, signal);
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal.reason);
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        const settle = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        f.promise.then(settle, settle);
      });
    }
  }

  private open(key: string, start: (signal: AbortSignal) => Promise<T>): Flight<T> {
    const controller = new AbortController();
    const f: Flight<T> = { id: ++this.opened, controller, waiters: 0, settled: false, promise: Promise.resolve().then(() => start(controller.signal)) };
    const finish = (): void => {
      f.settled = true;
      if (this.flights.get(key) === f) this.flights.delete(key);
    };
    // Also keeps a rejection nobody waits for any more from becoming unhandled.
    f.promise.then(finish, finish);
    this.flights.set(key, f);
    return f;
  }
}
