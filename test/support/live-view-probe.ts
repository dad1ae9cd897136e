/**
 * What a browser shows in an `<img>` of a live stream, over time: a script
 * for the page that takes the image's current picture every 20 ms, draws it into a 1x1 canvas and
 * records each change of colour with the browser's Date.now() (the same clock
 * as the test's on this machine).
 */
import type { Rgb } from './colour-camera';

export const SAMPLE_EVERY_MS = 20;

export interface Sample {
  t: number;
  rgb: Rgb;
}

/**
 * An expression that starts the sampler on the current page (which must be
 * of the stream's origin, or the canvas is tainted) and evaluates to true.
 * Read the samples with SAMPLES_EXPRESSION.
 */
export function samplerExpression(streamUrl: string): string {
  return `(() => {
    document.body.innerHTML = '';
    const img = new Image();
    img.src = ${JSON.stringify(streamUrl)};
    document.body.appendChild(img);
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const samples = (window.__samples = []);
    window.__errors = [];
    let last = '';
    let busy = false;
    setInterval(() => {
      if (!img.naturalWidth || busy) return;
      busy = true;
      const t = Date.now();
      // Through an ImageBitmap: Firefox's drawImage(img) keeps drawing the
      // first part of a multipart image (its canvas image cache).
      createImageBitmap(img).then((bm) => {
        ctx.drawImage(bm, 0, 0, 1, 1);
        bm.close();
        const d = ctx.getImageData(0, 0, 1, 1).data;
        const key = d[0] + ',' + d[1] + ',' + d[2];
        if (key !== last) {
          last = key;
          samples.push({ t, rgb: [d[0], d[1], d[2]] });
        }
      }).catch((e) => {
        if (window.__errors.length < 5) window.__errors.push(String(e));
      }).finally(() => { busy = false; });
    }, ${SAMPLE_EVERY_MS});
    return true;
  })()`;
}

/** Evaluates to a JSON string: { samples, errors, ua }. */
export const SAMPLES_EXPRESSION = 'JSON.stringify({ samples: window.__samples || [], errors: window.__errors || [], ua: navigator.userAgent })';

/** Closest colour of `palette` within `tolerance` (sum of channel differences), or -1. */
export function classify(rgb: Rgb, palette: readonly Rgb[], tolerance = 90): number {
  let best = -1;
  let bestD = Infinity;
  palette.forEach((p, i) => {
    const d = Math.abs(p[0] - rgb[0]) + Math.abs(p[1] - rgb[1]) + Math.abs(p[2] - rgb[2]);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return bestD <= tolerance ? best : -1;
}

/** When colour `index` was first on screen at or after `since`, or null. */
export function firstSeen(samples: readonly Sample[], palette: readonly Rgb[], index: number, since: number): number | null {
  for (const s of samples) if (s.t >= since && classify(s.rgb, palette) === index) return s.t;
  return null;
}
