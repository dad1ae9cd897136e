/**
 * Builds VAPIX request targets (path + query) for the MJPEG stream and the
 * JPEG snapshot, from validated stream settings.
 *
 * Only path and query come out of here: the host and credentials live in the
 * HTTP client, so a URL built here can be logged, shown in status or put in a
 * msg without leaking anything.
 */
import { CameraError, ErrorCodes } from './errors';

export const VAPIX_MJPEG_PATH = '/axis-cgi/mjpg/video.cgi';
export const VAPIX_JPEG_PATH = '/axis-cgi/jpg/image.cgi';

export const ROTATIONS = [0, 90, 180, 270] as const;
export type Rotation = (typeof ROTATIONS)[number];

/** VAPIX caps text overlays well below this; anything longer is a mistake. */
export const MAX_TEXT_LENGTH = 128;
export const MAX_CAMERA_NUMBER = 64;
/** Generous: 8K sensors exist; anything bigger is a typo. */
export const MAX_DIMENSION = 8192;

export interface StreamSettings {
  /** `WxH`, e.g. `640x480`. Empty: the camera's default. */
  resolution?: string;
  /** `1..n` or `quad`. */
  camera?: string | number;
  /** Frames per second; 0 = unlimited. */
  fps?: number;
  /** 0 (best quality) .. 100 (smallest). */
  compression?: number;
  rotation?: number;
  mirror?: boolean;
  squarepixel?: boolean;
  clock?: boolean;
  date?: boolean;
  text?: boolean;
  textstring?: string;
  textcolor?: 'black' | 'white';
  textbackgroundcolor?: 'black' | 'white' | 'transparent' | 'semitransparent';
  textpos?: 'top' | 'bottom';
  /** Stream duration in seconds (camera ends the stream). */
  duration?: number;
  nbrofframes?: number;
  streamprofile?: string;
  /**
   * Request target for non-Axis MJPEG sources, e.g. `/stream` or
   * `/videostream.cgi?rate=0`. When set, no VAPIX parameters are added.
   */
  customPath?: string;
}

function invalid(message: string): CameraError {
  return new CameraError(ErrorCodes.INVALID_SETTING, message);
}

function isUnset(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function toNumber(name: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw invalid(`${name} must be a number, got "${String(v)}"`);
  return n;
}

function intInRange(name: string, v: unknown, min: number, max: number): number {
  const n = toNumber(name, v);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${name} must be a whole number from ${min} to ${max}, got ${n}`);
  return n;
}

const RESOLUTION_RE = /^(\d{1,5})x(\d{1,5})$/;

/** Normalises and checks settings; throws ERR_INVALID_SETTING naming the field. */
export function validateStreamSettings(s: StreamSettings): StreamSettings {
  const out: StreamSettings = {};
  if (!isUnset(s.customPath)) {
    const p = String(s.customPath).trim();
    if (!p.startsWith('/')) throw invalid(`custom path must start with "/", got "${p}"`);
    if (/\s/.test(p)) throw invalid('custom path must not contain spaces; percent-encode them');
    if (/^\/\/|@/.test(p.split('?')[0] ?? '')) throw invalid('custom path must be a path, not a URL with a host or credentials');
    out.customPath = p;
  }
  if (!isUnset(s.resolution)) {
    const r = String(s.resolution).trim().toLowerCase();
    const m = RESOLUTION_RE.exec(r);
    if (!m) throw invalid(`resolution must look like 640x480, got "${r}"`);
    const w = Number(m[1]);
    const h = Number(m[2]);
    if (w < 1 || h < 1 || w > MAX_DIMENSION || h > MAX_DIMENSION) throw invalid(`resolution ${r} is out of range`);
    out.resolution = `${w}x${h}`;
  }
  if (!isUnset(s.camera)) {
    const c = String(s.camera).trim().toLowerCase();
    if (c === 'quad') out.camera = 'quad';
    else out.camera = String(intInRange('camera', c, 1, MAX_CAMERA_NUMBER));
  }
  if (!isUnset(s.fps)) {
    const f = toNumber('fps', s.fps);
    if (f < 0 || f > 1000) throw invalid(`fps must be 0 (unlimited) or more, got ${f}`);
    out.fps = f;
  }
  if (!isUnset(s.compression)) out.compression = intInRange('compression', s.compression, 0, 100);
  if (!isUnset(s.rotation)) {
    const r = toNumber('rotation', s.rotation);
    if (!(ROTATIONS as readonly number[]).includes(r)) throw invalid(`rotation must be 0, 90, 180 or 270, got ${r}`);
    out.rotation = r;
  }
  for (const flag of ['mirror', 'squarepixel', 'clock', 'date', 'text'] as const) {
    if (!isUnset(s[flag])) out[flag] = Boolean(s[flag]);
  }
  if (!isUnset(s.textstring)) {
    const t = String(s.textstring);
    if (t.length > MAX_TEXT_LENGTH) throw invalid(`overlay text is longer than ${MAX_TEXT_LENGTH} characters`);
    out.textstring = t;
  }
  if (!isUnset(s.textcolor)) {
    if (s.textcolor !== 'black' && s.textcolor !== 'white') throw invalid(`text colour must be black or white`);
    out.textcolor = s.textcolor;
  }
  if (!isUnset(s.textbackgroundcolor)) {
    if (!['black', 'white', 'transparent', 'semitransparent'].includes(String(s.textbackgroundcolor)))
      throw invalid('text background must be black, white, transparent or semitransparent');
    out.textbackgroundcolor = s.textbackgroundcolor;
  }
  if (!isUnset(s.textpos)) {
    if (s.textpos !== 'top' && s.textpos !== 'bottom') throw invalid('text position must be top or bottom');
    out.textpos = s.textpos;
  }
  if (!isUnset(s.duration)) out.duration = intInRange('duration', s.duration, 1, 365 * 24 * 3600);
  if (!isUnset(s.nbrofframes)) out.nbrofframes = intInRange('nbrofframes', s.nbrofframes, 1, 1e9);
  if (!isUnset(s.streamprofile)) {
    const p = String(s.streamprofile).trim();
    if (!/^[\w.-]{1,64}$/.test(p)) throw invalid(`stream profile name "${p}" has characters a camera will not accept`);
    out.streamprofile = p;
  }
  return out;
}

/** Query parameters in VAPIX order; unset ones are left to the camera's defaults. */
function vapixQuery(s: StreamSettings, kind: 'mjpeg' | 'jpeg'): string {
  const q: [string, string][] = [];
  if (s.streamprofile !== undefined) q.push(['streamprofile', s.streamprofile]);
  if (s.camera !== undefined) q.push(['camera', String(s.camera)]);
  if (s.resolution !== undefined) q.push(['resolution', s.resolution]);
  if (s.compression !== undefined) q.push(['compression', String(s.compression)]);
  if (s.rotation !== undefined) q.push(['rotation', String(s.rotation)]);
  if (s.mirror !== undefined) q.push(['mirror', s.mirror ? '1' : '0']);
  if (s.squarepixel !== undefined) q.push(['squarepixel', s.squarepixel ? '1' : '0']);
  if (s.clock !== undefined) q.push(['clock', s.clock ? '1' : '0']);
  if (s.date !== undefined) q.push(['date', s.date ? '1' : '0']);
  if (s.text !== undefined) q.push(['text', s.text ? '1' : '0']);
  if (s.textstring !== undefined) q.push(['textstring', s.textstring]);
  if (s.textcolor !== undefined) q.push(['textcolor', s.textcolor]);
  if (s.textbackgroundcolor !== undefined) q.push(['textbackgroundcolor', s.textbackgroundcolor]);
  if (s.textpos !== undefined) q.push(['textpos', s.textpos]);
  if (kind === 'mjpeg') {
    if (s.fps !== undefined) q.push(['fps', String(s.fps)]);
    if (s.duration !== undefined) q.push(['duration', String(s.duration)]);
    if (s.nbrofframes !== undefined) q.push(['nbrofframes', String(s.nbrofframes)]);
  }
  // encodeURIComponent, not URLSearchParams: cameras expect %20, not "+", in textstring.
  return q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

/**
 * Request target for the stream (`mjpeg`) or a single image (`jpeg`).
 * A custom path is used as given, for non-Axis sources (snapshots of such
 * sources are taken from the stream).
 */
export function buildRequestTarget(settings: StreamSettings, kind: 'mjpeg' | 'jpeg'): string {
  const s = validateStreamSettings(settings);
  if (s.customPath !== undefined) return s.customPath;
  const query = vapixQuery(s, kind);
  const path = kind === 'mjpeg' ? VAPIX_MJPEG_PATH : VAPIX_JPEG_PATH;
  return query ? `${path}?${query}` : path;
}

/**
 * Stable key for "the same stream": two subscribers whose settings give the
 * same key share one camera connection.
 */
export function streamKey(settings: StreamSettings): string {
  return buildRequestTarget(settings, 'mjpeg');
}
