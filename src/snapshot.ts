/**
 * One JPEG from the camera: `/axis-cgi/jpg/image.cgi` on Axis devices, the
 * first frame of the stream for other MJPEG sources (they rarely have a
 * still-image endpoint), or one GET of a snapshot URL for polled sources.
 *
 * `skipFrames` drops the first images of the request: a webcam whose sensor
 * starts with the stream sends dark or mis-exposed frames while auto-exposure
 * settles, and many snapshot-only devices (ESP32-CAM among them) hand out the
 * frame buffered at the previous request first.
 */
import { CameraError, ErrorCodes } from './errors';
import type { CameraHttpClient } from './http';
import { MjpegParser, parseBoundary } from './parser';
import { buildRequestTarget, StreamSettings } from './vapix-url';

export const DEFAULT_MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;
/** More is a typo: at 30 fps this is over 3 s of video thrown away per snapshot. */
export const MAX_SKIP_FRAMES = 100;

function isJpeg(b: Buffer): boolean {
  return b.length > 4 && b[0] === 0xff && b[1] === 0xd8;
}

export interface SnapshotOptions {
  signal?: AbortSignal;
  maxBytes?: number;
  /** Images dropped before the one returned. Default 0. */
  skipFrames?: number;
  /** The source is a JPEG URL (polled): one GET of the custom path is one image. */
  jpegUrl?: boolean;
}

export function checkSkipFrames(n: unknown): number {
  const v = n === undefined ? 0 : Number(n);
  if (!Number.isInteger(v) || v < 0 || v > MAX_SKIP_FRAMES)
    throw new CameraError(ErrorCodes.INVALID_SETTING, `Skip frames must be a whole number from 0 to ${MAX_SKIP_FRAMES}, got "${String(n)}"`);
  return v;
}

export async function fetchSnapshot(client: CameraHttpClient, settings: StreamSettings, opts: SnapshotOptions = {}): Promise<Buffer> {
  const { signal, maxBytes = DEFAULT_MAX_SNAPSHOT_BYTES } = opts;
  const skip = checkSkipFrames(opts.skipFrames);
  if (settings.customPath && !opts.jpegUrl) return firstStreamFrame(client, buildRequestTarget(settings, 'mjpeg'), signal, maxBytes, skip);
  // A still endpoint gives one image per request: skipping means asking again, one request at a time.
  const target = buildRequestTarget(settings, 'jpeg');
  for (let i = 0; ; i++) {
    const res = await client.fetchBuffer(target, { expect: 'jpeg', maxBytes, ...(signal ? { signal } : {}) });
    if (!isJpeg(res.body)) {
      throw new CameraError(ErrorCodes.NOT_JPEG, `${client.baseUrl}${target} did not return a JPEG image`, {
        body: res.body.subarray(0, 200).toString('utf8'),
      });
    }
    if (i >= skip) return res.body;
  }
}

/** Opens the stream, returns its first complete frame after `skip` dropped ones, and closes it. */
export async function firstStreamFrame(
  client: CameraHttpClient,
  target: string,
  signal?: AbortSignal,
  maxBytes = DEFAULT_MAX_SNAPSHOT_BYTES,
  skip = 0,
): Promise<Buffer> {
  const res = await client.request(target, { expect: 'multipart', ...(signal ? { signal } : {}) });
  let frame: Buffer | null = null;
  let seen = 0;
  const parser = new MjpegParser({
    boundary: parseBoundary(res.contentType) ?? undefined,
    maxFrameBytes: maxBytes,
    onFrame: (f) => {
      if (seen++ >= skip) frame ??= f.data;
    },
    onError: () => {},
  });
  try {
    for await (const chunk of res.body) {
      parser.push(chunk);
      if (frame) break;
    }
  } finally {
    res.abort();
  }
  if (!frame) {
    const what = skip > 0 ? `a complete frame after skipping ${skip} (got ${seen})` : 'a complete frame';
    throw new CameraError(ErrorCodes.STREAM_ENDED, `${client.baseUrl}${target} ended before ${what}`);
  }
  return frame;
}
