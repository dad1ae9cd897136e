/**
 * One live MJPEG stream: connect, parse, emit frames, and keep it alive.
 *
 * A session owns the reconnect loop so that no caller has to: a stream that
 * breaks (camera reboot, network loss, stall, wrong credentials fixed later)
 * comes back by itself with capped, jittered backoff. Failures are reported
 * as `problem` events and never as `error` events, because an unhandled
 * `error` event would take Node-RED down.
 */
import { EventEmitter } from 'node:events';
import { CameraError, ErrorCodes, isCameraError } from './errors';
import { MjpegParser, parseBoundary } from './parser';
import { jpegSize } from './jpeg/jpeg-info';
import { BackoffPolicy, resolveBackoff, retryDelay } from './backoff';
import { RateMeter } from './rate-meter';
import { isKeepAlivePart, originFrom, originKey, type FrameOrigin } from './origin';

export type SessionState = 'idle' | 'connecting' | 'streaming' | 'backoff' | 'stopped';

/** What a session needs from a transport: an opened body and its content type. */
export interface OpenedStream {
  contentType: string;
  body: AsyncIterable<Buffer>;
  abort(): void;
}

export interface StreamSource {
  open(signal: AbortSignal): Promise<OpenedStream>;
  /** Redacted description for messages, e.g. `http://10.0.0.5/axis-cgi/mjpg/video.cgi?fps=5`. */
  readonly description: string;
}

export interface Frame {
  /** One complete JPEG. Shared by every subscriber: treat as read-only. */
  data: Buffer;
  /** 1-based, per session; restarts at 1 for a new session only, not on reconnect. */
  seq: number;
  /** Receive time, ms since epoch. */
  time: number;
  size: number;
  width: number | null;
  height: number | null;
  /** Part headers of the multipart stream, names lower-cased. */
  headers: Record<string, string>;
  /** Capture time, sequence and camera at the first hop (origin.ts); this hop's own when the stream names none. */
  origin?: FrameOrigin;
}

export interface StateChange {
  state: SessionState;
  /** Why we left `streaming`/`connecting`: set in `backoff` and, for a final end, in `stopped`. */
  error?: CameraError;
  /** In `backoff`: ms until the next attempt. */
  retryInMs?: number;
  /** Consecutive failed attempts so far. */
  attempt: number;
}

export interface SessionOptions {
  source: StreamSource;
  /** No byte for this long while streaming → reconnect. 0 disables. */
  stallTimeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  maxFrameBytes?: number;
  maxHeaderBytes?: number;
  /**
   * The camera ending the stream is normal when `duration`/`nbrofframes`
   * was asked for: then the session stops instead of reconnecting.
   */
  stopWhenEnded?: boolean;
  random?: () => number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 10_000;

export interface SessionStats {
  state: SessionState;
  frames: number;
  bytes: number;
  fps: number;
  bytesPerSec: number;
  connects: number;
  reconnects: number;
  droppedParts: number;
  discardedBytes: number;
  /** Parts another relay marked as not new (X-Resent of a frame already had, X-Source-Offline): dropped. */
  keepAlives: number;
  lastError: CameraError | null;
  streamingSince: number | null;
}

export declare interface StreamSession {
  on(event: 'frame', listener: (frame: Frame) => void): this;
  on(event: 'state', listener: (change: StateChange) => void): this;
  on(event: 'problem', listener: (err: CameraError) => void): this;
}

/** Turns anything thrown by a transport into a CameraError without leaking details we did not vet. */
export function toCameraError(err: unknown): CameraError {
  if (isCameraError(err)) return err;
  const e = err as { code?: string; message?: string; name?: string } | undefined;
  if (e?.name === 'AbortError') return new CameraError(ErrorCodes.ABORTED, 'Request cancelled', { cause: err });
  switch (e?.code) {
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return new CameraError(ErrorCodes.CONN_RESET, 'Connection reset by the camera', { cause: err });
    case 'ECONNREFUSED':
      return new CameraError(ErrorCodes.CONN_REFUSED, 'Connection refused', { cause: err });
    default:
      return new CameraError(ErrorCodes.UNKNOWN, e?.message ?? String(err), { cause: err });
  }
}

export class StreamSession extends EventEmitter {
  private readonly source: StreamSource;
  private readonly stallTimeoutMs: number;
  private readonly policy: BackoffPolicy;
  private readonly maxFrameBytes: number | undefined;
  private readonly maxHeaderBytes: number | undefined;
  private readonly stopWhenEnded: boolean;
  private readonly random: () => number;

  private _state: SessionState = 'idle';
  private running = false;
  private loop: Promise<void> | null = null;
  private current: AbortController | null = null;
  private currentStream: OpenedStream | null = null;
  private wakeBackoff: (() => void) | null = null;
  private attempt = 0;
  private seq = 0;
  private readonly fpsMeter = new RateMeter();
  private readonly byteMeter = new RateMeter();
  private _latest: Frame | null = null;
  /** originKey of the last frame emitted, kept across reconnects: a relay greets a reconnecting reader with its latest frame again. */
  private lastOriginKey: string | null = null;
  private stats_ = {
    frames: 0,
    bytes: 0,
    connects: 0,
    reconnects: 0,
    droppedParts: 0,
    discardedBytes: 0,
    keepAlives: 0,
    lastError: null as CameraError | null,
    streamingSince: null as number | null,
  };

  constructor(opts: SessionOptions) {
    super();
    this.source = opts.source;
    this.stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.policy = resolveBackoff(opts.backoff);
    this.maxFrameBytes = opts.maxFrameBytes;
    this.maxHeaderBytes = opts.maxHeaderBytes;
    this.stopWhenEnded = opts.stopWhenEnded ?? false;
    this.random = opts.random ?? Math.random;
  }

  get state(): SessionState {
    return this._state;
  }

  get description(): string {
    return this.source.description;
  }

  /** The newest complete frame, or null before the first one. */
  get latest(): Frame | null {
    return this._latest;
  }

  get stats(): SessionStats {
    const now = Date.now();
    return { ...this.stats_, state: this._state, fps: this.fpsMeter.rate(now), bytesPerSec: this.byteMeter.rate(now) };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.loop = this.runLoop();
  }

  /** Stops and waits until the socket is gone. Safe to call repeatedly. */
  async stop(): Promise<void> {
    this.running = false;
    this.current?.abort();
    this.currentStream?.abort();
    this.wakeBackoff?.();
    const loop = this.loop;
    this.loop = null;
    if (loop) await loop;
    if (this._state !== 'stopped') this.setState({ state: 'stopped', attempt: this.attempt });
  }

  /** Skips a pending backoff wait, e.g. after the user fixed a setting. */
  retryNow(): void {
    this.wakeBackoff?.();
  }

  private setState(change: StateChange): void {
    this._state = change.state;
    this.emit('state', change);
  }

  private async runLoop(): Promise<void> {
    while (this.running) {
      this.setState({ state: 'connecting', attempt: this.attempt });
      let streamedFor = 0;
      let error: CameraError;
      try {
        error = await this.streamOnce();
      } catch (e) {
        error = toCameraError(e);
      }
      streamedFor = this.stats_.streamingSince ? Date.now() - this.stats_.streamingSince : 0;
      this.stats_.streamingSince = null;
      if (!this.running) break;

      if (error.code === ErrorCodes.STREAM_ENDED && this.stopWhenEnded) {
        this.running = false;
        this.setState({ state: 'stopped', error, attempt: this.attempt });
        break;
      }
      this.stats_.lastError = error;
      this.emit('problem', error);
      if (streamedFor >= this.policy.healthyResetMs) this.attempt = 0;
      const delay = retryDelay(this.attempt, this.policy, error.code, this.random);
      this.attempt++;
      this.setState({ state: 'backoff', error, retryInMs: delay, attempt: this.attempt });
      await this.sleep(delay);
      if (this.running) this.stats_.reconnects++;
    }
    this.current = null;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wakeBackoff = null;
        resolve();
      }
      this.wakeBackoff = done;
    });
  }

  /** One connection, from request to its end. Resolves with the reason it ended. */
  private async streamOnce(): Promise<CameraError> {
    const ac = new AbortController();
    this.current = ac;
    let stalled = false;
    let stallTimer: NodeJS.Timeout | null = null;
    let opened: OpenedStream | null = null;
    try {
      opened = await this.source.open(ac.signal);
      this.currentStream = opened;
      this.stats_.connects++;
      if (!this.running) return new CameraError(ErrorCodes.ABORTED, 'Stopped');
      const boundary = parseBoundary(opened.contentType);
      const parser = new MjpegParser({
        boundary: boundary ?? undefined,
        maxFrameBytes: this.maxFrameBytes,
        maxHeaderBytes: this.maxHeaderBytes,
        onFrame: (f) => this.onFrame(f.data, f.headers),
        onError: (err) => this.emit('problem', err),
      });
      this.stats_.streamingSince = Date.now();
      this.setState({ state: 'streaming', attempt: this.attempt });

      if (this.stallTimeoutMs > 0) {
        const o = opened;
        stallTimer = setTimeout(() => {
          stalled = true;
          o.abort();
          ac.abort();
        }, this.stallTimeoutMs);
      }
      for await (const chunk of opened.body) {
        stallTimer?.refresh();
        this.stats_.bytes += chunk.length;
        this.byteMeter.mark(chunk.length);
        parser.push(chunk);
        if (!this.running) break;
      }
      if (this.running) parser.end();
      const ps = parser.stats;
      this.stats_.droppedParts += ps.droppedParts;
      this.stats_.discardedBytes += ps.discardedBytes;
      if (stalled) return this.stallError();
      return new CameraError(ErrorCodes.STREAM_ENDED, `Camera ended the stream ${this.source.description}`);
    } catch (e) {
      if (stalled) return this.stallError();
      throw e;
    } finally {
      if (stallTimer) clearTimeout(stallTimer);
      this.currentStream = null;
      opened?.abort();
      ac.abort();
    }
  }

  private stallError(): CameraError {
    return new CameraError(
      ErrorCodes.STALLED,
      `No data for ${Math.round(this.stallTimeoutMs / 1000)} s from ${this.source.description}`,
    );
  }

  private onFrame(data: Buffer, headers: Record<string, string>): void {
    const now = Date.now();
    const keepAlive = isKeepAlivePart(headers);
    const origin = originFrom(headers, { time: now, seq: this.seq + 1 });
    // An upstream relay's offline picture or a frame we had already is no new
    // frame: passing it on would make a stale picture look live downstream.
    // The bytes still count against the stall timer (they kept the link alive).
    if (keepAlive === 'offline' || (keepAlive === 'resent' && originKey(origin) === this.lastOriginKey)) {
      this.stats_.keepAlives++;
      return;
    }
    this.lastOriginKey = originKey(origin);
    const size = jpegSize(data);
    const frame: Frame = {
      data,
      seq: ++this.seq,
      time: now,
      size: data.length,
      width: size ? size.width : null,
      height: size ? size.height : null,
      headers,
      origin,
    };
    this.stats_.frames++;
    this.fpsMeter.mark(1, now);
    this._latest = frame;
    // A healthy stream clears the retry count only once it has proven itself,
    // see runLoop; the error shown to users is cleared at the first frame.
    this.stats_.lastError = null;
    this.emit('frame', frame);
  }
}
