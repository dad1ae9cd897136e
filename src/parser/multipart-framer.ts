/**
 * Multipart mode: `multipart/x-mixed-replace` bodies as Axis and most MJPEG
 * servers send them.
 *
 * Fast path: trust Content-Length, copy exactly N bytes into an owned buffer
 * (no scan of the JPEG), then check that the delimiter follows. When the
 * length is missing or wrong, or the delimiter is not where it should be, the
 * part is found by searching for the boundary instead (resync). A frame is
 * only emitted when it starts with FF D8 and ends with FF D9 (after trimming
 * padding); anything else is dropped and counted, never emitted.
 *
 * Every state change happens before a frame is handed to the callback, so an
 * exception from it leaves a parser that goes on without duplicates.
 */

import { CameraError, ErrorCodes } from '../errors';
import { trimPaddingEnd, trimPaddingStart } from '../jpeg/jpeg-info';
import { BoundarySearch, NO_MATCH, SKIPPED_ALL } from './boundary-search';
import { ByteAccumulator } from './byte-accumulator';
import { normalizeBoundary } from './content-type';
import { copyInto } from './copy';
import { DELIM_MISMATCH, DELIM_NEED_MORE, DelimiterCheck } from './delimiter-check';
import { DASH, indexOfLf } from './framing-bytes';
import type { ParseContext } from './parse-context';
import { emitPart } from './part-emit';
import { HeadersEnd, PartHeaderReader } from './part-headers';
import { jpegEndWithin, wholeJpegStart } from './whole-jpeg';

const enum St {
  /** Discarding bytes until a delimiter (preamble, garbage, after a drop, epilogue). */
  SEARCH,
  /** Just after `--boundary`: a `--` here closes the multipart body. */
  AFTER_DELIM,
  /** Rest of the delimiter line (transport padding) up to LF. */
  DELIM_LINE,
  HEADERS,
  /** Copying Content-Length bytes. */
  BODY_LENGTH,
  /** Content-Length bytes copied: checking that a delimiter follows. */
  DELIM_CHECK,
  /** No usable Content-Length: body runs to the next delimiter. */
  BODY_SEARCH,
}

export class MultipartFramer {
  private core = '';
  private state: St = St.SEARCH;
  private search!: BoundarySearch;
  private delim!: DelimiterCheck;
  private readonly headers: PartHeaderReader;

  /** Dashes seen right after a delimiter (2 = closing delimiter). */
  private dashes = 0;
  private closing = false;
  private lineSkipped = 0;

  /** Content-Length path: the owned frame being filled, and how much of it is. */
  private body: Buffer | null = null;
  private bodyLen = 0;
  /** The body was already emitted (whole JPEG at a chunk end) before its delimiter arrived. */
  private bodyEmitted = false;

  /** Boundary-search path: the body collected so far. */
  private readonly acc: ByteAccumulator;
  /** Bytes to parse before the rest of the current input (resync after a wrong length). */
  private replay: Buffer | null = null;

  constructor(private readonly ctx: ParseContext) {
    this.acc = new ByteAccumulator(ctx.maxFrameBytes);
    this.headers = new PartHeaderReader(ctx.maxHeaderBytes);
  }

  /** The boundary in use, without leading `--`. */
  get boundary(): string {
    return this.core;
  }

  get bufferedBytes(): number {
    return this.acc.buf.length + (this.body?.length ?? 0) + (this.replay?.length ?? 0) + this.headers.bufferedBytes;
  }

  /**
   * Forget any partial part and use `boundary`. With `atHeaders` the stream
   * is positioned just after a delimiter line (sniffed), else before the
   * first delimiter. Throws ERR_BAD_BOUNDARY for an empty boundary or one
   * with a line break.
   */
  reset(boundary: string, atHeaders = false): void {
    const core = normalizeBoundary(boundary);
    if (core.length === 0 || /[\r\n]/.test(core)) {
      throw new CameraError(ErrorCodes.BAD_BOUNDARY, 'Empty or invalid multipart boundary');
    }
    if (core !== this.core) {
      this.core = core;
      this.search = new BoundarySearch(core);
      this.delim = new DelimiterCheck(core);
      this.headers.setBoundary(core);
    }
    this.body = null;
    this.bodyLen = 0;
    this.bodyEmitted = false;
    this.acc.release();
    this.replay = null;
    this.dashes = 0;
    this.lineSkipped = 0;
    this.headers.start();
    this.search.start(false);
    if (atHeaders) this.startHeaders();
    else this.state = St.SEARCH;
  }

  /** Drop everything held, e.g. when the parser switches to another mode. */
  release(): void {
    this.body = null;
    this.acc.release();
    this.replay = null;
    this.headers.start();
  }

  push(input: Buffer): void {
    let buf = input;
    let pos = 0;
    for (;;) {
      if (this.replay !== null) {
        buf = pos >= buf.length ? this.replay : Buffer.concat([this.replay, buf.subarray(pos)]);
        pos = 0;
        this.replay = null;
      }
      if (pos >= buf.length) break;
      switch (this.state) {
        case St.SEARCH:
          pos = this.onSearch(buf, pos);
          break;
        case St.AFTER_DELIM:
          pos = this.onAfterDelim(buf, pos);
          break;
        case St.DELIM_LINE:
          pos = this.onDelimLine(buf, pos);
          break;
        case St.HEADERS:
          pos = this.onHeaders(buf, pos);
          break;
        case St.BODY_LENGTH:
          pos = this.onBodyLength(buf, pos);
          break;
        case St.DELIM_CHECK:
          pos = this.onDelimCheck(buf, pos);
          break;
        case St.BODY_SEARCH:
          pos = this.onBodySearch(buf, pos);
          break;
      }
    }
    // Input exhausted mid-part: emit a frame now if waiting for the next
    // delimiter would only add latency.
    if (this.state === St.DELIM_CHECK && !this.bodyEmitted) {
      this.earlyEmitLengthBody();
    } else if (this.state === St.BODY_SEARCH) {
      this.earlyEmitSearchBody();
    }
  }

  /** End of stream: a final part without closing delimiter is emitted only if it is a complete JPEG. */
  finish(): void {
    const stats = this.ctx.stats;
    switch (this.state) {
      case St.BODY_LENGTH:
      case St.DELIM_CHECK: {
        if (this.state === St.DELIM_CHECK && this.bodyEmitted) {
          const pad = this.delim.held;
          if (trimPaddingStart(pad, 0, pad.length) < pad.length) stats.discardedBytes += pad.length;
          break;
        }
        // Ended inside or right after a Content-Length body that is not a
        // whole JPEG by itself: search what arrived, as for a missing length
        // (a too-long length may have swallowed whole frames).
        const got = this.state === St.BODY_LENGTH ? this.body!.subarray(0, this.bodyLen) : Buffer.concat([this.body!, this.delim.held]);
        this.body = null;
        this.acc.clear();
        this.state = St.BODY_SEARCH;
        this.push(got);
        this.finish();
        break;
      }
      case St.BODY_SEARCH:
        this.finishSearchBody();
        break;
      case St.HEADERS:
        if (this.headers.bytes > 0) {
          stats.discardedBytes += this.headers.bytes;
          stats.droppedParts++;
        }
        break;
      case St.SEARCH:
        this.search.finish(stats);
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------------- delimiters

  private enterSearch(): void {
    this.state = St.SEARCH;
    this.search.start();
  }

  private onSearch(buf: Buffer, pos: number): number {
    const r = this.search.skip(buf, pos, this.ctx.stats);
    if (r === SKIPPED_ALL) return buf.length;
    this.afterDelimiter();
    return r;
  }

  private afterDelimiter(): void {
    this.state = St.AFTER_DELIM;
    this.dashes = 0;
  }

  private onAfterDelim(buf: Buffer, pos: number): number {
    while (pos < buf.length && this.dashes < 2 && buf[pos] === DASH) {
      this.dashes++;
      pos++;
    }
    if (this.dashes === 2 || pos < buf.length) {
      // `--` here is a closing delimiter: its line is framing too; after it,
      // servers that keep sending get resynced by the search.
      this.closing = this.dashes === 2;
      this.state = St.DELIM_LINE;
      this.lineSkipped = 0;
    }
    return pos;
  }

  private onDelimLine(buf: Buffer, pos: number): number {
    const nl = indexOfLf(buf, pos);
    const end = nl < 0 ? buf.length : nl + 1;
    this.lineSkipped += end - pos;
    if (this.lineSkipped > this.ctx.maxHeaderBytes) {
      // Not a delimiter line after all: garbage.
      this.ctx.stats.discardedBytes += this.lineSkipped;
      this.enterSearch();
      return end;
    }
    if (nl >= 0) {
      if (this.closing) this.enterSearch();
      else this.startHeaders();
    }
    return end;
  }

  // ---------------------------------------------------------- headers

  private startHeaders(): void {
    this.state = St.HEADERS;
    this.headers.start();
  }

  private onHeaders(buf: Buffer, pos: number): number {
    const h = this.headers;
    const at = h.read(buf, pos);
    switch (h.result) {
      case HeadersEnd.BLANK_LINE:
        this.beginBody(h.contentLength());
        break;
      case HeadersEnd.JPEG_START:
        this.beginBody(-1);
        break;
      case HeadersEnd.CLOSING:
        this.enterSearch();
        break;
      case HeadersEnd.TOO_LARGE:
        this.ctx.stats.discardedBytes += h.bytes;
        this.ctx.stats.droppedParts++;
        this.ctx.onError(
          new CameraError(ErrorCodes.HEADER_TOO_LARGE, `MJPEG part header exceeds ${this.ctx.maxHeaderBytes} bytes; part dropped`),
        );
        this.enterSearch();
        break;
      default:
        break;
    }
    return at;
  }

  /** `length`: the part's usable Content-Length, or -1 to find the body's end by searching. */
  private beginBody(length: number): void {
    if (length > this.ctx.maxFrameBytes) {
      this.ctx.frameTooLarge(length);
      this.enterSearch();
      return;
    }
    if (length > 0) {
      this.body = Buffer.allocUnsafe(length);
      this.bodyLen = 0;
      this.state = St.BODY_LENGTH;
    } else {
      this.acc.clear();
      this.state = St.BODY_SEARCH;
    }
  }

  // --------------------------------------------- Content-Length path

  private onBodyLength(buf: Buffer, pos: number): number {
    const body = this.body!;
    const n = Math.min(body.length - this.bodyLen, buf.length - pos);
    copyInto(body, this.bodyLen, buf, pos, pos + n);
    this.bodyLen += n;
    if (this.bodyLen === body.length) {
      this.state = St.DELIM_CHECK;
      this.delim.start();
      this.bodyEmitted = false;
    }
    return pos + n;
  }

  private onDelimCheck(buf: Buffer, pos: number): number {
    const r = this.delim.feed(buf, pos);
    if (r === DELIM_NEED_MORE) return buf.length;
    if (r !== DELIM_MISMATCH) {
      this.finishLengthPart();
      return r;
    }
    // The delimiter is not where Content-Length says: the length is wrong.
    this.ctx.stats.resyncs++;
    const seen = this.delim.held.subarray(0, this.delim.heldBefore);
    // A body that is a whole JPEG by structure is right even though something
    // other than the delimiter follows (garbage between parts): keep it.
    if (!this.bodyEmitted) this.earlyEmitLengthBody();
    if (this.bodyEmitted) {
      // Skip the padding after the body, then search for the next delimiter.
      this.body = null;
      this.enterSearch();
      const pad = this.delim.padding;
      if (pad >= seen.length) return pos + (pad - seen.length);
      this.replay = Buffer.from(seen.subarray(pad));
      return pos;
    }
    // Search the body itself: a too-long length swallowed the next delimiter,
    // a too-short one cut the JPEG.
    this.replay = Buffer.concat([this.body!, seen]);
    this.body = null;
    this.acc.clear();
    this.state = St.BODY_SEARCH;
    return pos;
  }

  /** The delimiter follows the Content-Length body. State first, then the callback. */
  private finishLengthPart(): void {
    const body = this.body!;
    const emitted = this.bodyEmitted;
    this.body = null;
    this.afterDelimiter();
    if (!emitted) this.emitPart(body, 0, body.length, false, true);
  }

  /** Input ended right after a Content-Length body: emit now if it is a whole JPEG. */
  private earlyEmitLengthBody(): void {
    const body = this.body!;
    const s = wholeJpegStart(body, 0, body.length);
    if (s < 0) return;
    this.bodyEmitted = true;
    this.emitPart(body, s, trimPaddingEnd(body, s, body.length), false, true);
  }

  // --------------------------------------------- boundary-search path

  private onBodySearch(buf: Buffer, pos: number): number {
    const acc = this.acc;
    const max = this.ctx.maxFrameBytes;
    const m = this.search.find(acc.buf, 0, acc.len, buf, pos);
    if (m === NO_MATCH) {
      if (acc.len + (buf.length - pos) > max) {
        this.searchOverflow();
        return pos; // SEARCH skips (and counts) the rest
      }
      acc.append(buf, pos, buf.length);
      return buf.length;
    }
    const size = acc.len + (m - pos);
    if (size > max) {
      this.searchOverflow();
      return pos; // SEARCH finds the same delimiter again and counts the bytes before it
    }
    this.afterDelimiter();
    if (m >= pos && acc.len === 0) {
      this.emitPart(buf, pos, m, true);
    } else {
      if (m >= pos) acc.append(buf, pos, m);
      else acc.len += m - pos; // the delimiter began in bytes already taken
      const len = acc.len;
      acc.len = 0; // emptied before the callback runs; emitPart copies
      this.emitPart(acc.buf, 0, len, true);
      acc.clear();
    }
    return m + this.search.needle.length;
  }

  /** A body without usable length grew over the limit: drop it, skip to the next delimiter. */
  private searchOverflow(): void {
    this.ctx.frameTooLarge(null);
    const acc = this.acc;
    // Its last bytes may begin a delimiter split at this chunk edge: the
    // search keeps those (and counts them if they are skipped after all).
    const kept = this.search.resumeAfter(acc.buf, acc.len);
    this.state = St.SEARCH;
    this.ctx.stats.discardedBytes += acc.len - kept;
    acc.release();
  }

  /** Input ended with a body that is already a whole JPEG: emit it without waiting for the delimiter. */
  private earlyEmitSearchBody(): void {
    const acc = this.acc;
    if (acc.len < 4) return;
    const s = wholeJpegStart(acc.buf, 0, acc.len);
    if (s < 0) return;
    const e = trimPaddingEnd(acc.buf, s, acc.len);
    acc.len = 0;
    this.enterSearch();
    this.emitPart(acc.buf, s, e);
    acc.clear();
  }

  /** Stream ended during a body without delimiter: emit only a structurally complete JPEG. */
  private finishSearchBody(): void {
    const acc = this.acc;
    if (acc.len === 0) return;
    const s = trimPaddingStart(acc.buf, 0, acc.len);
    const e = trimPaddingEnd(acc.buf, s, acc.len);
    // Structure, not the last two bytes, decides: the stream may have been
    // cut right after an EXIF thumbnail's FF D9.
    const je = e - s >= 4 ? jpegEndWithin(acc.buf, s, e) : -1;
    if (je > 0) {
      this.ctx.stats.discardedBytes += e - trimPaddingStart(acc.buf, je, e);
      this.emitPart(acc.buf, s, je);
    } else {
      this.ctx.stats.droppedParts++;
      this.ctx.stats.discardedBytes += acc.len;
    }
    acc.clear();
  }

  private emitPart(src: Buffer, start: number, end: number, salvage = false, owned = false): void {
    emitPart(this.ctx, src, start, end, this.headers.headers, salvage, owned);
  }
}
