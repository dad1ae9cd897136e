/**
 * Motion detection benchmark. `npm run bench:motion` (builds first).
 *
 * Decode-to-grey time per frame of our DC-only decoder beside jpeg-js's full
 * decode of the same JPEGs in the same run, for VGA and 1080p camera-like
 * frames (jpeg-js encoded, 4:2:0), plus the detector step on the grey image.
 * Figures are ms per frame: median of RUNS runs, and the best run (the
 * machine is shared, so the best run shows the decoder, the median the load).
 */

import { decodeDcGrey } from '../src/jpeg/dc-decoder';
import { MotionDetector } from '../src/motion/detector';
import { hdJpeg, vgaJpeg } from '../test/support/jpeg-samples';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const jpeg = require('jpeg-js') as { decode(buf: Buffer, opts: Record<string, unknown>): unknown };

const RUNS = 7;
const FRAMES = 8;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Timing {
  median: number;
  best: number;
}

/** ms per call of `fn` over `frames`, `reps` passes, RUNS runs. */
function time(frames: Buffer[], reps: number, fn: (b: Buffer) => void): Timing {
  const results: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) for (const f of frames) fn(f);
    results.push(Number(process.hrtime.bigint() - t0) / 1e6 / (reps * frames.length));
  }
  return { median: median(results), best: Math.min(...results) };
}

function fmt(t: Timing, digits: number): string {
  return `${t.median.toFixed(digits)} (${t.best.toFixed(digits)})`;
}

function main(): void {
  const rows: string[] = [];
  for (const [label, make, reps, fullReps] of [
    ['VGA 640x480', vgaJpeg, 100, 3],
    ['1080p 1920x1080', hdJpeg, 30, 1],
  ] as const) {
    const frames = Array.from({ length: FRAMES }, (_, i) => make(i + 1));
    const kb = frames.reduce((s, f) => s + f.length, 0) / frames.length / 1024;
    // Warm up the JIT on both before measuring.
    for (const f of frames) decodeDcGrey(f);
    time(frames, Math.max(1, reps / 10), (f) => decodeDcGrey(f));
    jpeg.decode(frames[0]!, { useTArray: true });
    const dc = time(frames, reps, (f) => decodeDcGrey(f));
    const full = time(frames, fullReps, (f) => jpeg.decode(f, { useTArray: true, formatAsRGBA: false }));
    const detector = new MotionDetector({ blur: true });
    const greys = frames.map((f) => decodeDcGrey(f));
    let t = 0;
    const det = time(frames, reps, () => {
      detector.process(greys[t % greys.length]!, (t += 200));
    });
    rows.push(
      `| ${label} | ${kb.toFixed(0)} KB | ${fmt(dc, 2)} | ${fmt(full, 1)} | ${(full.median / dc.median).toFixed(0)}x | ${fmt(det, 3)} |`,
    );
  }
  console.log(`node ${process.version}, ${RUNS} runs, ms per frame: median (best run), ${FRAMES} different frames each\n`);
  console.log('| frame | JPEG size | DC-only decode to grey, ms | jpeg-js full decode, ms | speed-up (medians) | detector step with 3x3 blur, ms |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main();
