/**
 * VAPIX stream/snapshot parameters as an Axis camera reads them.
 *
 * Like a real camera, a bad value is not an HTTP error: the caller answers
 * `200 text/plain` with the message returned here.
 */

/** Resolutions the simulated sensor offers (Properties.Image.Resolution). */
export const SUPPORTED_RESOLUTIONS = ['1920x1080', '1280x720', '800x600', '640x480', '480x360', '320x240', '160x120'] as const;
/** Frame rate of the simulated sensor; fps=0 and anything higher give this. */
export const MAX_FPS = 30;
/** Camera default when `compression` is missing (Axis ships 30). */
export const DEFAULT_COMPRESSION = 30;
/** Quality steps are coarse so similar requests share one cached cycle. */
const QUALITY_STEP = 5;
const MIN_QUALITY = 5;
export const MAX_TEXT_LENGTH = 128;

export interface StreamParams {
  width: number;
  height: number;
  /** 1-based image configuration; 0 = quad view. */
  camera: number;
  /** Frames per second actually delivered (already capped). */
  fps: number;
  quality: number;
  rotation: number;
  mirror: boolean;
  clock: boolean;
  date: boolean;
  text: string | null;
  textPos: 'top' | 'bottom';
  /** 0 = no limit. */
  durationMs: number;
  /** 0 = no limit. */
  maxFrames: number;
}

export interface ParamDefaults {
  /** Image configurations: `camera=1..cameras`. */
  cameras: number;
  /** `camera=quad` is there (devices with two or more sensors or channels). */
  quad?: boolean;
  resolution: string;
  fps: number;
}

export type ParseResult = { ok: true; params: StreamParams } | { ok: false; message: string };

/** JPEG quality for a VAPIX compression value (0 = best, 100 = smallest). */
export function qualityFor(compression: number): number {
  const q = Math.round((100 - compression) / QUALITY_STEP) * QUALITY_STEP;
  return Math.min(100, Math.max(MIN_QUALITY, q));
}

function bad(name: string, value: string): ParseResult {
  return { ok: false, message: `<!-- Error: invalid value '${value}' for parameter '${name}'. -->\r\n` };
}

function intParam(q: URLSearchParams, name: string, min: number, max: number): number | null | 'bad' {
  const v = q.get(name);
  if (v === null) return null;
  if (!/^\d+$/.test(v)) return 'bad';
  const n = Number(v);
  return n >= min && n <= max ? n : 'bad';
}

function flag(q: URLSearchParams, name: string): boolean | 'bad' {
  const v = q.get(name);
  if (v === null) return false;
  if (v === '0' || v === '1') return v === '1';
  return 'bad';
}

export function parseStreamParams(q: URLSearchParams, d: ParamDefaults): ParseResult {
  const camRaw = q.get('camera');
  let camera = 1;
  if (camRaw !== null && camRaw.toLowerCase() === 'quad' && d.quad) {
    // The four first channels in one picture; rendered as "camera 0".
    camera = 0;
  } else if (camRaw !== null) {
    camera = /^\d+$/.test(camRaw) ? Number(camRaw) : NaN;
    if (!(camera >= 1 && camera <= d.cameras)) return { ok: false, message: `<!-- Camera ${camRaw} not available. -->\r\n` };
  }

  const res = (q.get('resolution') ?? d.resolution).toLowerCase();
  if (!(SUPPORTED_RESOLUTIONS as readonly string[]).includes(res)) {
    return { ok: false, message: `<!-- Error: resolution '${res}' not supported. -->\r\n` };
  }
  const [w, h] = res.split('x').map(Number) as [number, number];

  const fpsRaw = intParam(q, 'fps', 0, 1000);
  if (fpsRaw === 'bad') return bad('fps', q.get('fps') ?? '');
  const wanted = fpsRaw ?? d.fps;
  const fps = wanted === 0 ? MAX_FPS : Math.min(MAX_FPS, wanted);

  const comp = intParam(q, 'compression', 0, 100);
  if (comp === 'bad') return bad('compression', q.get('compression') ?? '');

  const rot = intParam(q, 'rotation', 0, 270);
  if (rot === 'bad' || (rot !== null && rot % 90 !== 0)) return bad('rotation', q.get('rotation') ?? '');
  const rotation = rot ?? 0;

  const flags: Record<string, boolean> = {};
  for (const name of ['mirror', 'clock', 'date', 'text', 'squarepixel']) {
    const f = flag(q, name);
    if (f === 'bad') return bad(name, q.get(name) ?? '');
    flags[name] = f;
  }
  const textstring = q.get('textstring') ?? '';
  if (textstring.length > MAX_TEXT_LENGTH) return bad('textstring', textstring.slice(0, 16) + '...');
  const pos = q.get('textpos') ?? 'top';
  if (pos !== 'top' && pos !== 'bottom') return bad('textpos', pos);

  const duration = intParam(q, 'duration', 0, 1e9);
  if (duration === 'bad') return bad('duration', q.get('duration') ?? '');
  const frames = intParam(q, 'nbrofframes', 0, 1e12);
  if (frames === 'bad') return bad('nbrofframes', q.get('nbrofframes') ?? '');

  const swap = rotation === 90 || rotation === 270;
  return {
    ok: true,
    params: {
      width: swap ? h : w,
      height: swap ? w : h,
      camera,
      fps,
      quality: qualityFor(comp ?? DEFAULT_COMPRESSION),
      rotation,
      mirror: flags['mirror'] === true,
      clock: flags['clock'] === true,
      date: flags['date'] === true,
      text: flags['text'] === true ? textstring : null,
      textPos: pos,
      durationMs: (duration ?? 0) * 1000,
      maxFrames: frames ?? 0,
    },
  };
}
