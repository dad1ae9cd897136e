/**
 * Streaming MJPEG parser: Buffers in, whole JPEG frames out.
 *
 * Three modes:
 *  - multipart (`boundary` a string): `multipart/x-mixed-replace` bodies as
 *    sent by Axis and most MJPEG servers;
 *  - raw (`boundary` null): concatenated JPEGs (a `.mjpg` file saved by curl,
 *    ffmpeg `-f mjpeg`), framed by walking the JPEG segment structure;
 *  - sniff (`boundary` undefined): decided from the first bytes.
 *
 * Multipart fast path: trust Content-Length, copy exactly N bytes into an owned
 * buffer (no scan of the JPEG), then check that the delimiter follows. When the
 * length is missing or wrong, or the delimiter is not where it should be, the
 * part is found by searching for the boundary instead (resync). A frame is
 * only emitted when it starts with FF D8 and ends with FF D9 (after trimming
 * whitespace padding); anything else is dropped and counted, never emitted.
 *
 * Memory is bounded by maxFrameBytes + maxHeaderBytes + a few small buffers,
 * whatever the input: over a limit, the part is dropped and the parser skips
 * to the next boundary without buffering.
 */

import { CameraError, ErrorCodes } from '../errors';
import { JpegScanner, JPEG_INVALID, JPEG_NEED_MORE, jpegEnd } from '../jpeg/jpeg-scanner';
import { trimPaddingEnd, trimPaddingStart } from '../jpeg/jpeg-info';
import { ByteAccumulator } from './byte-accumulator';
import { normalizeBoundary } from './content-type';
import { copyInto, copyOf } from './copy';

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/**
 * Whitespace tolerated between a Content-Length body and its delimiter before
 * the length is considered wrong (servers pad with CRLFs or spaces).
 */
export const MAX_DELIMITER_PADDING = 256;

export interface MjpegFrame {
  /** Owned buffer holding exactly one JPEG (FF D8 … FF D9). */
  data: Buffer;
  /** The part's headers, names lower-cased; empty in raw mode. */
  headers: Record<string, string>;
}

export interface ParserStats {
  /** Frames emitted. */
  frames: number;
  /** Input bytes pushed. */
  bytes: number;
  /** Input bytes that ended up in no frame and were not framing (garbage, dropped parts). */
  discardedBytes: number;
  /** Parts or raw frames dropped: over a limit, not a complete JPEG, truncated. */
  droppedParts: number;
  /** Times the parser lost framing and searched its way back (wrong length, broken JPEG). */
  resyncs: number;
}

export interface MjpegParserOptions {
  /** A string: multipart with this boundary. null: raw JPEG concatenation. undefined: sniff. */
  boundary?: string | null;
  maxHeaderBytes?: number;
  maxFrameBytes?: number;
  /**
   * Called synchronously from push()/end(). If it throws, the exception leaves
   * push() and the rest of that chunk is not parsed; the parser's state is
   * updated before each call, so the next push() goes on without duplicates.
   */
  onFrame: (frame: MjpegFrame) => void;
  /** Non-fatal drops (ERR_FRAME_TOO_LARGE, ERR_HEADER_TOO_LARGE, ERR_BAD_BOUNDARY); parsing goes on. */
  onError?: (err: CameraError) => void;
}

const enum St {
  /** Sniff mode: deciding multipart vs raw from the first bytes. */
  SNIFF,
  /** Multipart: discarding bytes until a delimiter (preamble, garbage, after a drop, epilogue). */
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
  /** Raw: looking for FF D8. */
  RAW_SEEK,
  /** Raw: inside a JPEG, walking its segments. */
  RAW_FRAME,
}

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SOI = Buffer.from([0xff, 0xd8]);
const NO_MATCH = Number.NEGATIVE_INFINITY;
const EMPTY = Buffer.alloc(0);
const TAIL_LOOKBEHIND = 8;

const FRAMING = new Uint8Array(256);
for (const c of [0x09, LF, CR, 0x20, 0x00, DASH]) FRAMING[c] = 1;
const SPACE = new Uint8Array(256);
for (const c of [0x09, LF, CR, 0x20, 0x00]) SPACE[c] = 1;

const enum Delim {
  NEED_MORE,
  MATCH,
  MISMATCH,
}

/** Digits of a Content-Length value (first one if repeated as `N, N`), or -1. */
function parseContentLength(v: string | undefined): number {
  if (v === undefined) return -1;
  let i = 0;
  const n = v.length;
  while (i < n && v.charCodeAt(i) === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < n; i++) {
    const c = v.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
    if (++digits > 15) return -1;
  }
  while (i < n && v.charCodeAt(i) === 0x20) i++;
  if (digits === 0 || (i < n && v.charCodeAt(i) !== 0x2c)) return -1;
  return value;
}

export class MjpegParser {
  readonly stats: ParserStats = { frames: 0, bytes: 0, discardedBytes: 0, droppedParts: 0, resyncs: 0 };
  readonly maxHeaderBytes: number;
  readonly maxFrameBytes: number;

  private readonly onFrame: (frame: MjpegFrame) => void;
  private readonly onError: (err: CameraError) => void;

  private configured: string | null | undefined;
  private state: St = St.SNIFF;

  // Boundary: `needle` is `--core`, `needle2` the `----core` variant.
  private core = '';
  private needle: Buffer = EMPTY;
  private needle2: Buffer = EMPTY;
  private tail: Buffer = EMPTY; // last needle.length-1 bytes skipped in SEARCH
  private tailLen = 0;
  private seam: Buffer = EMPTY;
  private searchSkipped = 0;
  private searchLeadingPad = false;

  private dashes = 0;
  private closing = false;
  private lineSkipped = 0;

  private headers: Record<string, string> = {};
  private headerBytes = 0;
  private lineAcc = '';

  private body: Buffer | null = null;
  private bodyLen = 0;
  private bodyEmitted = false;
  private delimBuf: Buffer = EMPTY;
  private delimLen = 0;
  /** Whitespace bytes at the start of delimBuf. */
  private delimPad = 0;

  private readonly acc: ByteAccumulator;
  /** Bytes to parse before the rest of the current input (resync after a wrong length). */
  private replay: Buffer | null = null;

  // Raw mode.
  private readonly scanner = new JpegScanner();
  private rawHead = -1; // start of the current frame inside the buffer being parsed
  private rawOversize = false;
  private pendingFF = false;

  // Sniff mode.
  private sniffed: Buffer = EMPTY;
  private badBoundaryReported = false;

  constructor(opts: MjpegParserOptions) {
    if (typeof opts?.onFrame !== 'function') {
      throw new CameraError(ErrorCodes.INVALID_SETTING, 'MjpegParser needs an onFrame callback');
    }
    this.maxHeaderBytes = positiveInt(opts.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES, 'maxHeaderBytes');
    this.maxFrameBytes = positiveInt(opts.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 'maxFrameBytes');
    this.onFrame = opts.onFrame;
    this.onError = opts.onError ?? (() => {});
    this.acc = new ByteAccumulator(this.maxFrameBytes);
    this.configured = opts.boundary;
    this.resetState();
  }

  /** 'multipart' | 'raw' once known; 'sniff' while still deciding. */
  get mode(): 'multipart' | 'raw' | 'sniff' {
    if (this.state === St.SNIFF) return 'sniff';
    return this.state === St.RAW_SEEK || this.state === St.RAW_FRAME ? 'raw' : 'multipart';
  }

  /** The boundary in use (without leading `--`), or null in raw/sniff mode. */
  get boundary(): string | null {
    return this.core === '' ? null : this.core;
  }

  /**
   * Bytes the parser holds right now (partial frame, header line, sniffed
   * bytes). Bounded by about maxFrameBytes + maxHeaderBytes whatever the input.
   */
  get bufferedBytes(): number {
    return this.acc.buf.length + (this.body?.length ?? 0) + this.sniffed.length + (this.replay?.length ?? 0) + this.lineAcc.length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.stats.bytes += chunk.length;
    this.run(chunk);
  }

  /**
   * End of stream: a final part without closing delimiter is emitted only if
   * it is a complete JPEG. The parser is then ready for a new stream.
   */
  end(): void {
    this.finish();
    this.resetState();
  }

  /**
   * Forget any partial part and start over (e.g. on reconnect). Stats are kept.
   * Passing a boundary (string, or null for raw, or undefined for sniff)
   * switches the mode for the next stream.
   */
  reset(...args: [boundary?: string | null]): void {
    if (args.length > 0) this.configured = args[0];
    this.resetState();
  }

  // ---------------------------------------------------------------- state

  private resetState(): void {
    this.body = null;
    this.bodyLen = 0;
    this.bodyEmitted = false;
    this.delimLen = 0;
    this.headers = {};
    this.headerBytes = 0;
    this.lineAcc = '';
    this.acc.release();
    this.replay = null;
    this.rawHead = -1;
    this.rawOversize = false;
    this.pendingFF = false;
    this.sniffed = EMPTY;
    this.badBoundaryReported = false;
    this.tailLen = 0;
    this.searchSkipped = 0;
    // A new stream starts as in a fresh parser: whitespace before its first
    // delimiter is not "padding after a part" of the previous stream.
    this.searchLeadingPad = false;
    this.dashes = 0;
    this.lineSkipped = 0;
    const b = this.configured;
    if (typeof b === 'string') {
      this.setBoundary(b);
      this.state = St.SEARCH;
    } else if (b === null) {
      this.core = '';
      this.state = St.RAW_SEEK;
      this.scanner.reset();
    } else {
      this.core = '';
      this.state = St.SNIFF;
    }
  }

  private setBoundary(boundary: string): void {
    const core = normalizeBoundary(boundary);
    if (core.length === 0 || /[\r\n]/.test(core)) {
      throw new CameraError(ErrorCodes.BAD_BOUNDARY, 'Empty or invalid multipart boundary');
    }
    this.core = core;
    this.needle = Buffer.from('--' + core, 'latin1');
    this.needle2 = Buffer.from('----' + core, 'latin1');
    // The search only needs needle.length-1 bytes of look-behind; a few more
    // let discard accounting see the line break before a split delimiter.
    this.tail = Buffer.alloc(this.needle.length - 1 + TAIL_LOOKBEHIND);
    this.seam = Buffer.alloc(2 * (this.needle.length - 1));
    this.delimBuf = Buffer.alloc(MAX_DELIMITER_PADDING + this.needle2.length);
  }

  // ------------------------------------------------------------ main loop

  private run(input: Buffer): void {
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
        case St.SNIFF:
          pos = this.onSniff(buf, pos);
          break;
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
        case St.RAW_SEEK:
          pos = this.onRawSeek(buf, pos);
          break;
        case St.RAW_FRAME:
          pos = this.onRawFrame(buf, pos);
          break;
      }
    }
    // Input exhausted mid-state: keep what must outlive this chunk, and emit a
    // frame now if waiting for the next delimiter would only add latency.
    if (this.state === St.RAW_FRAME && this.rawHead >= 0) {
      this.rawAppend(buf, this.rawHead, buf.length);
      this.rawHead = -1;
    } else if (this.state === St.DELIM_CHECK && !this.bodyEmitted) {
      this.earlyEmitLengthBody();
    } else if (this.state === St.BODY_SEARCH) {
      this.earlyEmitSearchBody();
    }
  }

  // ---------------------------------------------------------------- sniff

  private onSniff(buf: Buffer, pos: number): number {
    this.sniffed = this.sniffed.length === 0 ? Buffer.from(buf.subarray(pos)) : Buffer.concat([this.sniffed, buf.subarray(pos)]);
    const s = this.sniffed;
    let i = 0;
    for (;;) {
      i = trimPaddingStart(s, i, s.length);
      if (i + 2 > s.length) break;
      if (s[i] === 0xff && s[i + 1] === 0xd8) {
        this.core = '';
        this.state = St.RAW_SEEK;
        this.scanner.reset();
        return this.leaveSniff(i);
      }
      const nl = s.indexOf(LF, i);
      if (s[i] === DASH && s[i + 1] === DASH) {
        if (nl < 0) break;
        const line = s.toString('latin1', i, nl).trim();
        if (line.length > 2 && line.length - 2 <= 200) {
          this.setBoundary(line.slice(2));
          this.startHeaders();
          return this.leaveSniff(nl + 1);
        }
      }
      // A line that is neither a delimiter nor a JPEG start: skip it, but a
      // JPEG may still begin inside it.
      const soi = s.indexOf(SOI, i);
      if (soi >= 0 && (nl < 0 || soi < nl)) {
        this.stats.discardedBytes += soi - i;
        i = soi;
        continue;
      }
      if (nl < 0) break;
      this.stats.discardedBytes += nl + 1 - i;
      i = nl + 1;
    }
    // Undecided: keep the tail, bounded.
    let keep = s.subarray(i);
    if (keep.length > this.maxHeaderBytes) {
      if (!this.badBoundaryReported) {
        this.badBoundaryReported = true;
        this.onError(new CameraError(ErrorCodes.BAD_BOUNDARY, 'No multipart delimiter or JPEG start found at the beginning of the stream'));
      }
      this.stats.discardedBytes += keep.length - 1;
      keep = keep.subarray(keep.length - 1);
    }
    this.sniffed = keep.length === 0 ? EMPTY : Buffer.from(keep);
    return buf.length;
  }

  private leaveSniff(from: number): number {
    const rest = this.sniffed.subarray(from);
    this.sniffed = EMPTY;
    if (rest.length > 0) this.replay = rest;
    return Number.MAX_SAFE_INTEGER; // current input fully taken into the replay
  }

  // ------------------------------------------------------- boundary search

  /**
   * Start of the next `--boundary` at or after `pos`, as an index into `buf`;
   * negative offsets (down to -(needle.length-1)) mean it starts in the bytes
   * just before `pos`, given as `prev[prevStart, prevEnd)`.
   */
  private findNeedle(prev: Buffer, prevStart: number, prevEnd: number, buf: Buffer, pos: number): number {
    const L = this.needle.length;
    const t = Math.min(prevEnd - prevStart, L - 1);
    // A delimiter split at the edge must start with a dash in those bytes.
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

  private enterSearch(): void {
    this.state = St.SEARCH;
    this.searchSkipped = 0;
    this.tailLen = 0;
    this.searchLeadingPad = true;
  }

  private onSearch(buf: Buffer, pos: number): number {
    if (this.searchLeadingPad) {
      // Line breaks and padding right after a part are framing, not garbage.
      const s = trimPaddingStart(buf, pos, buf.length);
      if (s === buf.length) return s;
      pos = s;
      this.searchLeadingPad = false;
    }
    const m = this.findNeedle(this.tail, 0, this.tailLen, buf, pos);
    if (m === NO_MATCH) {
      this.searchSkipped += buf.length - pos;
      this.keepTail(buf, pos, buf.length);
      return buf.length;
    }
    // Skipped bytes minus the line break / dashes that belong to the delimiter.
    let framing = 0;
    for (let v = m - pos - 1; v >= -this.tailLen; v--) {
      const c = v >= 0 ? buf[pos + v]! : this.tail[this.tailLen + v]!;
      if (FRAMING[c] !== 1) break;
      framing++;
    }
    this.stats.discardedBytes += Math.max(0, this.searchSkipped + (m - pos) - framing);
    this.searchSkipped = 0;
    this.tailLen = 0;
    this.state = St.AFTER_DELIM;
    this.dashes = 0;
    return m + this.needle.length;
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
    const nl = buf.indexOf(LF, pos);
    const end = nl < 0 ? buf.length : nl + 1;
    this.lineSkipped += end - pos;
    if (this.lineSkipped > this.maxHeaderBytes) {
      // Not a delimiter line after all: garbage.
      this.stats.discardedBytes += this.lineSkipped;
      this.enterSearch();
      return end;
    }
    if (nl >= 0) {
      if (this.closing) this.enterSearch();
      else this.startHeaders();
    }
    return end;
  }

  // -------------------------------------------------------------- headers

  private startHeaders(): void {
    this.state = St.HEADERS;
    this.headers = {};
    this.headerBytes = 0;
    this.lineAcc = '';
  }

  private onHeaders(buf: Buffer, pos: number): number {
    // One call handles every complete header line in `buf`.
    while (pos < buf.length && this.state === St.HEADERS) {
      if (this.lineAcc === '' && buf[pos] === 0xff) {
        // JPEG right after the delimiter or headers, without the blank line.
        this.beginBody(false);
        return pos;
      }
      const nl = buf.indexOf(LF, pos);
      const end = nl < 0 ? buf.length : nl + 1;
      if (this.headerBytes + (end - pos) > this.maxHeaderBytes) {
        this.stats.discardedBytes += this.headerBytes;
        this.stats.droppedParts++;
        this.lineAcc = '';
        this.onError(
          new CameraError(ErrorCodes.HEADER_TOO_LARGE, `MJPEG part header exceeds ${this.maxHeaderBytes} bytes; part dropped`),
        );
        this.enterSearch();
        return pos;
      }
      this.headerBytes += end - pos;
      if (nl < 0) {
        this.lineAcc += buf.toString('latin1', pos, end);
        return end;
      }
      const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
      const line = this.lineAcc === '' ? buf.toString('latin1', pos, lineEnd) : stripCr(this.lineAcc + buf.toString('latin1', pos, nl));
      this.lineAcc = '';
      pos = end;
      this.headerLine(line);
    }
    return pos;
  }

  private headerLine(line: string): void {
    const c0 = line.charCodeAt(0);
    if (line.length === 0 || ((c0 === 0x20 || c0 === 0x09) && line.trim() === '')) {
      this.beginBody(true);
      return;
    }
    if (c0 === DASH && line.charCodeAt(1) === DASH) {
      const rest = line.replace(/^-+/, '');
      if (rest.startsWith(this.core) || line.slice(2).startsWith(this.core)) {
        // Doubled delimiter: the previous one opened an empty part.
        if (line.trimEnd().endsWith(this.core + '--')) this.enterSearch();
        else this.startHeaders();
        return;
      }
    }
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = headerName(line.slice(0, colon));
      const value = line.slice(colon + 1).trim();
      const prev = this.headers[name];
      this.headers[name] = prev === undefined ? value : `${prev}, ${value}`;
    }
  }

  private beginBody(blankLineSeen: boolean): void {
    const cl = blankLineSeen ? parseContentLength(this.headers['content-length']) : -1;
    if (cl > this.maxFrameBytes) {
      this.frameTooLarge(cl);
      this.enterSearch();
      return;
    }
    if (cl > 0) {
      this.body = Buffer.allocUnsafe(cl);
      this.bodyLen = 0;
      this.state = St.BODY_LENGTH;
    } else {
      this.acc.clear();
      this.state = St.BODY_SEARCH;
    }
  }

  private frameTooLarge(size: number | null): void {
    this.stats.droppedParts++;
    const what = size === null ? `more than ${this.maxFrameBytes} bytes` : `${size} bytes`;
    this.onError(
      new CameraError(ErrorCodes.FRAME_TOO_LARGE, `MJPEG frame of ${what} exceeds the limit of ${this.maxFrameBytes} bytes; dropped`),
    );
  }

  // ------------------------------------------------- Content-Length path

  private onBodyLength(buf: Buffer, pos: number): number {
    const body = this.body!;
    const n = Math.min(body.length - this.bodyLen, buf.length - pos);
    copyInto(body, this.bodyLen, buf, pos, pos + n);
    this.bodyLen += n;
    if (this.bodyLen === body.length) {
      this.state = St.DELIM_CHECK;
      this.delimLen = 0;
      this.bodyEmitted = false;
    }
    return pos + n;
  }

  private onDelimCheck(buf: Buffer, pos: number): number {
    const prev = this.delimLen;
    if (prev === 0) {
      // Common case, checked in place: CRLF (or LF, or nothing) then `--boundary`.
      let i = pos;
      if (buf[i] === CR) i++;
      if (buf[i] === LF) i++;
      const L = this.needle.length;
      if (i + L <= buf.length && buf[i] === DASH && buf.compare(this.needle, 0, L, i, i + L) === 0) {
        this.finishLengthPart();
        return i + L;
      }
    }
    const n = Math.min(this.delimBuf.length - prev, buf.length - pos);
    buf.copy(this.delimBuf, prev, pos, pos + n);
    this.delimLen = prev + n;
    const r = this.matchDelimiter();
    if (r === Delim.NEED_MORE) return pos + n;
    if (r > 0) {
      // Matched: `r` bytes of delimBuf were padding + delimiter.
      this.finishLengthPart();
      return pos + (r - prev);
    }
    // The delimiter is not where Content-Length says: the length is wrong.
    this.stats.resyncs++;
    // A body that is a whole JPEG by structure is right even though something
    // other than the delimiter follows (garbage between parts): keep it.
    if (!this.bodyEmitted) this.earlyEmitLengthBody();
    if (this.bodyEmitted) {
      // Skip the padding after the body, then search for the next delimiter.
      this.body = null;
      this.enterSearch();
      const pad = this.delimPad;
      if (pad >= prev) return pos + (pad - prev);
      this.replay = Buffer.from(this.delimBuf.subarray(pad, prev));
      return pos;
    }
    const seen = this.delimBuf.subarray(0, prev);
    {
      // Search the body itself: a too-long length swallowed the next delimiter,
      // a too-short one cut the JPEG.
      this.replay = Buffer.concat([this.body!, seen]);
      this.body = null;
      this.acc.clear();
      this.state = St.BODY_SEARCH;
    }
    return pos;
  }

  /**
   * Bytes after a Content-Length body: optional whitespace, then `--core` or
   * `----core`. Returns the number of bytes through the end of the delimiter on
   * a match (always > 0), or NEED_MORE / MISMATCH (as negative codes).
   */
  private matchDelimiter(): number {
    const b = this.delimBuf;
    const n = this.delimLen;
    let i = 0;
    while (i < n && i < MAX_DELIMITER_PADDING && SPACE[b[i]!] === 1) i++;
    this.delimPad = i;
    if (i >= MAX_DELIMITER_PADDING) return -Delim.MISMATCH;
    if (i === n) return Delim.NEED_MORE;
    let partial = false;
    for (const cand of [this.needle2, this.needle]) {
      const m = Math.min(n - i, cand.length);
      if (b.compare(cand, 0, m, i, i + m) !== 0) continue;
      if (m === cand.length) return i + m;
      partial = true;
    }
    return partial ? Delim.NEED_MORE : -Delim.MISMATCH;
  }

  /** The delimiter follows the Content-Length body. State first, then the callback. */
  private finishLengthPart(): void {
    const body = this.body!;
    const emitted = this.bodyEmitted;
    this.body = null;
    this.state = St.AFTER_DELIM;
    this.dashes = 0;
    if (!emitted) this.emitPart(body, 0, body.length, this.headers, false, true);
  }

  /** Input ended right after a Content-Length body: emit now if it is a whole JPEG. */
  private earlyEmitLengthBody(): void {
    const body = this.body!;
    const s = trimPaddingStart(body, 0, body.length);
    const e = trimPaddingEnd(body, s, body.length);
    if (e - s >= 4 && body[e - 2] === 0xff && body[e - 1] === 0xd9 && jpegEnd(body, s) === e) {
      this.bodyEmitted = true;
      this.emitPart(body, s, e, this.headers, false, true);
    }
  }

  // ------------------------------------------------ boundary-search path

  private onBodySearch(buf: Buffer, pos: number): number {
    const acc = this.acc;
    const m = this.findNeedle(acc.buf, 0, acc.len, buf, pos);
    if (m === NO_MATCH) {
      if (acc.len + (buf.length - pos) > this.maxFrameBytes) {
        this.searchOverflow(acc.len + (buf.length - pos));
        return pos; // SEARCH skips (and counts) the rest
      }
      acc.append(buf, pos, buf.length);
      return buf.length;
    }
    const size = acc.len + (m - pos);
    if (size > this.maxFrameBytes) {
      this.searchOverflow(size);
      return pos; // SEARCH finds the same delimiter again and counts the bytes before it
    }
    this.state = St.AFTER_DELIM;
    this.dashes = 0;
    if (m >= pos && acc.len === 0) {
      this.emitPart(buf, pos, m, this.headers, true);
    } else {
      if (m >= pos) acc.append(buf, pos, m);
      else acc.len += m - pos; // the delimiter began in bytes already taken
      const len = acc.len;
      acc.len = 0; // emptied before the callback runs; emitPart copies
      this.emitPart(acc.buf, 0, len, this.headers, true);
      acc.clear();
    }
    return m + this.needle.length;
  }

  /** A body without usable length grew over the limit: drop it, skip to the next delimiter. */
  private searchOverflow(size: number): void {
    this.frameTooLarge(size > this.maxFrameBytes ? null : size);
    this.stats.discardedBytes += this.acc.len;
    // Keep the last bytes in case the delimiter is split at this chunk edge.
    const keepFrom = Math.max(0, this.acc.len - this.tail.length);
    const accBuf = this.acc.buf;
    const accLen = this.acc.len;
    this.enterSearch();
    this.searchLeadingPad = false;
    this.keepTail(accBuf, keepFrom, accLen);
    this.stats.discardedBytes -= accLen - keepFrom; // tail bytes are recounted by SEARCH if skipped
    this.searchSkipped += accLen - keepFrom;
    this.acc.release();
  }

  /** Input ended with a body that is already a whole JPEG: emit it without waiting for the delimiter. */
  private earlyEmitSearchBody(): void {
    const acc = this.acc;
    if (acc.len < 4) return;
    const s = trimPaddingStart(acc.buf, 0, acc.len);
    const e = trimPaddingEnd(acc.buf, s, acc.len);
    if (e - s < 4 || acc.buf[e - 2] !== 0xff || acc.buf[e - 1] !== 0xd9) return;
    if (jpegEnd(acc.buf.subarray(0, e), s) !== e) return;
    acc.len = 0;
    this.enterSearch();
    this.emitPart(acc.buf, s, e, this.headers);
    acc.clear();
  }

  /**
   * Emit `src[start, end)` as a frame if, after trimming padding (and the
   * dashes of a `----boundary` delimiter), it is FF D8 … FF D9; otherwise count
   * it as dropped. Always copies, so the frame owns its memory.
   */
  private emitPart(
    src: Buffer,
    start: number,
    end: number,
    headers: Record<string, string>,
    salvage = false,
    owned = false,
  ): void {
    const s = trimPaddingStart(src, start, end);
    let e = trimPaddingEnd(src, s, end);
    if (e > s && src[e - 1] === DASH) {
      while (e > s && src[e - 1] === DASH) e--;
      e = trimPaddingEnd(src, s, e);
    }
    const ok = e - s >= 4 && src[s] === 0xff && src[s + 1] === 0xd8 && src[e - 2] === 0xff && src[e - 1] === 0xd9;
    if (!ok && salvage && e - s >= 4 && src[s] === 0xff && src[s + 1] === 0xd8) {
      // A body found by boundary search may carry bytes after the JPEG
      // (garbage before the next delimiter). Its real end comes from walking
      // the structure, never from the first FF D9.
      const je = jpegEnd(src.subarray(0, e), s);
      if (je > 0) {
        this.stats.discardedBytes += e - trimPaddingStart(src, je, e);
        this.stats.frames++;
        this.onFrame({ data: copyOf(src, s, je), headers });
        return;
      }
    }
    if (!ok) {
      this.stats.droppedParts++;
      this.stats.discardedBytes += end - start;
      return;
    }
    // A Content-Length body that is exactly the JPEG is already an owned buffer.
    const data = owned && s === 0 && e === src.length ? src : copyOf(src, s, e);
    this.stats.frames++;
    this.onFrame({ data, headers });
  }

  // ---------------------------------------------------------------- raw

  private onRawSeek(buf: Buffer, pos: number): number {
    if (this.pendingFF) {
      this.pendingFF = false;
      if (buf[pos] === 0xd8) {
        this.stats.discardedBytes--; // that FF was counted as skipped
        this.startRawFrame();
        this.acc.append(SOI, 0, 2);
        return pos + 1;
      }
    }
    const j = buf.indexOf(SOI, pos);
    if (j < 0) {
      this.stats.discardedBytes += buf.length - pos;
      this.pendingFF = buf[buf.length - 1] === 0xff;
      return buf.length;
    }
    this.stats.discardedBytes += j - pos;
    this.startRawFrame();
    this.rawHead = j;
    return j + 2;
  }

  private startRawFrame(): void {
    this.state = St.RAW_FRAME;
    this.scanner.resetAfterSoi();
    this.acc.clear();
    this.rawHead = -1;
    this.rawOversize = false;
  }

  private onRawFrame(buf: Buffer, pos: number): number {
    const from = this.rawHead >= 0 ? this.rawHead : pos;
    this.rawHead = -1;
    const r = this.scanner.feed(buf, pos, buf.length);
    if (r === JPEG_NEED_MORE) {
      this.rawAppend(buf, from, buf.length);
      return buf.length;
    }
    if (r === JPEG_INVALID) {
      // Not a well-formed JPEG after all: drop what we have and resync.
      const at = this.scanner.errorIndex;
      const restartAtSoi = this.scanner.invalidAtSoi;
      this.stats.resyncs++;
      if (!this.rawOversize) this.stats.droppedParts++;
      const seen = (this.rawOversize ? 0 : this.acc.len) + (at - from) - (restartAtSoi ? 1 : 0);
      this.stats.discardedBytes += Math.max(0, seen);
      this.acc.clear();
      if (restartAtSoi) {
        // The offending byte is the D8 of a new image: start over from its FF.
        this.startRawFrame();
        this.acc.append(SOI, 0, 2);
        return at + 1;
      }
      this.state = St.RAW_SEEK;
      return at;
    }
    // r is the index just past EOI.
    this.state = St.RAW_SEEK;
    if (this.rawOversize) {
      this.stats.discardedBytes += r - from;
      return r;
    }
    const size = this.acc.len + (r - from);
    if (size > this.maxFrameBytes) {
      this.frameTooLarge(size);
      this.stats.discardedBytes += size;
      this.acc.clear();
      return r;
    }
    let data: Buffer;
    if (this.acc.len === 0) {
      data = copyOf(buf, from, r);
    } else {
      this.acc.append(buf, from, r);
      data = this.acc.take();
    }
    this.stats.frames++;
    this.onFrame({ data, headers: {} });
    return r;
  }

  /** Keep frame bytes that must outlive the current chunk; over the limit, stop keeping them. */
  private rawAppend(buf: Buffer, start: number, end: number): void {
    if (this.rawOversize) {
      this.stats.discardedBytes += end - start;
      return;
    }
    const total = this.acc.len + (end - start);
    if (total > this.maxFrameBytes) {
      // Keep walking the structure so an inner FF D8 (EXIF thumbnail) is not
      // taken for the next frame, but stop buffering.
      this.rawOversize = true;
      this.frameTooLarge(null);
      this.stats.discardedBytes += total;
      this.acc.release();
      return;
    }
    this.acc.append(buf, start, end);
  }

  // ---------------------------------------------------------------- end

  private finish(): void {
    switch (this.state) {
      case St.BODY_LENGTH:
      case St.DELIM_CHECK: {
        if (this.state === St.DELIM_CHECK && this.bodyEmitted) {
          const pad = this.delimBuf.subarray(0, this.delimLen);
          if (trimPaddingStart(pad, 0, pad.length) < pad.length) this.stats.discardedBytes += pad.length;
          break;
        }
        // Ended inside or right after a Content-Length body that is not a
        // whole JPEG by itself: search what arrived, as for a missing length
        // (a too-long length may have swallowed whole frames).
        const got =
          this.state === St.BODY_LENGTH
            ? this.body!.subarray(0, this.bodyLen)
            : Buffer.concat([this.body!, this.delimBuf.subarray(0, this.delimLen)]);
        this.body = null;
        this.acc.clear();
        this.state = St.BODY_SEARCH;
        this.run(got);
        this.finish();
        break;
      }
      case St.BODY_SEARCH:
        this.finishSearchBody();
        break;
      case St.HEADERS:
        if (this.headerBytes > 0) {
          this.stats.discardedBytes += this.headerBytes;
          this.stats.droppedParts++;
        }
        break;
      case St.SEARCH:
        this.stats.discardedBytes += this.searchSkipped - countFramingEnd(this.tail, this.tailLen, this.searchSkipped);
        break;
      case St.RAW_FRAME:
        if (!this.rawOversize) {
          this.stats.droppedParts++;
          this.stats.discardedBytes += this.acc.len;
        }
        break;
      case St.SNIFF: {
        const s = this.sniffed;
        if (trimPaddingStart(s, 0, s.length) < s.length) this.stats.discardedBytes += s.length;
        break;
      }
      default:
        break;
    }
  }

  /** Stream ended during a body without delimiter: emit only a structurally complete JPEG. */
  private finishSearchBody(): void {
    if (this.state !== St.BODY_SEARCH) return;
    const acc = this.acc;
    if (acc.len === 0) return;
    const s = trimPaddingStart(acc.buf, 0, acc.len);
    const e = trimPaddingEnd(acc.buf, s, acc.len);
    // Structure, not the last two bytes, decides: the stream may have been
    // cut right after an EXIF thumbnail's FF D9.
    const je = e - s >= 4 ? jpegEnd(acc.buf.subarray(0, e), s) : JPEG_INVALID;
    if (je > 0) {
      this.stats.discardedBytes += e - trimPaddingStart(acc.buf, je, e);
      this.emitPart(acc.buf, s, je, this.headers);
    } else {
      this.stats.droppedParts++;
      this.stats.discardedBytes += acc.len;
    }
    acc.clear();
  }
}

/** Trailing framing bytes (whitespace) in the last `tailLen` skipped bytes; they are not garbage. */
function countFramingEnd(tail: Buffer, tailLen: number, limit: number): number {
  let n = 0;
  for (let i = tailLen - 1; i >= 0 && n < limit; i--) {
    if (SPACE[tail[i]!] !== 1) break;
    n++;
  }
  return n;
}

/** Lower-cased, trimmed header names, cached: the same few names come with every part. */
const headerNames = new Map<string, string>();
const MAX_CACHED_HEADER_NAMES = 128;

function headerName(raw: string): string {
  let name = headerNames.get(raw);
  if (name === undefined) {
    name = raw.trim().toLowerCase();
    if (headerNames.size < MAX_CACHED_HEADER_NAMES) headerNames.set(raw, name);
  }
  return name;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function positiveInt(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new CameraError(ErrorCodes.INVALID_SETTING, `${name} must be a positive integer`);
  }
  return v;
}
