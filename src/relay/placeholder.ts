/**
 * The "camera offline" picture viewers get instead of a frozen frame that
 * looks live: a generated greyscale JPEG the size of the stream, saying that
 * the source is down, since when the picture is old and why. No credentials
 * can be in it: the reason is the error code's short text.
 *
 * Rendering is rare (once per outage and size) but not free at 1080p, so the
 * last few pictures are cached by their content.
 */
import { encodeGreyJpeg } from '../jpeg/grey-encoder';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from '../text/font';

export const DEFAULT_PLACEHOLDER_WIDTH = 640;
export const DEFAULT_PLACEHOLDER_HEIGHT = 480;
const BACKGROUND = 48;
const BANNER = 20;
const TEXT = 235;
const DIM_TEXT = 190;
const QUALITY = 75;
const CACHE_SIZE = 8;
/** Longest line drawn, in characters; longer reasons are cut. */
const MAX_LINE = 60;

export interface PlaceholderInfo {
  width: number;
  height: number;
  /** First line, large: e.g. "CAMERA OFFLINE". */
  title: string;
  /** Smaller lines below it. */
  lines: string[];
}

/** `2026-12-03 08:11:05 UTC`: the picture may be read from anywhere, so no local time zone. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The lines of the offline picture for a source that is down. */
export function offlineLines(o: { lastFrameAt: number | null; reason: string; stopped?: boolean }): { title: string; lines: string[] } {
  return {
    title: o.stopped ? 'STREAM STOPPED' : 'CAMERA OFFLINE',
    lines: [
      o.stopped ? 'NOT LIVE' : 'RECONNECTING...',
      o.lastFrameAt === null ? 'NO FRAME RECEIVED YET' : `LAST FRAME ${formatUtc(o.lastFrameAt)}`,
      ...(o.reason ? [`REASON: ${o.reason}`] : []),
    ],
  };
}

function drawText(luma: Uint8Array, width: number, height: number, x: number, y: number, text: string, scale: number, value: number): void {
  let penX = x;
  for (const ch of text) {
    const rows = glyph(ch);
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      const bits = rows[row] ?? 0;
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if ((bits & (0x10 >> col)) === 0) continue;
        fill(luma, width, height, penX + col * scale, y + row * scale, scale, scale, value);
      }
    }
    penX += GLYPH_ADVANCE * scale;
  }
}

function fill(luma: Uint8Array, width: number, height: number, x: number, y: number, w: number, h: number, value: number): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(width, x + w);
  const y1 = Math.min(height, y + h);
  for (let yy = y0; yy < y1; yy++) luma.fill(value, yy * width + x0, yy * width + x1);
}

/** Largest integer scale at which `text` fits in `room` pixels, at least 1. */
function fitScale(text: string, room: number, max: number): number {
  let s = max;
  while (s > 1 && textWidth(text, s) > room) s--;
  return s;
}

export function renderPlaceholder(p: PlaceholderInfo): Buffer {
  const { width, height } = p;
  const luma = new Uint8Array(width * height).fill(BACKGROUND);
  const margin = Math.max(2, Math.round(width / 32));
  const room = width - 2 * margin;
  const lines = p.lines.map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE - 3)}...` : l));
  const titleScale = fitScale(p.title, room, Math.max(1, Math.floor(height / 60)));
  const lineScale = Math.max(1, Math.min(fitScale(lines.reduce((a, b) => (a.length >= b.length ? a : b), ''), room, Math.max(1, Math.floor(titleScale / 2))), titleScale));
  const titleH = GLYPH_HEIGHT * titleScale;
  const lineH = GLYPH_HEIGHT * lineScale;
  const gap = Math.max(2, lineScale * 4);
  const total = titleH + gap * 2 + lines.length * (lineH + gap);
  let y = Math.max(0, Math.round((height - total) / 2));
  // A dark banner behind the title, across the whole width.
  fill(luma, width, height, 0, y - gap, width, titleH + 2 * gap, BANNER);
  drawText(luma, width, height, Math.round((width - textWidth(p.title, titleScale)) / 2), y, p.title, titleScale, TEXT);
  y += titleH + gap * 2;
  for (const l of lines) {
    drawText(luma, width, height, Math.round((width - textWidth(l, lineScale)) / 2), y, l, lineScale, DIM_TEXT);
    y += lineH + gap;
  }
  return encodeGreyJpeg(luma, width, height, QUALITY);
}

/** renderPlaceholder with the last few results kept. */
export class PlaceholderCache {
  private readonly entries = new Map<string, Buffer>();

  get(p: PlaceholderInfo): Buffer {
    const key = JSON.stringify([p.width, p.height, p.title, p.lines]);
    let jpeg = this.entries.get(key);
    if (jpeg) {
      // Most recently used last.
      this.entries.delete(key);
    } else {
      jpeg = renderPlaceholder(p);
      if (this.entries.size >= CACHE_SIZE) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, jpeg);
    return jpeg;
  }
}
