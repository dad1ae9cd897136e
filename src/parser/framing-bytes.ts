/**
 * Byte values and byte classes of multipart framing.
 */

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
