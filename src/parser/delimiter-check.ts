/**
 * After a Content-Length body: is the next thing the delimiter?
 *
 * The length is trusted only if optional padding (at most
 * MAX_DELIMITER_PADDING bytes of whitespace) and then `--core` or `----core`
 * follow; otherwise the length was wrong and the caller resyncs. The common
 * case (CRLF + `--core` wholly inside the chunk) is checked in place without
 * copying; anything else (split across chunks, padding, the `----` form) goes
 * through a small buffer of the bytes seen so far.
 */

import { CR, LF, SPACE } from './framing-bytes';
import { MAX_DELIMITER_PADDING } from './limits';

/** From feed(): more bytes are needed; every byte given was taken. */
export const DELIM_NEED_MORE = -1;
/** From feed(): something else follows the body; no byte of this chunk was taken. */
export const DELIM_MISMATCH = -2;

export class DelimiterCheck {
  /** `--core` and the `----core` form of servers that announce `boundary=--core`. */
  private readonly needle: Buffer;
  private readonly needle2: Buffer;
  /** Bytes after the body seen so far, when the delimiter was not found in place. */
  private readonly buf: Buffer;
  private len = 0;
  /** Whitespace bytes at the start of `buf`, as of the last feed(). */
  padding = 0;
  /** How many held bytes came before the chunk last fed: after a mismatch, the rest is the caller's to parse again. */
  heldBefore = 0;

  constructor(core: string) {
    this.needle = Buffer.from('--' + core, 'latin1');
    this.needle2 = Buffer.from('----' + core, 'latin1');
    this.buf = Buffer.alloc(MAX_DELIMITER_PADDING + this.needle2.length);
  }

  /** Every byte after the body seen so far (for end of stream). */
  get held(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  start(): void {
    this.len = 0;
    this.heldBefore = 0;
  }

  /**
   * Look at `input[pos..]`: the index just past the delimiter when it is
   * complete, DELIM_NEED_MORE, or DELIM_MISMATCH.
   */
  feed(input: Buffer, pos: number): number {
    const prev = this.len;
    this.heldBefore = prev;
    if (prev === 0) {
      let i = pos;
      if (input[i] === CR) i++;
      if (input[i] === LF) i++;
      const needle = this.needle;
      const L = needle.length;
      if (i + L <= input.length) {
        // A byte loop: the needle is a few bytes, Buffer#compare's argument
        // checks and native call cost more than comparing them here.
        let k = 0;
        while (k < L && input[i + k] === needle[k]) k++;
        if (k === L) return i + L;
      }
    }
    const n = Math.min(this.buf.length - prev, input.length - pos);
    input.copy(this.buf, prev, pos, pos + n);
    this.len = prev + n;
    const r = this.match();
    if (r === DELIM_NEED_MORE) return DELIM_NEED_MORE; // the buffer is never full here: n was all of the input
    if (r === DELIM_MISMATCH) return DELIM_MISMATCH;
    return pos + (r - prev);
  }

  /**
   * Optional whitespace, then `----core` or `--core`, in the buffered bytes:
   * how many bytes through the end of the delimiter (always > 0), or
   * DELIM_NEED_MORE / DELIM_MISMATCH.
   */
  private match(): number {
    const b = this.buf;
    const n = this.len;
    let i = 0;
    while (i < n && i < MAX_DELIMITER_PADDING && SPACE[b[i]!] === 1) i++;
    this.padding = i;
    if (i >= MAX_DELIMITER_PADDING) return DELIM_MISMATCH;
    if (i === n) return DELIM_NEED_MORE;
    let partial = false;
    for (const cand of [this.needle2, this.needle]) {
      const m = Math.min(n - i, cand.length);
      if (b.compare(cand, 0, m, i, i + m) !== 0) continue;
      if (m === cand.length) return i + m;
      partial = true;
    }
    return partial ? DELIM_NEED_MORE : DELIM_MISMATCH;
  }
}
