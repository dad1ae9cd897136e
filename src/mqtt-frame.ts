/**
 * Frames over MQTT without a function node: the payload stays the plain JPEG
 * (any MQTT client can show it), and the frame's metadata travels as MQTT v5
 * user properties, which Node-RED's core `mqtt out` sends from
 * `msg.userProperties` and `mqtt in` gives back in `msg.userProperties`:
 *
 *   x-timestamp  capture time, seconds with ms (as the X-Timestamp part header)
 *   x-sequence   the capturing camera's frame number
 *   x-camera     the capturing camera's name (MQTT strings are UTF-8: no encoding)
 *   x-width, x-height  pixel size, when known
 *
 * and `msg.contentType` `image/jpeg` (a v5 property too), which makes `mqtt in`
 * on its default "auto-detect" output hand the payload on as a Buffer.
 * Over MQTT 3.1.1 only the JPEG arrives; our nodes then use the receive time.
 */
import { formatTimestamp, parseTimestampMs, type FrameOrigin } from './origin';

export const FRAME_CONTENT_TYPE = 'image/jpeg';
const MAX_CAMERA = 200;

export interface FrameProps {
  time: number;
  seq: number;
  camera?: string;
  width?: number | null;
  height?: number | null;
}

export function frameUserProperties(p: FrameProps): Record<string, string> {
  const out: Record<string, string> = { 'x-timestamp': formatTimestamp(p.time), 'x-sequence': String(p.seq) };
  if (p.camera) out['x-camera'] = p.camera.slice(0, MAX_CAMERA);
  if (typeof p.width === 'number' && typeof p.height === 'number') {
    out['x-width'] = String(p.width);
    out['x-height'] = String(p.height);
  }
  return out;
}

/** A user property may arrive as an array when repeated; the first one counts. */
function prop(up: Record<string, unknown>, k: string): string | undefined {
  const v = up[k];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : undefined;
}

/** The origin named by `msg.userProperties` from `mqtt in`, or null when they name none. */
export function originFromUserProperties(up: unknown): FrameOrigin | null {
  if (!up || typeof up !== 'object') return null;
  const u = up as Record<string, unknown>;
  const t = parseTimestampMs(prop(u, 'x-timestamp'));
  const seqRaw = prop(u, 'x-sequence');
  const seq = seqRaw !== undefined && /^\d{1,15}$/.test(seqRaw.trim()) ? Number(seqRaw.trim()) : NaN;
  if (!Number.isFinite(t) || !Number.isFinite(seq)) return null;
  const camera = prop(u, 'x-camera');
  return { time: Math.round(t), seq, ...(camera ? { camera: camera.slice(0, MAX_CAMERA) } : {}) };
}
