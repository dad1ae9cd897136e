/**
 * A growable byte buffer for frames whose size is not known in advance
 * (boundary search, raw JPEG mode). Input chunks are copied in, so no
 * reference to a caller's chunk outlives the push() that delivered it.
 */

import { copyInto, copyOf } from './copy';

const MIN_CAPACITY = 64 * 1024;
/** Above this, a scratch buffer much larger than the frames it holds is let go. */
const KEEP_CAPACITY = 1024 * 1024;

export class ByteAccumulator {
  buf: Buffer = Buffer.alloc(0);
  len = 0;

  /** `limit` caps growth; callers check their frame limit before appending. */
  constructor(private readonly limit: number) {}

  append(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    this.ensure(this.len + n);
    copyInto(this.buf, this.len, src, start, end);
    this.len += n;
  }

  /** An exact-size owned copy of `[start, end)`; the accumulator is cleared. */
  take(start = 0, end = this.len): Buffer {
    const out = copyOf(this.buf, start, end);
    this.clear();
    return out;
  }

  clear(): void {
    if (this.buf.length > KEEP_CAPACITY && this.len < this.buf.length / 4) this.buf = Buffer.alloc(0);
    this.len = 0;
  }

  /** Drop the scratch memory entirely. */
  release(): void {
    this.buf = Buffer.alloc(0);
    this.len = 0;
  }

  private ensure(needed: number): void {
    if (needed <= this.buf.length) return;
    const cap = Math.max(needed, Math.min(Math.max(this.buf.length * 2, MIN_CAPACITY), Math.max(this.limit, needed)));
    const next = Buffer.allocUnsafe(cap);
    copyInto(next, 0, this.buf, 0, this.len);
    this.buf = next;
  }
}
