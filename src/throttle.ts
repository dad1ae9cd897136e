/**
 * Cuts a frame flow down to what a slow consumer can take, keeping the newest.
 *
 * Why "newest, at most one held": a consumer that is slower than the camera
 * (detection, upload, a dashboard) wants the most recent picture, not a queue
 * of stale ones. So the throttle never holds more than one item; a newer item
 * replaces the held one, which is counted as dropped.
 *
 * Framework-free and generic over the item (the node passes whole msgs), with
 * an injectable clock so tests can drive time.
 */
import { CameraError, ErrorCodes } from './errors';
import { RateMeter } from './rate-meter';

export type ThrottleMode = 'fps' | 'nth' | 'ready';

export interface ThrottleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: ThrottleClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Above this a "max fps" throttle would not throttle anything a camera sends. */
export const MAX_THROTTLE_FPS = 1000;
/** Every Nth frame: a sanity bound only. */
export const MAX_NTH = 1_000_000;

export interface ThrottleOptions<T> {
  mode: ThrottleMode;
  /** Mode `fps`: at most this many items per second (> 0, fractions allowed: 0.2 = one per 5 s). */
  fps?: number;
  /** Mode `nth`: forward the 1st, (n+1)th, (2n+1)th … item. */
  nth?: number;
  /**
   * Mode `ready`: whether the consumer counts as ready before its first
   * "ready" (so the first item goes straight out and starts the loop). Default true.
   */
  readyAtStart?: boolean;
  emit(item: T): void;
  /** Called for every item that will never be emitted (replaced or skipped). */
  onDrop?(item: T): void;
  clock?: ThrottleClock;
}

export interface ThrottleStats {
  in: number;
  out: number;
  dropped: number;
  /** Items per second in / out over the last couple of seconds. */
  inFps: number;
  outFps: number;
  held: boolean;
}

/** Checks the options a user can get wrong; returns a CameraError(ERR_INVALID_SETTING) or null. */
export function validateThrottleOptions(o: { mode: unknown; fps?: unknown; nth?: unknown }): CameraError | null {
  const bad = (m: string) => new CameraError(ErrorCodes.INVALID_SETTING, m);
  switch (o.mode) {
    case 'fps':
      if (typeof o.fps !== 'number' || !Number.isFinite(o.fps) || o.fps <= 0 || o.fps > MAX_THROTTLE_FPS) {
        return bad(`fps must be a number above 0 and at most ${MAX_THROTTLE_FPS}, got ${String(o.fps)}`);
      }
      return null;
    case 'nth':
      if (typeof o.nth !== 'number' || !Number.isInteger(o.nth) || o.nth < 1 || o.nth > MAX_NTH) {
        return bad(`every Nth frame needs a whole number N from 1 to ${MAX_NTH}, got ${String(o.nth)}`);
      }
      return null;
    case 'ready':
      return null;
    default:
      return bad(`mode must be fps, nth or ready, got ${String(o.mode)}`);
  }
}

export class FrameThrottle<T> {
  private readonly opts: ThrottleOptions<T>;
  private readonly clock: ThrottleClock;
  private readonly intervalMs: number;
  private held: { item: T } | null = null;
  private timer: unknown = null;
  private lastEmitAt = -Infinity;
  private seen = 0;
  private readyCredit: boolean;
  private closed = false;
  private readonly inRate = new RateMeter();
  private readonly outRate = new RateMeter();
  private counts = { in: 0, out: 0, dropped: 0 };

  constructor(opts: ThrottleOptions<T>) {
    const err = validateThrottleOptions(opts);
    if (err) throw err;
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.intervalMs = opts.mode === 'fps' ? 1000 / opts.fps! : 0;
    this.readyCredit = opts.readyAtStart ?? true;
  }

  get stats(): ThrottleStats {
    const now = this.clock.now();
    return {
      ...this.counts,
      inFps: this.inRate.rate(now),
      outFps: this.outRate.rate(now),
      held: this.held !== null,
    };
  }

  push(item: T): void {
    if (this.closed) {
      this.drop(item);
      return;
    }
    this.counts.in++;
    this.inRate.mark(1, this.clock.now());
    switch (this.opts.mode) {
      case 'fps':
        return this.pushFps(item);
      case 'nth':
        return this.pushNth(item);
      case 'ready':
        return this.pushReady(item);
    }
  }

  /** The consumer can take one more item (mode `ready`; ignored in the other modes). */
  ready(): void {
    if (this.closed || this.opts.mode !== 'ready') return;
    const held = this.takeHeld();
    if (held) this.emit(held.item);
    else this.readyCredit = true; // one credit only: several readies still mean one item
  }

  /** Clears the timer and drops the held item. Further pushes are dropped. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    const held = this.takeHeld();
    if (held) this.drop(held.item);
  }

  private pushFps(item: T): void {
    const now = this.clock.now();
    if (this.timer === null && now - this.lastEmitAt >= this.intervalMs) {
      this.lastEmitAt = now;
      this.emit(item);
      return;
    }
    this.hold(item);
    if (this.timer === null) {
      const wait = Math.max(0, this.lastEmitAt + this.intervalMs - now);
      this.timer = this.clock.setTimeout(() => this.onTrailingEdge(), wait);
    }
  }

  private onTrailingEdge(): void {
    this.timer = null;
    const held = this.takeHeld();
    if (!held) return;
    this.lastEmitAt = this.clock.now();
    this.emit(held.item);
  }

  private pushNth(item: T): void {
    const index = this.seen++;
    if (index % this.opts.nth! === 0) this.emit(item);
    else this.drop(item);
  }

  private pushReady(item: T): void {
    if (this.readyCredit) {
      this.readyCredit = false;
      this.emit(item);
    } else {
      this.hold(item);
    }
  }

  private hold(item: T): void {
    const previous = this.held;
    this.held = { item };
    if (previous) this.drop(previous.item);
  }

  private takeHeld(): { item: T } | null {
    const h = this.held;
    this.held = null;
    return h;
  }

  private emit(item: T): void {
    this.counts.out++;
    this.outRate.mark(1, this.clock.now());
    this.opts.emit(item);
  }

  private drop(item: T): void {
    this.counts.dropped++;
    this.opts.onDrop?.(item);
  }
}
