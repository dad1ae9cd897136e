/**
 * The one rule for what a multipart part may become: a frame only if it is
 * FF D8 … FF D9 once padding is trimmed. Anything else is dropped and counted,
 * never emitted, so a consumer never sees a wrong or truncated JPEG.
 */

import { trimPaddingEnd, trimPaddingStart } from '../jpeg/jpeg-info';
import { copyOf } from './copy';
import { DASH } from './framing-bytes';
import type { ParseContext } from './parse-context';
import { jpegEndWithin } from './whole-jpeg';

/**
 * Emit `src[start, end)` as a frame, trimmed of padding and of the dashes of a
 * `----boundary` delimiter, or count it as dropped.
 *
 * `salvage`: the body was found by boundary search and may carry garbage after
 * the JPEG; it is cut at the JPEG's structural end (never at the first FF D9,
 * which may be an EXIF thumbnail's). `owned`: `src` is a Content-Length body
 * nobody else holds, handed out as is when it is exactly the JPEG; otherwise
 * the frame is a copy, so it never shares memory with the caller's chunks.
 */
export function emitPart(
  ctx: ParseContext,
  src: Buffer,
  start: number,
  end: number,
  headers: Record<string, string>,
  salvage: boolean,
  owned: boolean,
): void {
  const stats = ctx.stats;
  const s = trimPaddingStart(src, start, end);
  let e = trimPaddingEnd(src, s, end);
  if (e > s && src[e - 1] === DASH) {
    while (e > s && src[e - 1] === DASH) e--;
    e = trimPaddingEnd(src, s, e);
  }
  const soi = e - s >= 4 && src[s] === 0xff && src[s + 1] === 0xd8;
  const ok = soi && src[e - 2] === 0xff && src[e - 1] === 0xd9;
  if (!ok && salvage && soi) {
    const je = jpegEndWithin(src, s, e);
    if (je > 0) {
      stats.discardedBytes += e - trimPaddingStart(src, je, e);
      ctx.emit(copyOf(src, s, je), headers);
      return;
    }
  }
  if (!ok) {
    stats.droppedParts++;
    stats.discardedBytes += end - start;
    return;
  }
  const data = owned && s === 0 && e === src.length ? src : copyOf(src, s, e);
  ctx.emit(data, headers);
}
