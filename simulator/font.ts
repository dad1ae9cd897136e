/**
 * Drawing text and rectangles into RGBA test frames (clock, frame counter,
 * overlay text). The glyphs are the package's own (src/text/font.ts).
 */
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from '../src/text/font';

export { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from '../src/text/font';

export type Rgb = readonly [number, number, number];

/**
 * Draws `text` into an RGBA buffer with its top-left corner at (x, y),
 * clipped to the image.
 */
export function drawText(
  rgba: Uint8Array,
  width: number,
  height: number,
  x: number,
  y: number,
  text: string,
  scale: number,
  color: Rgb,
): void {
  let penX = x;
  for (const ch of text) {
    const rows = glyph(ch);
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      const bits = rows[row] ?? 0;
      if (bits === 0) continue;
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if ((bits & (0x10 >> col)) === 0) continue;
        fillRect(rgba, width, height, penX + col * scale, y + row * scale, scale, scale, color);
      }
    }
    penX += GLYPH_ADVANCE * scale;
  }
}

/** Fills a rectangle, clipped to the image. */
export function fillRect(
  rgba: Uint8Array,
  width: number,
  height: number,
  x: number,
  y: number,
  w: number,
  h: number,
  color: Rgb,
): void {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(width, Math.floor(x + w));
  const y1 = Math.min(height, Math.floor(y + h));
  const [r, g, b] = color;
  for (let yy = y0; yy < y1; yy++) {
    let i = (yy * width + x0) * 4;
    for (let xx = x0; xx < x1; xx++) {
      rgba[i] = r;
      rgba[i + 1] = g;
      rgba[i + 2] = b;
      rgba[i + 3] = 255;
      i += 4;
    }
  }
}
