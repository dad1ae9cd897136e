/**
 * Events (or bytes) per second over a short sliding window, in fixed buckets
 * so that marking is O(1) and memory constant whatever the frame rate.
 */
const BUCKET_MS = 250;
const BUCKETS = 8; // 2 s window: steady enough to read, quick to show a stall

export class RateMeter {
  private readonly counts = new Float64Array(BUCKETS);
  private lastBucket = -1;

  mark(amount = 1, now = Date.now()): void {
    const b = Math.floor(now / BUCKET_MS);
    this.advance(b);
    this.counts[b % BUCKETS]! += amount;
  }

  /** Per second, over the window that ended now. */
  rate(now = Date.now()): number {
    const b = Math.floor(now / BUCKET_MS);
    this.advance(b);
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) if (i !== b % BUCKETS) sum += this.counts[i]!;
    // The current bucket is still filling; count whole buckets only.
    return sum / (((BUCKETS - 1) * BUCKET_MS) / 1000);
  }

  reset(): void {
    this.counts.fill(0);
    this.lastBucket = -1;
  }

  private advance(b: number): void {
    if (this.lastBucket < 0) {
      this.lastBucket = b;
      return;
    }
    if (b <= this.lastBucket) return;
    const steps = Math.min(BUCKETS, b - this.lastBucket);
    for (let i = 1; i <= steps; i++) this.counts[(this.lastBucket + i) % BUCKETS] = 0;
    this.lastBucket = b;
  }
}
