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
  /**
   * Where a PTZ head looks (quantized, so a move makes a bounded number of
   * distinct pictures): the scene pans, tilts and zooms with it, with the
   * presets as named landmarks in it.
   */
  view?: { pan: number; tilt: number; zoom: number; marks: readonly (readonly [string, number, number])[] };
  /** I/O lamps drawn top right: label and on/off (inputs, outputs, virtual inputs). */
  lamps?: readonly (readonly [string, boolean])[];
}

/** Stable cache key of a spec. */
export function specKey(s: FrameSpec): string {
  const base = [s.width, s.height, s.quality, s.camera, s.rotation, s.mirror ? 1 : 0, s.clock ? 1 : 0, s.date ? 1 : 0, s.textPos, s.label, s.cycle, s.text ?? '\u0000'].join('|');
  const view = s.view ? `|v${s.view.pan},${s.view.tilt},${s.view.zoom},${s.view.marks.map((m) => m.join(':')).join(';')}` : '';
  const lamps = s.lamps ? `|l${s.lamps.map(([l, on]) => `${l}${on ? 1 : 0}`).join(',')}` : '';
  return base + view + lamps;
}

/** Horizontal field of view at zoom 1 (wide) and 9999 (tele), degrees. */
const FOV_WIDE = 70;
const FOV_TELE = 7;
const GREEN: Rgb = [40, 200, 70];
const GREY: Rgb = [90, 90, 90];
const SKY: Rgb = [70, 110, 170];
const GROUND: Rgb = [70, 95, 60];

function fovOf(zoom: number): number {
  const z = Math.min(1, Math.max(0, (zoom - 1) / 9998));
  return FOV_WIDE * Math.pow(FOV_TELE / FOV_WIDE, z);
}

/**
 * The world a PTZ camera looks at: sky and ground split by a horizon that
 * moves with tilt, a post every 30° of pan with its angle, and a tall named
 * landmark at each preset. Drawn over the whole picture so a pan is obvious.
 */
function drawScene(rgba: Uint8Array, w: number, h: number, view: NonNullable<FrameSpec['view']>, phase: number): void {
  const fov = fovOf(view.zoom);
  const pxPerDeg = w / fov;
  const horizon = Math.round(h / 2 + view.tilt * pxPerDeg);
  for (let y = 0; y < h; y++) {
    const c = y < horizon ? SKY : GROUND;
    const shade = Math.floor(((y * 40) / h + phase * 8) % 16);
    let i = y * w * 4;
    for (let x = 0; x < w; x++) {
      rgba[i] = Math.min(255, c[0] + shade);
      rgba[i + 1] = Math.min(255, c[1] + shade);
      rgba[i + 2] = Math.min(255, c[2] + shade);
      rgba[i + 3] = 255;
      i += 4;
    }
  }
  const toX = (deg: number): number => {
    let d = deg - view.pan;
    while (d > 180) d -= 360;
    while (d < -180) d += 360;
    return w / 2 + d * pxPerDeg;
  };
  const small = textScale(h, 160);
  for (let deg = -180; deg < 180; deg += 30) {
    const x = toX(deg);
    if (x < -50 || x > w + 50) continue;
    const postW = Math.max(2, Math.round(pxPerDeg * 0.6));
    fillRect(rgba, w, h, x - postW / 2, horizon - pxPerDeg * 4, postW, pxPerDeg * 4, [200, 200, 200]);
    drawText(rgba, w, h, x + postW, horizon - pxPerDeg * 4, `${deg}`, small, WHITE);
  }
  const big = textScale(h, 120);
  for (const [name, pan, tilt] of view.marks) {
    const x = toX(pan);
    const y = h / 2 + (view.tilt - tilt) * pxPerDeg;
    const mw = Math.max(6, pxPerDeg * 6);
    const mh = Math.max(8, pxPerDeg * 9);
    if (x + mw < 0 || x - mw > w) continue;
    fillRect(rgba, w, h, x - mw / 2, y - mh / 2, mw, mh, [150, 60, 40]);
    fillRect(rgba, w, h, x - mw / 4, y - mh / 4, mw / 2, (mh * 3) / 4, [60, 30, 20]);
    const tw = textWidth(name, big);
    fillRect(rgba, w, h, x - tw / 2 - big, y - mh / 2 - (GLYPH_HEIGHT + 3) * big, tw + 2 * big, (GLYPH_HEIGHT + 2) * big, BLACK);
    drawText(rgba, w, h, x - tw / 2, y - mh / 2 - (GLYPH_HEIGHT + 2) * big, name, big, YELLOW);
  }
  // Cross-hair: the view's centre.
  const cx = Math.floor(w / 2);
  const cy = Math.floor(h / 2);
  fillRect(rgba, w, h, cx - 8 * small, cy, 16 * small, small, WHITE);
  fillRect(rgba, w, h, cx, cy - 8 * small, small, 16 * small, WHITE);
  const readout = `PAN ${view.pan} TILT ${view.tilt} ZOOM ${view.zoom}`;
  const rw = textWidth(readout, small);
  const ry = h - (GLYPH_HEIGHT + 6) * small * 3;
  fillRect(rgba, w, h, (w - rw) / 2 - small, ry - small, rw + 2 * small, (GLYPH_HEIGHT + 2) * small, BLACK);
  drawText(rgba, w, h, (w - rw) / 2, ry, readout, small, WHITE);
}

function drawLamps(rgba: Uint8Array, w: number, h: number, lamps: NonNullable<FrameSpec['lamps']>): void {
  const s = textScale(h, 160);
  let x = w - 2 * s;
  const y = (GLYPH_HEIGHT + 8) * s;
  for (let i = lamps.length - 1; i >= 0; i--) {
    const [label, on] = lamps[i]!;
    const tw = textWidth(label, s) + 4 * s;
    x -= tw;
    fillRect(rgba, w, h, x, y, tw, (GLYPH_HEIGHT + 4) * s, on ? GREEN : GREY);
    drawText(rgba, w, h, x + 2 * s, y + 2 * s, label, s, on ? BLACK : WHITE);
    x -= 2 * s;
  }
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

  if (spec.view) drawScene(rgba, w, h, spec.view, phase);

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

  // Time and frame counter in the middle, large (above the cross-hair on a PTZ view).
  const now = new Date(timeMs);
  const big = textScale(h, spec.view ? 120 : 80);
  const lines = [formatClock(now), `${spec.camera === 0 ? 'QUAD' : `CAM${spec.camera}`} #${pad2(slot % spec.cycle)}`, spec.label];
  const lineH = (GLYPH_HEIGHT + 3) * big;
  let y = spec.view ? Math.floor(h / 7) : Math.floor(h / 2 - (lines.length * lineH) / 2);
  for (const line of lines) {
    const tw = textWidth(line, big);
    // On a PTZ view the middle belongs to the scene: the lines go to the left.
    const x = spec.view ? 3 * big : Math.floor((w - tw) / 2);
    fillRect(rgba, w, h, x - big, y - big, tw + 2 * big, GLYPH_HEIGHT * big + 2 * big, BLACK);
    drawText(rgba, w, h, x, y, line, big, WHITE);
    y += lineH;
  }

  if (spec.lamps?.length) drawLamps(rgba, w, h, spec.lamps);

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
