/**
 * Minimal SVG line charts for the bench results: axes, ticks, a legend, and
 * one polyline per series. No dependency; text is escaped.
 */

export interface Series {
  name: string;
  color: string;
  /** stroke-dasharray, e.g. '6 4'; solid when absent. */
  dash?: string;
  points: [number, number][];
  /** Label drawn at the last point (e.g. its value). */
  endLabel?: string;
}

export interface PanelOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xMin: number;
  xMax: number;
  yMax: number;
  /** x positions of ticks and their labels; default 5 even ticks. */
  xTicks?: { v: number; label: string }[];
  series: Series[];
  /** Horizontal reference lines. */
  refs?: { y: number; label: string }[];
}

const FONT = 'font-family="system-ui, sans-serif"';
const MARGIN = { left: 56, right: 16, top: 28, bottom: 40 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r1 = (n: number): string => (Math.round(n * 10) / 10).toString();

/** A "nice" tick step for about `count` ticks up to max. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

/** One chart in the box (x0, y0, w, h). */
export function panel(o: PanelOptions, x0: number, y0: number, w: number, h: number): string {
  const left = x0 + MARGIN.left;
  const top = y0 + MARGIN.top;
  const pw = w - MARGIN.left - MARGIN.right;
  const ph = h - MARGIN.top - MARGIN.bottom;
  const X = (v: number): number => left + ((v - o.xMin) / (o.xMax - o.xMin || 1)) * pw;
  const Y = (v: number): number => top + ph - (Math.min(v, o.yMax) / (o.yMax || 1)) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + w / 2}" y="${y0 + 16}" text-anchor="middle" font-size="13" font-weight="600" ${FONT}>${esc(o.title)}</text>`);
  const ystep = niceStep(o.yMax, 5);
  for (let v = 0; v <= o.yMax + 1e-9; v += ystep) {
    out.push(`<line x1="${left}" y1="${r1(Y(v))}" x2="${left + pw}" y2="${r1(Y(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 6}" y="${r1(Y(v) + 4)}" text-anchor="end" font-size="11" ${FONT}>${r1(v)}</text>`);
  }
  const xstep = niceStep(o.xMax - o.xMin, 5);
  const xticks = o.xTicks ?? Array.from({ length: Math.floor((o.xMax - o.xMin) / xstep + 1e-9) + 1 }, (_, i) => o.xMin + i * xstep).map((v) => ({ v, label: r1(v) }));
  for (const t of xticks) {
    out.push(`<line x1="${r1(X(t.v))}" y1="${top + ph}" x2="${r1(X(t.v))}" y2="${top + ph + 4}" stroke="#333"/>`);
    out.push(`<text x="${r1(X(t.v))}" y="${top + ph + 16}" text-anchor="middle" font-size="11" ${FONT}>${esc(t.label)}</text>`);
  }
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top + ph}" x2="${left + pw}" y2="${top + ph}" stroke="#333"/>`);
  out.push(`<text x="${left + pw / 2}" y="${top + ph + 32}" text-anchor="middle" font-size="11" ${FONT}>${esc(o.xLabel)}</text>`);
  out.push(
    `<text x="${x0 + 14}" y="${top + ph / 2}" text-anchor="middle" font-size="11" ${FONT} transform="rotate(-90 ${x0 + 14} ${top + ph / 2})">${esc(o.yLabel)}</text>`,
  );
  for (const ref of o.refs ?? []) {
    out.push(`<line x1="${left}" y1="${r1(Y(ref.y))}" x2="${left + pw}" y2="${r1(Y(ref.y))}" stroke="#888" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${left + pw - 2}" y="${r1(Y(ref.y) - 4)}" text-anchor="end" font-size="10" fill="#666" ${FONT}>${esc(ref.label)}</text>`);
  }
  for (const s of o.series) {
    if (s.points.length === 0) continue;
    const pts = s.points.map(([x, y]) => `${r1(X(x))},${r1(Y(y))}`).join(' ');
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (s.points.length <= 12) for (const [x, y] of s.points) out.push(`<circle cx="${r1(X(x))}" cy="${r1(Y(y))}" r="3" fill="${s.color}"/>`);
    if (s.endLabel) {
      const [x, y] = s.points[s.points.length - 1]!;
      out.push(`<text x="${r1(X(x) - 2)}" y="${r1(Y(y) - 5)}" text-anchor="end" font-size="10" fill="${s.color}" ${FONT}>${esc(s.endLabel)}</text>`);
    }
  }
  return out.join('\n');
}

/** Legend entries in one row at (x, y). */
export function legend(series: Pick<Series, 'name' | 'color' | 'dash'>[], x: number, y: number): string {
  const out: string[] = [];
  let cx = x;
  for (const s of series) {
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<line x1="${cx}" y1="${y - 4}" x2="${cx + 24}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${cx + 30}" y="${y}" font-size="11" ${FONT}>${esc(s.name)}</text>`);
    cx += 40 + s.name.length * 6.2;
  }
  return out.join('\n');
}

export function svgDoc(w: number, h: number, body: string, note?: string): string {
  const foot = note ? `\n<text x="8" y="${h - 6}" font-size="10" fill="#666" ${FONT}>${esc(note)}</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">\n<rect width="100%" height="100%" fill="#fff"/>\n${body}${foot}\n</svg>\n`;
}
