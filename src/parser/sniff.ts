/**
 * Deciding what an unlabelled stream is from its first bytes: a line starting
 * with `--` is a multipart delimiter (the boundary is that line), FF D8 is a
 * raw JPEG. Blank lines and other lines before either are skipped (and
 * counted as discarded), but a JPEG may start in the middle of such a line.
 *
 * Bytes are held until a decision, bounded by maxHeaderBytes: a stream that is
 * neither is reported once and skipped without growing memory.
 */

import { CameraError, ErrorCodes } from '../errors';
import { trimPaddingStart } from '../jpeg/jpeg-info';
import { DASH, EMPTY, LF, SOI } from './framing-bytes';
import { MAX_BOUNDARY_LENGTH } from './limits';
import { normalizeBoundary } from './content-type';
import type { ParseContext } from './parse-context';

// eslint-disable-next-line no-control-regex
const CONTROL_CHAR = /[\x00-\x1f\x7f]/;

export const enum Sniffed {
  /** Not enough bytes yet; everything pushed so far is held or discarded. */
  UNDECIDED,
  /** A JPEG starts at the beginning of take(). */
  RAW,
  /** `boundary` was read from a delimiter line; take() holds what follows that line. */
  MULTIPART,
}

export class StreamSniffer {
  /** The boundary found on the first delimiter line (after MULTIPART). */
  boundary = '';
  private held: Buffer = EMPTY;
  /** Where in `held` the chosen framer must start (after RAW or MULTIPART). */
  private decidedAt = 0;
  private badBoundaryReported = false;

  constructor(private readonly ctx: ParseContext) {}

  get bufferedBytes(): number {
    return this.held.length;
  }

  reset(): void {
    this.held = EMPTY;
    this.decidedAt = 0;
    this.badBoundaryReported = false;
  }

  /**
   * Add `buf[pos..]`. After RAW or MULTIPART, take() hands over the held bytes;
   * until then the sniffer keeps them.
   */
  feed(buf: Buffer, pos: number): Sniffed {
    this.held = this.held.length === 0 ? Buffer.from(buf.subarray(pos)) : Buffer.concat([this.held, buf.subarray(pos)]);
    const s = this.held;
    let i = 0;
    for (;;) {
      i = trimPaddingStart(s, i, s.length);
      if (i + 2 > s.length) break;
      if (s[i] === 0xff && s[i + 1] === 0xd8) {
        this.decidedAt = i;
        return Sniffed.RAW;
      }
      const nl = s.indexOf(LF, i);
      if (s[i] === DASH && s[i + 1] === DASH) {
        if (nl < 0) break;
        const line = s.toString('latin1', i, nl).trim();
        // Only a boundary the framer accepts makes this a delimiter line: one
        // with a control byte inside (a lone CR, NUL...) is skipped like any
        // other line instead of failing push().
        const candidate = line.slice(2);
        if (candidate.length <= MAX_BOUNDARY_LENGTH && !CONTROL_CHAR.test(line) && normalizeBoundary(candidate).length > 0) {
          this.boundary = candidate;
          this.decidedAt = nl + 1;
          return Sniffed.MULTIPART;
        }
      }
      // A line that is neither a delimiter nor a JPEG start: skip it, but a
      // JPEG may still begin inside it.
      const soi = s.indexOf(SOI, i);
      if (soi >= 0 && (nl < 0 || soi < nl)) {
        this.ctx.stats.discardedBytes += soi - i;
        i = soi;
        continue;
      }
      if (nl < 0) break;
      this.ctx.stats.discardedBytes += nl + 1 - i;
      i = nl + 1;
    }
    // Undecided: keep the tail, bounded.
    let keep = s.subarray(i);
    if (keep.length > this.ctx.maxHeaderBytes) {
      if (!this.badBoundaryReported) {
        this.badBoundaryReported = true;
        this.ctx.onError(new CameraError(ErrorCodes.BAD_BOUNDARY, 'No multipart delimiter or JPEG start found at the beginning of the stream'));
      }
      this.ctx.stats.discardedBytes += keep.length - 1;
      keep = keep.subarray(keep.length - 1);
    }
    this.held = keep.length === 0 ? EMPTY : Buffer.from(keep);
    return Sniffed.UNDECIDED;
  }

  /** The held bytes from where the decided mode starts; the sniffer is empty afterwards. */
  take(): Buffer {
    const rest = this.held.subarray(this.decidedAt);
    this.held = EMPTY;
    this.decidedAt = 0;
    return rest;
  }

  /** End of stream while undecided: held bytes that are not just padding were garbage. */
  finish(): void {
    const s = this.held;
    if (trimPaddingStart(s, 0, s.length) < s.length) this.ctx.stats.discardedBytes += s.length;
  }
}
