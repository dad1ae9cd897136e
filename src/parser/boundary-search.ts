/**
 * Finding `--boundary` in a stream that arrives in chunks.
 *
 * A delimiter can be split at any byte between two chunks, so each search also
 * looks at the last needle.length-1 bytes before the current position (kept
 * in `tail` while skipping, or the end of the body collected so far). That
 * seam check costs a copy, so it only runs when a dash is among those bytes:
 * a split delimiter must start with one.
 *
 * While skipping (preamble, garbage, after a dropped part, epilogue) the
 * skipped bytes are counted as discarded, except padding and the dashes and
 * line break that belong to the delimiter found.
 */

import { trimPaddingStart } from '../jpeg/jpeg-info';
import { DASH, FRAMING, SPACE } from './framing-bytes';
import { SEARCH_LOOKBEHIND } from './limits';
import type { ParserStats } from './types';

/** From find(): no delimiter starts in the searched bytes. */
export const NO_MATCH = Number.NEGATIVE_INFINITY;
/** From skip(): every byte was taken without reaching a delimiter. */
export const SKIPPED_ALL = -1;

export class BoundarySearch {
  /** `--core`, what a delimiter looks like on the wire. */
  readonly needle: Buffer;
  /** Last skipped bytes, for a delimiter split across chunks and for discard accounting. */
  private readonly tail: Buffer;
  private tailLen = 0;
  /** Scratch for the bytes around a chunk edge. */
  private readonly seam: Buffer;
  /** Bytes skipped since the search started and not counted yet. */
  private skipped = 0;
  /** Line breaks and padding right after a part are framing, not garbage. */
  private leadingPad = false;

  constructor(core: string) {
    this.needle = Buffer.from('--' + core, 'latin1');
    this.tail = Buffer.alloc(this.needle.length - 1 + SEARCH_LOOKBEHIND);
    this.seam = Buffer.alloc(2 * (this.needle.length - 1));
  }

  /** Start skipping; `afterPart` when the bytes follow a part, so leading padding is not garbage. */
  start(afterPart = true): void {
    this.skipped = 0;
    this.tailLen = 0;
    this.leadingPad = afterPart;
  }

  /**
   * Start skipping as if `buf[0, end)` had been skipped: the body of a part
   * dropped for its size. Only its last bytes, which may begin a delimiter
   * split at the chunk edge, are kept; returns how many. Those are counted as
   * discarded when the search ends (unless framing), the rest by the caller.
   */
  resumeAfter(buf: Buffer, end: number): number {
    const start = Math.max(0, end - this.tail.length);
    this.start(false);
    this.keepTail(buf, start, end);
    this.skipped += end - start;
    return end - start;
  }

  /**
   * Skip `buf[pos..]` up to the next delimiter: the index just past `--core`,
   * or SKIPPED_ALL. The bytes skipped, less framing, are counted as discarded.
   */
  skip(buf: Buffer, pos: number, stats: ParserStats): number {
    if (this.leadingPad) {
      const s = trimPaddingStart(buf, pos, buf.length);
      if (s === buf.length) return SKIPPED_ALL;
      pos = s;
      this.leadingPad = false;
    }
    const m = this.find(this.tail, 0, this.tailLen, buf, pos);
    if (m === NO_MATCH) {
      this.skipped += buf.length - pos;
      this.keepTail(buf, pos, buf.length);
      return SKIPPED_ALL;
    }
    // Skipped bytes minus the line break / dashes that belong to the delimiter.
    let framing = 0;
    for (let v = m - pos - 1; v >= -this.tailLen; v--) {
      const c = v >= 0 ? buf[pos + v]! : this.tail[this.tailLen + v]!;
      if (FRAMING[c] !== 1) break;
      framing++;
    }
    stats.discardedBytes += Math.max(0, this.skipped + (m - pos) - framing);
    this.skipped = 0;
    this.tailLen = 0;
    return m + this.needle.length;
  }

  /** End of stream while skipping: what was skipped is garbage, except trailing padding. */
  finish(stats: ParserStats): void {
    let pad = 0;
    for (let i = this.tailLen - 1; i >= 0 && pad < this.skipped; i--) {
      if (SPACE[this.tail[i]!] !== 1) break;
      pad++;
    }
    stats.discardedBytes += this.skipped - pad;
  }

  /**
   * Start of the next `--core` at or after `pos`, as an index into `buf`;
   * negative offsets (down to -(needle.length-1)) mean it starts in the bytes
   * just before `pos`, given as `prev[prevStart, prevEnd)`.
   */
  find(prev: Buffer, prevStart: number, prevEnd: number, buf: Buffer, pos: number): number {
    const L = this.needle.length;
    const t = Math.min(prevEnd - prevStart, L - 1);
    let dash = false;
    for (let i = prevEnd - t; i < prevEnd && !dash; i++) dash = prev[i] === DASH;
    if (dash) {
      const head = Math.min(L - 1, buf.length - pos);
      prev.copy(this.seam, 0, prevEnd - t, prevEnd);
      buf.copy(this.seam, t, pos, pos + head);
      const k = this.seam.subarray(0, t + head).indexOf(this.needle);
      if (k >= 0) return pos + k - t;
    }
    const j = buf.indexOf(this.needle, pos);
    return j >= 0 ? j : NO_MATCH;
  }

  /** Remember the last bytes skipped, for a delimiter split across chunks. */
  private keepTail(buf: Buffer, start: number, end: number): void {
    const cap = this.tail.length;
    const n = end - start;
    if (n >= cap) {
      buf.copy(this.tail, 0, end - cap, end);
      this.tailLen = cap;
    } else {
      const keepOld = Math.min(this.tailLen, cap - n);
      this.tail.copy(this.tail, 0, this.tailLen - keepOld, this.tailLen);
      buf.copy(this.tail, keepOld, start, end);
      this.tailLen = keepOld + n;
    }
  }
}
