/**
 * Per-frame metadata that survives relay hops: when and by which camera a
 * frame was captured, and its sequence number there.
 *
 * axmjpeg-out writes it into every part's headers (standard framing):
 *
 *   X-Timestamp: 1700000000.123   capture time, seconds (mjpg-streamer's and ustreamer's form)
 *   X-Sequence: 42                the capturing camera's frame number
 *   X-Camera: Front%20door        the capturing camera's name, percent-encoded
 *
 * and an axmjpeg-in reading another Node-RED's axmjpeg-out reads it back into
 * `msg.frame.origin`, so a frame keeps its capture time, sequence and camera
 * however many instances it crosses (the hop's own receive time and sequence
 * stay in `msg.frame.time` / `msg.frame.seq`).
 *
 * Two more part headers mark parts that are not new frames: `X-Resent: 1`
 * (the latest frame sent again: a new viewer's first picture, the refresh
 * while no frame comes) and `X-Source-Offline: 1` (the offline picture).
 * A downstream session drops both as keep-alives: re-serving them as new
 * frames made a stale picture look live at every hop.
 */

export interface FrameOrigin {
  /** Capture time at the first hop, ms since epoch (that machine's clock). */
  time: number;
  /** Frame number at the first hop. */
  seq: number;
  /** Name of the camera at the first hop; absent when the stream did not say. */
  camera?: string;
}

/**
 * Seconds and milliseconds are told apart by size: any epoch time in seconds
 * before the year 5138 is below 1e11, any in ms after March 1973 above it.
 */
const SECONDS_BELOW = 1e11;
/** An origin time before 2000 is a monotonic clock (ustreamer) or garbage, not a capture time. */
const PLAUSIBLE_FROM_MS = 946_684_800_000;
const MAX_CAMERA_HEADER = 200;

/**
 * An `X-Timestamp` value in ms: seconds with a fraction (mjpg-streamer,
 * ustreamer, axmjpeg-out) or integer ms (axmjpeg-record). NaN when absent
 * or not a number. Relative use (pacing) works for monotonic clocks too.
 */
export function parseTimestampMs(raw: string | undefined): number {
  if (raw === undefined) return NaN;
  const t = raw.trim();
  if (t === '' || !/^\d+(\.\d+)?$/.test(t)) return NaN;
  const v = Number(t);
  return v < SECONDS_BELOW ? v * 1000 : v;
}

/** `1700000000.123`: seconds since the epoch, as mjpg-streamer sends X-Timestamp. */
export function formatTimestamp(timeMs: number): string {
  return (timeMs / 1000).toFixed(3);
}

/** Header-safe (no CR/LF, latin1 only) and reversible. */
export function encodeCameraName(name: string): string {
  return encodeURIComponent(name.slice(0, MAX_CAMERA_HEADER));
}

export function decodeCameraName(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    return decodeURIComponent(raw).slice(0, MAX_CAMERA_HEADER);
  } catch {
    return raw.slice(0, MAX_CAMERA_HEADER);
  }
}

/**
 * The origin a part's headers name, completed with this hop's own values
 * where the stream says nothing (an Axis camera sends none of them).
 */
export function originFrom(headers: Record<string, string>, local: { time: number; seq: number }): FrameOrigin {
  const t = parseTimestampMs(headers['x-timestamp']);
  const seqRaw = headers['x-sequence'];
  const seq = seqRaw !== undefined && /^\d{1,15}$/.test(seqRaw.trim()) ? Number(seqRaw.trim()) : NaN;
  const camera = decodeCameraName(headers['x-camera']);
  return {
    time: Number.isFinite(t) && t >= PLAUSIBLE_FROM_MS ? Math.round(t) : local.time,
    seq: Number.isFinite(seq) ? seq : local.seq,
    ...(camera !== undefined ? { camera } : {}),
  };
}

/** True for a part that repeats a frame or shows the offline picture rather than bringing a new frame. */
export function isKeepAlivePart(headers: Record<string, string>): 'offline' | 'resent' | null {
  if (headers['x-source-offline'] !== undefined) return 'offline';
  if (headers['x-resent'] !== undefined) return 'resent';
  return null;
}

/** Identity of a frame across hops: the same frame resent has the same key. */
export function originKey(o: FrameOrigin): string {
  return `${o.time}|${o.seq}|${o.camera ?? ''}`;
}
