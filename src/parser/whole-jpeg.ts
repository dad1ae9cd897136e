/**
 * Where a JPEG really ends, for bodies whose end is not given by a length.
 *
 * The last FF D9 is not enough: an EXIF APP1 segment can carry a whole
 * thumbnail JPEG, so a body cut right after the thumbnail also ends in FF D9.
 * Walking the segment structure (JpegScanner) skips the thumbnail as part of
 * its segment and finds the main image's EOI.
 */

import { JpegScanner } from '../jpeg/jpeg-scanner';
import { trimPaddingEnd, trimPaddingStart } from '../jpeg/jpeg-info';

/**
 * Index past the EOI of the JPEG starting at `buf[start]`, never reading at or
 * past `end`; JPEG_NEED_MORE when it is cut before its EOI, JPEG_INVALID when
 * the bytes are not a JPEG (both negative).
 */
export function jpegEndWithin(buf: Buffer, start: number, end: number): number {
  return new JpegScanner().feed(buf, start, end);
}

/**
 * When `buf[start, end)`, without surrounding padding, is exactly one whole
 * JPEG (its structure ends at its last FF D9): the index where it starts.
 * Otherwise -1. Its end is trimPaddingEnd(buf, result, end).
 */
export function wholeJpegStart(buf: Buffer, start: number, end: number): number {
  const s = trimPaddingStart(buf, start, end);
  const e = trimPaddingEnd(buf, s, end);
  if (e - s < 4 || buf[e - 2] !== 0xff || buf[e - 1] !== 0xd9) return -1;
  return jpegEndWithin(buf, s, e) === e ? s : -1;
}
