/**
 * A StreamSource for devices that only serve single JPEGs (a snapshot URL:
 * ESP32-CAM `/capture`, many NVR and webcam "snapshot.jpg" endpoints, or
 * Axis `image.cgi`): it asks for one image per frame slot and hands the
 * session a multipart body, so the parser, hub, relay and every node work on
 * it exactly as on a live MJPEG stream.
 *
 * One request at a time: a slow answer pushes the next one back instead of
 * piling requests onto a device that serves one or two at once, and the next
 * request starts at the next slot (newest wins; nothing is queued). A failed
 * request ends the "stream" with that error and the session's backoff decides
 * when to try again.
 */
import { CameraError, ErrorCodes } from './errors';
import type { CameraHttpClient } from './http';
import type { OpenedStream, StreamSource } from './session';

/** Chosen to be unlike any JPEG byte run that matters: the parser checks Content-Length anyway. */
export const POLL_BOUNDARY = 'axmjpeg-polled-jpeg';
/** A poll every second unless the settings ask for another rate. */
export const DEFAULT_POLL_FPS = 1;

export interface PollingSourceOptions {
  /** Images a second; 0 = as fast as the device answers (still one at a time). */
  fps?: number;
  maxBytes?: number;
  /** For tests. */
  now?: () => number;
}

function part(jpeg: Buffer): Buffer {
  const head = Buffer.from(`--${POLL_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`, 'latin1');
  return Buffer.concat([head, jpeg, Buffer.from('\r\n', 'latin1')]);
}

export class PollingJpegSource implements StreamSource {
  readonly description: string;
  private readonly periodMs: number;
  private readonly maxBytes: number | undefined;
  private readonly now: () => number;

  constructor(
    private readonly client: CameraHttpClient,
    private readonly target: string,
    opts: PollingSourceOptions = {},
  ) {
    const fps = opts.fps ?? DEFAULT_POLL_FPS;
    if (!Number.isFinite(fps) || fps < 0) throw new CameraError(ErrorCodes.INVALID_SETTING, 'Polling fps must be 0 or more');
    this.periodMs = fps > 0 ? 1000 / fps : 0;
    this.maxBytes = opts.maxBytes;
    this.now = opts.now ?? Date.now;
    this.description = `${client.baseUrl}${target} (polled JPEG${fps > 0 ? ` at ${fps} fps` : ''})`;
  }

  private fetch(signal: AbortSignal): Promise<Buffer> {
    return this.client
      .fetchBuffer(this.target, { expect: 'jpeg', signal, ...(this.maxBytes !== undefined ? { maxBytes: this.maxBytes } : {}) })
      .then((r) => r.body);
  }

  /** The first image is fetched here, so a wrong URL or password fails the connect, not the first frame. */
  async open(signal: AbortSignal): Promise<OpenedStream> {
    const ac = new AbortController();
    const onOuterAbort = (): void => ac.abort(signal.reason);
    if (signal.aborted) onOuterAbort();
    else signal.addEventListener('abort', onOuterAbort, { once: true });
    const release = (): void => signal.removeEventListener('abort', onOuterAbort);
    let startedAt = this.now();
    let first: Buffer;
    try {
      first = await this.fetch(ac.signal);
    } catch (e) {
      release();
      throw e;
    }
    const self = this;
    let timer: NodeJS.Timeout | null = null;
    let wake: (() => void) | null = null;
    const wait = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, ms);
      });
    async function* body(): AsyncGenerator<Buffer> {
      try {
        yield part(first);
        while (!ac.signal.aborted) {
          const delay = self.periodMs - (self.now() - startedAt);
          if (delay > 0) await wait(delay);
          if (ac.signal.aborted) return;
          startedAt = self.now();
          yield part(await self.fetch(ac.signal));
        }
      } finally {
        if (timer) clearTimeout(timer);
        release();
      }
    }
    return {
      contentType: `multipart/x-mixed-replace; boundary=${POLL_BOUNDARY}`,
      body: body(),
      abort: () => {
        ac.abort(new CameraError(ErrorCodes.ABORTED, 'Polling stopped'));
        if (timer) clearTimeout(timer);
        wake?.();
      },
    };
  }
}
