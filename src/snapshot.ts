/**
 * One JPEG from the camera: `/axis-cgi/jpg/image.cgi` on Axis devices, or the
 * first frame of the stream for other MJPEG sources (they rarely have a
 * still-image endpoint).
 */
import { CameraError, ErrorCodes } from './errors';
import type { CameraHttpClient } from './http';
import { MjpegParser, parseBoundary } from './parser';
import { buildRequestTarget, StreamSettings } from './vapix-url';

export const DEFAULT_MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;

function isJpeg(b: Buffer): boolean {
  return b.length > 4 && b[0] === 0xff && b[1] === 0xd8;
}

export async function fetchSnapshot(
  client: CameraHttpClient,
  settings: StreamSettings,
  signal?: AbortSignal,
  maxBytes = DEFAULT_MAX_SNAPSHOT_BYTES,
): Promise<Buffer> {
  if (settings.customPath) return firstStreamFrame(client, buildRequestTarget(settings, 'mjpeg'), signal, maxBytes);
  const target = buildRequestTarget(settings, 'jpeg');
  const res = await client.fetchBuffer(target, { expect: 'jpeg', maxBytes, signal });
  if (!isJpeg(res.body)) {
    throw new CameraError(ErrorCodes.NOT_JPEG, `${client.baseUrl}${target} did not return a JPEG image`, {
      body: res.body.subarray(0, 200).toString('utf8'),
    });
  }
  return res.body;
}

/** Opens the stream, returns its first complete frame and closes it. */
export async function firstStreamFrame(
  client: CameraHttpClient,
  target: string,
  signal?: AbortSignal,
  maxBytes = DEFAULT_MAX_SNAPSHOT_BYTES,
): Promise<Buffer> {
  const res = await client.request(target, { expect: 'multipart', signal });
  let frame: Buffer | null = null;
  const parser = new MjpegParser({
    boundary: parseBoundary(res.contentType) ?? undefined,
    maxFrameBytes: maxBytes,
    onFrame: (f) => {
      frame ??= f.data;
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
  if (!frame) throw new CameraError(ErrorCodes.STREAM_ENDED, `${client.baseUrl}${target} ended before a complete frame`);
  return frame;
}
