/**
 * Byte layout of the multipart/x-mixed-replace stream we serve.
 *
 * The stream is `--B\r\n` followed, per frame, by
 * `Content-Type: image/jpeg\r\nContent-Length: N\r\nX-Timestamp: T\r\nX-Sequence: S\r\n\r\n<jpeg>\r\n--B\r\n`
 * (and X-Camera, X-Resent, X-Source-Offline: see ../origin.ts).
 * That is the ordinary `--B\r\n<headers>\r\n\r\n<jpeg>\r\n` part layout, but the
 * delimiter of the next part is sent right after each frame (as mjpg-streamer
 * does), so a reader that waits for the delimiter gets the frame at once.
 * The stream opens with a delimiter because ffmpeg's mpjpeg probe requires the
 * body to start with `--` (pipe2jpeg omits it and ffprobe rejects the stream).
 *
 * Browser viewers get the next part's headers too, right after each frame
 * (see framing.ts): `--B\r\nContent-Type: image/jpeg\r\n\r\n` opens the
 * stream, and each frame is followed by `\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n`.
 */
import { randomBytes } from 'node:crypto';
import { encodeCameraName, formatTimestamp } from '../origin';

/** RFC 2046 allows 1..70 characters from a restricted set; we stay far inside it. */
const BOUNDARY_RE = /^[A-Za-z0-9'()+_,.\/:=?-]{1,70}$/;

/** Random, so it will not turn up inside JPEG data that a scanning client searches. */
export function makeBoundary(): string {
  return `mjpegrelay${randomBytes(10).toString('hex')}`;
}

export function isValidBoundary(b: string): boolean {
  return BOUNDARY_RE.test(b) && !b.endsWith(' ');
}

/**
 * No parameter after `boundary=`: ffmpeg's boundary reader miscounts the
 * length when a `;` follows it.
 */
export function streamContentType(boundary: string): string {
  return `multipart/x-mixed-replace; boundary=${boundary}`;
}

/** Written once, right after the response headers. */
export function openingDelimiter(boundary: string): Buffer {
  return Buffer.from(`--${boundary}\r\n`, 'latin1');
}

/** Ends one part's body and opens the next part. */
export function partTrailer(boundary: string): Buffer {
  return Buffer.from(`\r\n--${boundary}\r\n`, 'latin1');
}

/** Sent before the frame exists: no Content-Length, no X-Timestamp. */
const BROWSER_PART_HEADERS = 'Content-Type: image/jpeg\r\n\r\n';

/** Browser framing: the opening delimiter and the first part's headers. */
export function browserOpening(boundary: string): Buffer {
  return Buffer.from(`--${boundary}\r\n${BROWSER_PART_HEADERS}`, 'latin1');
}

/** Browser framing: ends one part, opens the next and sends its headers ahead of its frame. */
export function browserTrailer(boundary: string): Buffer {
  return Buffer.from(`\r\n--${boundary}\r\n${BROWSER_PART_HEADERS}`, 'latin1');
}

export { formatTimestamp };

/** What a part says about its frame (origin.ts): capture time, sequence, camera. */
export interface PartMeta {
  time: number;
  seq: number;
  camera?: string;
}

/**
 * Built once per frame and shared by every viewer. `kind` 'resent' marks the
 * latest frame sent again (a new viewer's first picture, the idle refresh),
 * 'offline' the offline picture: another Node-RED reading this stream drops
 * both instead of passing them on as new frames.
 */
export function partHeader(size: number, meta: PartMeta, kind: 'frame' | 'resent' | 'offline' = 'frame'): Buffer {
  let h = `Content-Type: image/jpeg\r\nContent-Length: ${size}\r\nX-Timestamp: ${formatTimestamp(meta.time)}\r\n`;
  if (kind === 'offline') h += 'X-Source-Offline: 1\r\n';
  else {
    h += `X-Sequence: ${meta.seq}\r\n`;
    if (meta.camera) h += `X-Camera: ${encodeCameraName(meta.camera)}\r\n`;
    if (kind === 'resent') h += 'X-Resent: 1\r\n';
  }
  return Buffer.from(`${h}\r\n`, 'latin1');
}

/** Never cache, never sniff, and ask reverse proxies (nginx) not to buffer. */
export const NO_CACHE_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-cache, no-store, must-revalidate, private, max-age=0',
  Pragma: 'no-cache',
  Expires: '0',
  'X-Content-Type-Options': 'nosniff',
};

export function streamHeaders(boundary: string): Record<string, string> {
  return {
    ...NO_CACHE_HEADERS,
    'Content-Type': streamContentType(boundary),
    // Close-delimited body, like the Axis server: no chunk framing for clients to undo.
    Connection: 'close',
    'X-Accel-Buffering': 'no',
  };
}
