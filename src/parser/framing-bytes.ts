/**
 * Byte values and byte classes of multipart framing.
 */

import { SHORT_LINE_SCAN } from './limits';

export const CR = 0x0d;
export const LF = 0x0a;
export const DASH = 0x2d;
/** A JPEG starts with these two bytes. */
export const SOI = Buffer.from([0xff, 0xd8]);
export const EMPTY = Buffer.alloc(0);

/**
 * Padding that servers put around parts (CR, LF, space, tab, NUL): never
 * counted as discarded garbage. Same set as trimPadding* in jpeg-info.
 */
export const SPACE = new Uint8Array(256);
for (const c of [0x09, LF, CR, 0x20, 0x00]) SPACE[c] = 1;

/** Padding plus the dashes of a delimiter: what may precede `--boundary` without being garbage. */
export const FRAMING = new Uint8Array(256);
for (const c of [0x09, LF, CR, 0x20, 0x00, DASH]) FRAMING[c] = 1;

/**
 * First LF at or after `pos`, or -1. Framing lines (delimiter line rest,
 * header lines) are a few bytes long, where a plain loop is much cheaper than
 * Buffer#indexOf's call into C++; past SHORT_LINE_SCAN bytes, indexOf takes over.
 */
export function indexOfLf(buf: Buffer, pos: number): number {
  const stop = Math.min(buf.length, pos + SHORT_LINE_SCAN);
  for (let i = pos; i < stop; i++) if (buf[i] === LF) return i;
  return stop === buf.length ? -1 : buf.indexOf(LF, stop);
}
