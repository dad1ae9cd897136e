/**
 * Incremental JPEG structure walker: finds where a JPEG ends without decoding it.
 *
 * Why walk the structure instead of looking for the first FF D9: an EXIF APP1
 * segment can carry a whole thumbnail JPEG (its own FF D8 … FF D9), so the first
 * FF D9 is not necessarily the end of the image. Walking marker by marker skips
 * every length-prefixed segment as a whole, and inside entropy-coded data only
 * FF 00 (stuffing) and FF D0..D7 (restart markers) are data; any other FF xx is
 * a real marker.
 *
 * The walker keeps its state between calls, so a JPEG split over any number of
 * chunks at any byte position is handled. Per-byte work happens only on the few
 * bytes of marker headers; segment payloads are skipped arithmetically and
 * entropy-coded data is searched with Buffer#indexOf.
 */

const enum S {
  SOI0,
  SOI1,
  MARK,
  CODE,
  LEN1,
  LEN2,
  SKIP,
  ECS,
  ECS_FF,
  DONE,
  BAD,
}

/** Returned by `feed` while the JPEG is not finished yet. */
export const JPEG_NEED_MORE = -1;
/** Returned by `feed` when the bytes are not a well-formed JPEG. */
export const JPEG_INVALID = -2;

const M_SOI = 0xd8;
const M_EOI = 0xd9;
const M_SOS = 0xda;
const M_TEM = 0x01;
const M_COM = 0xfe;
const SOI_BYTES = Buffer.from([0xff, 0xd8]);

/** Index of the D8 of the first FF D8 within [start, end), or -1. */
function soiIn(buf: Buffer, start: number, end: number): number {
  const k = buf.subarray(start, end).indexOf(SOI_BYTES);
  return k < 0 ? -1 : start + k + 1;
}

function isStandalone(code: number): boolean {
  // RST0..RST7 and TEM carry no length field.
  return (code >= 0xd0 && code <= 0xd7) || code === M_TEM;
}

export class JpegScanner {
  private state: S = S.SOI0;
  private code = 0;
  private lenHi = 0;
  private remaining = 0;
  /** Inside a segment that must not contain FF D8 (not APPn/COM). */
  private soiGuard = false;
  private prevFF = false;
  /**
   * After JPEG_INVALID: true when the offending byte was the D8 of a new SOI,
   * i.e. a new image starts at (errorIndex - 1). Lets a caller resync without
   * searching again.
   */
  invalidAtSoi = false;
  /** Index (in the buffer last fed) of the byte that made the JPEG invalid. */
  errorIndex = -1;

  reset(): void {
    this.state = S.SOI0;
    this.code = 0;
    this.lenHi = 0;
    this.remaining = 0;
    this.soiGuard = false;
    this.prevFF = false;
    this.invalidAtSoi = false;
    this.errorIndex = -1;
  }

  /** Start as if FF D8 had already been consumed. */
  resetAfterSoi(): void {
    this.reset();
    this.state = S.MARK;
  }

  /**
   * Feed `buf[start, end)`. Returns the index just past the EOI marker when the
   * image ends inside this range, JPEG_NEED_MORE when every byte was consumed
   * and the image is not finished, or JPEG_INVALID (see errorIndex).
   */
  feed(buf: Buffer, start: number, end: number): number {
    let i = start;
    let st = this.state;
    if (st === S.DONE || st === S.BAD) return JPEG_INVALID;
    while (i < end) {
      switch (st) {
        case S.SOI0:
          if (buf[i] !== 0xff) return this.fail(i);
          i++;
          st = S.SOI1;
          break;
        case S.SOI1:
          if (buf[i] !== M_SOI) return this.fail(i);
          i++;
          st = S.MARK;
          break;
        case S.MARK:
          if (buf[i] !== 0xff) return this.fail(i);
          i++;
          st = S.CODE;
          break;
        case S.ECS_FF: {
          const b = buf[i]!;
          if (b === 0x00 || (b >= 0xd0 && b <= 0xd7)) {
            i++;
            st = S.ECS;
            break;
          }
          st = S.CODE; // a real marker ends the entropy-coded segment
          break;
        }
        case S.CODE: {
          const b = buf[i]!;
          if (b === 0xff) {
            i++; // fill byte
            break;
          }
          if (b === M_EOI) {
            this.state = S.DONE;
            return i + 1;
          }
          if (b === M_SOI || b === 0x00) {
            const r = this.fail(i);
            this.invalidAtSoi = b === M_SOI;
            return r;
          }
          i++;
          if (isStandalone(b)) {
            // After fill bytes inside a scan (FF FF D0), entropy data goes on.
            st = this.code === M_SOS ? S.ECS : S.MARK;
          } else {
            this.code = b;
            st = S.LEN1;
          }
          break;
        }
        case S.LEN1:
          this.lenHi = buf[i++]!;
          st = S.LEN2;
          break;
        case S.LEN2: {
          const len = (this.lenHi << 8) | buf[i++]!;
          if (len < 2) return this.fail(i - 1);
          this.remaining = len - 2;
          this.soiGuard = !((this.code >= 0xe0 && this.code <= 0xef) || this.code === M_COM);
          this.prevFF = false;
          st = this.remaining === 0 ? this.afterSegment() : S.SKIP;
          break;
        }
        case S.SKIP: {
          const n = Math.min(this.remaining, end - i);
          if (this.soiGuard && n > 0) {
            // FF D8 inside a table segment means this image was cut and a new
            // one starts there (APPn may legitimately hold a thumbnail, tables not).
            const k = this.prevFF && buf[i] === M_SOI ? i : soiIn(buf, i, i + n);
            if (k >= 0) {
              const r = this.fail(k);
              this.invalidAtSoi = true;
              return r;
            }
            this.prevFF = buf[i + n - 1] === 0xff;
          }
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) st = this.afterSegment();
          break;
        }
        case S.ECS: {
          const j = buf.indexOf(0xff, i);
          if (j < 0 || j >= end) {
            i = end;
          } else {
            i = j + 1;
            st = S.ECS_FF;
          }
          break;
        }
        default:
          return this.fail(i);
      }
    }
    this.state = st;
    return JPEG_NEED_MORE;
  }

  private afterSegment(): S {
    return this.code === M_SOS ? S.ECS : S.MARK;
  }

  private fail(i: number): number {
    this.state = S.BAD;
    this.errorIndex = i;
    this.invalidAtSoi = false;
    return JPEG_INVALID;
  }
}

/**
 * Where the JPEG starting at `buf[start]` ends (index past EOI), or
 * JPEG_NEED_MORE if it is truncated, or JPEG_INVALID.
 */
export function jpegEnd(buf: Buffer, start = 0): number {
  return new JpegScanner().feed(buf, start, buf.length);
}
