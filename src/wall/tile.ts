/**
 * One tile's share of a page's connection: a rate cap, a credit window and a
 * single newest-frame slot, so a slow tile or a slow browser never makes the
 * server queue frames.
 *
 * A frame is sent only while fewer than `window` frames of this tile are
 * unacknowledged (the browser acks each one once drawn; a hidden or busy tab
 * therefore stops being sent to within `window` frames). A frame that cannot
 * go now replaces the pending one; it goes with the next ack. The rate cap is
 * applied when a frame arrives, on a grid, like the HTTP relay's `?fps=`.
 */
import type { ChannelFrame } from '../relay/frame-channel';

export const DEFAULT_WINDOW = 2;

export interface TileSenderOptions {
  /** Frames/s at most; 0 = every frame. */
  fps: number;
  window?: number;
  /** Writes the frame to the connection. Returns false when the connection cannot take more now. */
  send(frame: ChannelFrame): boolean;
  now?: () => number;
}

export interface TileStats {
  sent: number;
  acked: number;
  /** Replaced in the pending slot before they could be sent. */
  dropped: number;
  /** Left out by the rate cap. */
  skipped: number;
  inFlight: number;
}

export class TileSender {
  private readonly window: number;
  private readonly sendFn: (frame: ChannelFrame) => boolean;
  private readonly now: () => number;
  private intervalMs = 0;
  private nextDue = 0;
  private pending: ChannelFrame | null = null;
  private stopped = false;
  readonly stats: TileStats = { sent: 0, acked: 0, dropped: 0, skipped: 0, inFlight: 0 };

  constructor(opts: TileSenderOptions) {
    this.window = Math.max(1, Math.floor(opts.window ?? DEFAULT_WINDOW));
    this.sendFn = opts.send;
    this.now = opts.now ?? Date.now;
    this.setFps(opts.fps);
  }

  setFps(fps: number): void {
    this.intervalMs = fps > 0 ? 1000 / fps : 0;
    this.nextDue = 0;
  }

  get hasPending(): boolean {
    return this.pending !== null;
  }

  /** A new frame from the source. */
  offer(frame: ChannelFrame): void {
    if (this.stopped) return;
    if (this.intervalMs > 0) {
      const now = this.now();
      if (now < this.nextDue) {
        this.stats.skipped++;
        return;
      }
      // On a grid so the average is the cap, never two frames closer than half an interval.
      this.nextDue = Math.max(this.nextDue + this.intervalMs, now + this.intervalMs / 2);
    }
    if (this.pending) this.stats.dropped++;
    this.pending = frame;
    this.flush();
  }

  /** The browser drew one of this tile's frames. Extra acks (a confused client) are ignored. */
  ack(): void {
    if (this.stats.inFlight === 0) return;
    this.stats.inFlight--;
    this.stats.acked++;
    this.flush();
  }

  /** Sends the pending frame if the window and the connection allow; true when it went. */
  flush(): boolean {
    if (this.stopped || !this.pending || this.stats.inFlight >= this.window) return false;
    const f = this.pending;
    if (!this.sendFn(f)) return false;
    this.pending = null;
    this.stats.inFlight++;
    this.stats.sent++;
    return true;
  }

  /** Forgets the pending frame and refuses more (the tile was unsubscribed). */
  stop(): void {
    this.stopped = true;
    this.pending = null;
  }
}
