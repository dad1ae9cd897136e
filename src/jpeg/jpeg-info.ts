/**
 * Cheap facts about a JPEG without decoding it.
 */

export { JpegScanner, jpegEnd, JPEG_NEED_MORE, JPEG_INVALID } from './jpeg-scanner';

export interface JpegSize {
  width: number;
  height: number;
}

const M_SOI = 0xd8;
const M_EOI = 0xd9;
const M_SOS = 0xda;

/** SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
function isSof(code: number): boolean {
  return code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc;
}

/**
 * Width and height from the first SOF marker, walking the segment list from SOI.
 * Segments are skipped by their length, so an EXIF thumbnail (a JPEG inside
 * APP1) never answers for the main image. Null when the buffer is not a JPEG,
 * is truncated before the SOF, or the size is 0 (DNL-defined height).
 */
export function jpegSize(buf: Buffer): JpegSize | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== M_SOI) return null;
  let i = 2;
  while (i + 1 < buf.length) {
    if (buf[i] !== 0xff) return null;
    let code = buf[i + 1]!;
    // Any number of FF fill bytes may precede a marker code.
    while (code === 0xff && i + 2 < buf.length) {
      i++;
      code = buf[i + 1]!;
    }
    i += 2;
    if (code === M_EOI || code === M_SOS || code === M_SOI || code === 0xff) return null;
    if ((code >= 0xd0 && code <= 0xd7) || code === 0x01) continue;
    if (i + 2 > buf.length) return null;
    const len = buf.readUInt16BE(i);
    if (len < 2) return null;
    if (isSof(code)) {
      // FF Cn | Lh Ll | P | Yh Yl | Xh Xl
      if (len < 7 || i + 7 > buf.length) return null;
      const height = buf.readUInt16BE(i + 3);
      const width = buf.readUInt16BE(i + 5);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    i += len;
  }
  return null;
}

const WHITESPACE = new Uint8Array(256);
for (const c of [0x09, 0x0a, 0x0d, 0x20, 0x00]) WHITESPACE[c] = 1;

/** Index just past the last byte that is not CR, LF, space, tab or NUL padding. */
export function trimPaddingEnd(buf: Buffer, start: number, end: number): number {
  let e = end;
  while (e > start && WHITESPACE[buf[e - 1]!] === 1) e--;
  return e;
}

/** Index of the first byte that is not CR, LF, space, tab or NUL padding. */
export function trimPaddingStart(buf: Buffer, start: number, end: number): number {
  let s = start;
  while (s < end && WHITESPACE[buf[s]!] === 1) s++;
  return s;
}

/**
 * True when the bytes start with SOI (FF D8) and end with EOI (FF D9). This is
 * the minimum any emitted frame must satisfy; it does not walk the structure.
 */
export function isCompleteJpeg(buf: Buffer): boolean {
  const n = buf.length;
  return n >= 4 && buf[0] === 0xff && buf[1] === M_SOI && buf[n - 2] === 0xff && buf[n - 1] === M_EOI;
}
