/**
 * Ignore-masks for motion detection, as set in the editor.
 *
 * Two forms, both independent of the frame size so one mask fits every
 * resolution of the same camera view:
 * - a grid of 0/1 rows ("1" = ignore), one row per line (or separated by "/"),
 *   stretched over the block grid;
 * - rectangles in percent of the picture, "x,y,w,h" separated by ";" or new
 *   lines, e.g. "0,0,100,10; 80,50,20,50" ignores the top 10 % and a right-hand strip.
 */

import { CameraError, ErrorCodes } from '../errors';

export interface MaskRect {
  /** Left edge, percent of the width. */
  x: number;
  y: number;
  w: number;
  h: number;
}

export type MotionMask = { kind: 'grid'; rows: string[] } | { kind: 'rects'; rects: MaskRect[] };

/** Keeps a pasted mask from allocating without bound. */
const MAX_GRID_CELLS = 1_000_000;
const MAX_RECTS = 100;

function invalid(message: string): CameraError {
  return new CameraError(ErrorCodes.INVALID_SETTING, `Mask: ${message}`);
}

/**
 * Parses a mask setting. Empty text means no mask (null). Throws CameraError
 * ERR_INVALID_SETTING naming what is wrong.
 */
export function parseMask(text: string | null | undefined, kind: 'grid' | 'rects' | 'auto' = 'auto'): MotionMask | null {
  const t = (text ?? '').trim();
  if (t === '') return null;
  const looksLikeGrid = /^[01\s/]+$/.test(t);
  if (kind === 'grid' || (kind === 'auto' && looksLikeGrid)) return parseGrid(t);
  return parseRects(t);
}

function parseGrid(t: string): MotionMask {
  const rows = t
    .split(/[\r\n/]+/)
    .map((r) => r.replace(/\s+/g, ''))
    .filter((r) => r !== '');
  if (rows.length === 0) throw invalid('the grid has no rows');
  const w = rows[0]!.length;
  for (const [i, r] of rows.entries()) {
    if (!/^[01]+$/.test(r)) throw invalid(`grid row ${i + 1} may only hold 0 and 1`);
    if (r.length !== w) throw invalid(`grid row ${i + 1} has ${r.length} columns, the first row has ${w}`);
  }
  if (w * rows.length > MAX_GRID_CELLS) throw invalid('the grid is too large');
  return { kind: 'grid', rows };
}

function parseRects(t: string): MotionMask {
  const parts = t
    .split(/[;\r\n]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length > MAX_RECTS) throw invalid(`at most ${MAX_RECTS} rectangles`);
  const rects = parts.map((p, i) => {
    const nums = p.split(/[\s,]+/).filter((s) => s !== '').map(Number);
    if (nums.length !== 4 || nums.some((v) => !Number.isFinite(v) || v < 0 || v > 100)) {
      throw invalid(`rectangle ${i + 1} ("${p.slice(0, 40)}") must be four numbers x,y,w,h between 0 and 100 (percent)`);
    }
    const [x, y, w, h] = nums as [number, number, number, number];
    return { x, y, w, h };
  });
  return { kind: 'rects', rects };
}

/**
 * The mask for a grid of `bw` x `bh` blocks: 1 = ignored. A block is ignored
 * when its centre falls inside the mask.
 */
export function maskBlocks(mask: MotionMask, bw: number, bh: number): Uint8Array {
  const out = new Uint8Array(bw * bh);
  for (let by = 0; by < bh; by++) {
    const cy = (by + 0.5) / bh; // 0..1
    for (let bx = 0; bx < bw; bx++) {
      const cx = (bx + 0.5) / bw;
      let hidden = false;
      if (mask.kind === 'grid') {
        const row = mask.rows[Math.min(mask.rows.length - 1, Math.floor(cy * mask.rows.length))]!;
        hidden = row.charCodeAt(Math.min(row.length - 1, Math.floor(cx * row.length))) === 0x31;
      } else {
        for (const r of mask.rects) {
          if (cx * 100 >= r.x && cx * 100 < r.x + r.w && cy * 100 >= r.y && cy * 100 < r.y + r.h) {
            hidden = true;
            break;
          }
        }
      }
      out[by * bw + bx] = hidden ? 1 : 0;
    }
  }
  return out;
}
