/**
 * Draws one simulated camera frame and encodes it as a real baseline JPEG.
 *
 * Pure and synchronous: used by the encoder worker and, when no worker is
 * available, inline. The picture moves from slot to slot of a cycle so a
 * viewer (or a test) can see the stream is live.
 */
import * as jpeg from 'jpeg-js';
import { drawText, fillRect, GLYPH_HEIGHT, textWidth, type Rgb } from './font';

/** Everything that changes the pixels; equal specs give interchangeable frames. */
export interface FrameSpec {
  /** Output size, after rotation. */
  width: number;
  height: number;
  /** JPEG quality 1..100. */
  quality: number;
  camera: number;
  /** 0/90/180/270: changes the direction of motion (the picture is synthetic). */
  rotation: number;
  mirror: boolean;
  /** Axis-style overlay bar. */
  clock: boolean;
  date: boolean;
  /** Overlay text, shown when not null (text=1). */
  text: string | null;
  textPos: 'top' | 'bottom';
  /** Model name drawn in the picture. */
  label: string;
  /** Number of frames in one motion cycle. */
  cycle: number;
}

/** Stable cache key of a spec. */
export function specKey(s: FrameSpec): string {
  return [s.width, s.height, s.quality, s.camera, s.rotation, s.mirror ? 1 : 0, s.clock ? 1 : 0, s.date ? 1 : 0, s.textPos, s.label, s.cycle, s.text ?? '\u0000'].join('|');
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const YELLOW: Rgb = [255, 220, 40];
/** Base colour per camera channel so channels are told apart at a glance. */
const CAMERA_TINTS: readonly Rgb[] = [
  [40, 80, 160],
  [150, 60, 40],
  [40, 130, 70],
  [120, 60, 140],
];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function formatClock(d: Date): string {
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function formatDate(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** Integer text scale that keeps text readable at every resolution. */
function textScale(height: number, divisor: number): number {
  return Math.max(1, Math.floor(height / divisor));
}

/** RGBA pixels of slot `slot` of the cycle, with `timeMs` as the visible time. */
export function renderRgba(spec: FrameSpec, slot: number, timeMs: number): Uint8Array {
  const { width: w, height: h } = spec;
  const rgba = new Uint8Array(w * h * 4);
  const tint = CAMERA_TINTS[Math.max(0, spec.camera - 1) % CAMERA_TINTS.length] ?? CAMERA_TINTS[0]!;
  const phase = (slot % spec.cycle) / spec.cycle;

  // Background: a diagonal gradient that drifts with the phase, so every
  // slot differs over the whole picture (not only where the box is).
  const shift = Math.floor(phase * 256);
  for (let y = 0; y < h; y++) {
    const gy = Math.floor((y * 255) / Math.max(1, h - 1));
    let i = y * w * 4;
    for (let x = 0; x < w; x++) {
      const gx = Math.floor((x * 255) / Math.max(1, w - 1));
      const v = (gx + gy + shift) & 255;
      rgba[i] = (tint[0] + (v >> 2)) & 255;
      rgba[i + 1] = (tint[1] + (gy >> 2)) & 255;
      rgba[i + 2] = (tint[2] + (gx >> 2)) & 255;
      rgba[i + 3] = 255;
      i += 4;
    }
  }

  // A box sweeping across the picture; rotation/mirror change its path.
  const box = Math.max(4, Math.floor(Math.min(w, h) / 5));
  let t = phase;
  if (spec.mirror) t = 1 - t;
  const along = t * 2 <= 1 ? t * 2 : 2 - t * 2; // there and back: the cycle loops seamlessly
  const across = 0.5 + 0.35 * Math.sin(phase * 2 * Math.PI);
  const vertical = spec.rotation === 90 || spec.rotation === 270;
  const reverse = spec.rotation === 180 || spec.rotation === 270;
  const a = reverse ? 1 - along : along;
  const bx = vertical ? across * (w - box) : a * (w - box);
  const by = vertical ? a * (h - box) : across * (h - box);
  fillRect(rgba, w, h, bx, by, box, box, YELLOW);
  fillRect(rgba, w, h, bx + box / 4, by + box / 4, box / 2, box / 2, BLACK);

  // Time and frame counter in the middle, large.
  const now = new Date(timeMs);
  const big = textScale(h, 80);
  const lines = [formatClock(now), `${spec.camera === 0 ? 'QUAD' : `CAM${spec.camera}`} #${pad2(slot % spec.cycle)}`, spec.label];
  const lineH = (GLYPH_HEIGHT + 3) * big;
  let y = Math.floor(h / 2 - (lines.length * lineH) / 2);
  for (const line of lines) {
    const tw = textWidth(line, big);
    const x = Math.floor((w - tw) / 2);
    fillRect(rgba, w, h, x - big, y - big, tw + 2 * big, GLYPH_HEIGHT * big + 2 * big, BLACK);
    drawText(rgba, w, h, x, y, line, big, WHITE);
    y += lineH;
  }

  // Axis-style overlay bar: date, clock, text, in that order.
  const parts: string[] = [];
  if (spec.date) parts.push(formatDate(now));
  if (spec.clock) parts.push(formatClock(now));
  if (spec.text !== null && spec.text !== '') parts.push(spec.text);
  if (parts.length > 0) {
    const s = textScale(h, 160);
    const barH = (GLYPH_HEIGHT + 4) * s;
    const barY = spec.textPos === 'bottom' ? h - barH : 0;
    fillRect(rgba, w, h, 0, barY, w, barH, BLACK);
    drawText(rgba, w, h, 2 * s, barY + 2 * s, parts.join(' '), s, WHITE);
  }
  return rgba;
}

/** One frame as JPEG bytes. */
export function renderJpeg(spec: FrameSpec, slot: number, timeMs: number): Buffer {
  const data = renderRgba(spec, slot, timeMs);
  return jpeg.encode({ data, width: spec.width, height: spec.height }, spec.quality).data;
}
