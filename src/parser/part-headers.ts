/**
 * Reading a part's header block: `Name: value` lines up to a blank line.
 *
 * Lenient where cameras are sloppy: LF or CRLF line ends; a JPEG right after
 * the delimiter with no blank line; a repeated delimiter line (an empty part)
 * starts the headers over; repeated names are joined with `, `. Strict where
 * memory is at stake: the whole block is bounded by maxHeaderBytes.
 */

import { CR, DASH, indexOfLf } from './framing-bytes';
import { MAX_CACHED_HEADER_NAMES, MAX_CONTENT_LENGTH_DIGITS, MAX_PREDICTED_HEADER_NAME, MAX_PREDICTED_HEADERS } from './limits';

export const enum HeadersEnd {
  /** Every byte was taken; the block goes on in the next chunk. */
  NEED_MORE,
  /** The blank line: the body starts at the returned index. */
  BLANK_LINE,
  /** A JPEG starts at the returned index without a blank line before it. */
  JPEG_START,
  /** A closing delimiter line (`--core--`): no body follows. */
  CLOSING,
  /** The block would exceed maxHeaderBytes; nothing from the returned index on was taken. */
  TOO_LARGE,
}

export class PartHeaderReader {
  headers: Record<string, string> = {};
  /** Bytes of the block read so far. */
  bytes = 0;
  /** Why the last read() stopped. */
  result: HeadersEnd = HeadersEnd.NEED_MORE;
  /** The start of a line split across chunks. */
  private partial = '';
  private core = '';
  /** Header lines read in this part, for the name prediction. */
  private count = 0;
  private readonly names = new NamePredictor();

  constructor(private readonly maxHeaderBytes: number) {}

  get bufferedBytes(): number {
    return this.partial.length;
  }

  setBoundary(core: string): void {
    this.core = core;
  }

  start(): void {
    this.headers = {};
    this.bytes = 0;
    this.partial = '';
    this.count = 0;
  }

  /** Read header lines from `buf[pos..]`; returns where reading stopped, `result` says why. */
  read(buf: Buffer, pos: number): number {
    // One call handles every complete header line in `buf`.
    while (pos < buf.length) {
      if (this.partial === '' && buf[pos] === 0xff) return this.stop(HeadersEnd.JPEG_START, pos);
      const nl = indexOfLf(buf, pos);
      const end = nl < 0 ? buf.length : nl + 1;
      if (this.bytes + (end - pos) > this.maxHeaderBytes) {
        this.partial = '';
        return this.stop(HeadersEnd.TOO_LARGE, pos);
      }
      this.bytes += end - pos;
      if (nl < 0) {
        this.partial += buf.toString('latin1', pos, end);
        return this.stop(HeadersEnd.NEED_MORE, end);
      }
      let r: HeadersEnd;
      if (this.partial === '') {
        r = this.lineAt(buf, pos, nl > pos && buf[nl - 1] === CR ? nl - 1 : nl);
      } else {
        r = this.line(stripCr(this.partial + buf.toString('latin1', pos, nl)));
        this.partial = '';
      }
      pos = end;
      if (r !== HeadersEnd.NEED_MORE) return this.stop(r, pos);
    }
    return this.stop(HeadersEnd.NEED_MORE, pos);
  }

  /** The Content-Length header as a byte count, or -1 when absent or unusable. */
  contentLength(): number {
    return parseContentLength(this.headers['content-length']);
  }

  private stop(result: HeadersEnd, pos: number): number {
    this.result = result;
    return pos;
  }

  /**
   * A whole line `buf[start, end)` (line break excluded), read from the bytes:
   * the usual `Name: value` line costs one string (the value) and, for a name
   * seen at the same place in the previous part, no name lookup. Anything
   * unusual (a blank-looking line, a delimiter, no colon) goes the string way,
   * so both ways give the same result.
   */
  private lineAt(buf: Buffer, start: number, end: number): HeadersEnd {
    if (start === end) return HeadersEnd.BLANK_LINE;
    const c0 = buf[start]!;
    if (c0 === 0x20 || c0 === 0x09 || c0 === DASH) return this.line(buf.toString('latin1', start, end));
    let colon = start;
    while (colon < end && buf[colon] !== COLON) colon++;
    if (colon === end || colon === start) return HeadersEnd.NEED_MORE; // not a header: ignored
    const name = this.names.name(buf, start, colon, this.count++);
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && TRIM[buf[vs]!] === 1) vs++;
    while (ve > vs && TRIM[buf[ve - 1]!] === 1) ve--;
    const value = vs === ve ? '' : buf.toString('latin1', vs, ve);
    const prev = this.headers[name];
    this.headers[name] = prev === undefined ? value : `${prev}, ${value}`;
    return HeadersEnd.NEED_MORE;
  }

  private line(line: string): HeadersEnd {
    const c0 = line.charCodeAt(0);
    if (line.length === 0 || ((c0 === 0x20 || c0 === 0x09) && line.trim() === '')) return HeadersEnd.BLANK_LINE;
    if (c0 === DASH && line.charCodeAt(1) === DASH) {
      const rest = line.replace(/^-+/, '');
      if (rest.startsWith(this.core) || line.slice(2).startsWith(this.core)) {
        // Doubled delimiter: the previous one opened an empty part.
        if (line.trimEnd().endsWith(this.core + '--')) return HeadersEnd.CLOSING;
        this.start();
        return HeadersEnd.NEED_MORE;
      }
    }
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = headerName(line.slice(0, colon));
      const value = line.slice(colon + 1).trim();
      const prev = this.headers[name];
      this.headers[name] = prev === undefined ? value : `${prev}, ${value}`;
    }
    return HeadersEnd.NEED_MORE;
  }
}

/** Digits of a Content-Length value (the first one if repeated as `N, N`), or -1. */
export function parseContentLength(v: string | undefined): number {
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
    if (++digits > MAX_CONTENT_LENGTH_DIGITS) return -1;
  }
  while (i < n && v.charCodeAt(i) === 0x20) i++;
  if (digits === 0 || (i < n && v.charCodeAt(i) !== 0x2c)) return -1;
  return value;
}

/**
 * Cameras send the same header names in the same order in every part: the
 * name of header line k is checked byte for byte against line k of the parts
 * before, and its lower-cased string reused, without making a string of the
 * raw name. Bounded: only the first MAX_PREDICTED_HEADERS lines, names up to
 * MAX_PREDICTED_HEADER_NAME bytes.
 */
class NamePredictor {
  private readonly raw: Buffer[] = [];
  private readonly lower: string[] = [];

  name(buf: Buffer, start: number, end: number, k: number): string {
    if (k < this.raw.length) {
      const r = this.raw[k]!;
      const n = r.length;
      if (n === end - start) {
        let i = 0;
        while (i < n && buf[start + i] === r[i]) i++;
        if (i === n) return this.lower[k]!;
      }
    }
    const name = headerName(buf.toString('latin1', start, end));
    if (k <= this.raw.length && k < MAX_PREDICTED_HEADERS && end - start <= MAX_PREDICTED_HEADER_NAME) {
      this.raw[k] = Buffer.from(buf.subarray(start, end));
      this.lower[k] = name;
    }
    return name;
  }
}

/** Bytes String#trim removes from a latin1 string: TAB, LF, VT, FF, CR, space, NBSP. */
const TRIM = new Uint8Array(256);
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]) TRIM[c] = 1;
const COLON = 0x3a;

/** Lower-cased, trimmed header names, cached: the same few names come with every part. */
const headerNames = new Map<string, string>();

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
