/**
 * Plays a `.mjpg` file: multipart (our recordings, `ffmpeg -f mpjpeg`, a saved
 * camera stream) or raw concatenated JPEGs (`ffmpeg -f mjpeg`, curl of a
 * snapshot loop), at the recorded pace or at a set fps, optionally looped.
 *
 * Why streamed with a small queue: recordings can be gigabytes. The file is
 * read in chunks; when a few parsed frames are waiting for their play time the
 * read stream is paused, so memory stays at about one chunk plus a few frames.
 *
 * Recorded pace comes from `X-Timestamp` part headers: ms since epoch as our
 * writer puts them, or seconds as axmjpeg-out and mjpg-streamer send them (a
 * curl capture of a relay), told apart by size. Files without them play at
 * DEFAULT_PLAYBACK_FPS.
 */
import * as fs from 'node:fs';
import { CameraError, ErrorCodes } from '../errors';
import { MjpegParser } from '../parser';
import { parseTimestampMs } from '../origin';
import { fileError } from './file-errors';
import { openRegularFile } from './safe-open';

/** Pace for files without timestamps when fps is 0 (recorded pace). */
export const DEFAULT_PLAYBACK_FPS = 10;
/** A longer pause in a recording (recording stopped, then resumed) plays as this. */
export const MAX_FRAME_GAP_MS = 5000;
/** Later than this behind schedule (slow consumer, busy event loop): re-anchor instead of bursting. */
export const MAX_LATE_MS = 1000;
/** Read stream pauses with this many parsed frames waiting, resumes below LOW_WATER_FRAMES. */
export const MAX_QUEUED_FRAMES = 4;
const LOW_WATER_FRAMES = 2;
export const DEFAULT_READ_CHUNK_BYTES = 64 * 1024;
export const MAX_PLAYBACK_FPS = 1000;

export interface PlayerFrame {
  data: Buffer;
  /** Part headers (lower-case names); empty for raw JPEG files. */
  headers: Record<string, string>;
  /** 1-based, counts on across loops. */
  seq: number;
}

export interface MjpegFilePlayerOptions {
  path: string;
  /** Frames per second; 0 or absent = recorded pace. */
  fps?: number;
  loop?: boolean;
  onFrame(frame: PlayerFrame): void;
  /**
   * Playback finished by itself: end of file (not looping), or a fatal error
   * that was reported through onError just before (then passed here too).
   * Not called after stop().
   */
  onEnd?(reason?: CameraError): void;
  /** Fatal (file cannot be read, no frames) or not (a frame dropped by the parser). */
  onError?(err: CameraError): void;
  maxFrameBytes?: number;
  readChunkBytes?: number;
}

interface Queued {
  data: Buffer;
  headers: Record<string, string>;
}

export class MjpegFilePlayer {
  private readonly opts: MjpegFilePlayerOptions;
  private readonly fps: number;
  private running = false;
  private stream: fs.ReadStream | null = null;
  /** Open-to-close of every file opened (loops open one per pass): stop() waits for all. */
  private readonly openStreams = new Set<Promise<void>>();
  /** Counts passes, so an open that completes after stop() or a newer pass closes its handle unused. */
  private pass = 0;
  private streamEnded = false;
  private parser: MjpegParser | null = null;
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private passFrames = 0;
  /** Wall-clock time the next head-of-queue frame is due; fixed once computed. */
  private headDue: number | null = null;
  private lastDue: number | null = null;
  private lastTs: number | null = null;
  private lastInterval: number | null = null;
  private pumping = false;
  private bytesReadDone = 0;

  constructor(opts: MjpegFilePlayerOptions) {
    const fps = opts.fps ?? 0;
    if (!Number.isFinite(fps) || fps < 0 || fps > MAX_PLAYBACK_FPS)
      throw new CameraError(ErrorCodes.INVALID_SETTING, `Playback fps must be 0 (recorded pace) to ${MAX_PLAYBACK_FPS}, got ${String(opts.fps)}`);
    if (typeof opts.path !== 'string' || opts.path.trim() === '')
      throw new CameraError(ErrorCodes.INVALID_SETTING, 'Playback file path is empty');
    this.opts = opts;
    this.fps = fps;
  }

  get playing(): boolean {
    return this.running;
  }

  /** File bytes read so far (all loop passes): shows the read stream is held back, not slurped. */
  get bytesRead(): number {
    return this.bytesReadDone + (this.stream?.bytesRead ?? 0);
  }

  /** Frames emitted so far. */
  get frames(): number {
    return this.seq;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.seq = 0;
    this.bytesReadDone = 0;
    this.lastDue = this.lastTs = this.lastInterval = null;
    this.openPass();
  }

  /** Stops playback; resolves once the file handle is closed. onEnd is not called. */
  stop(): Promise<void> {
    this.running = false;
    this.teardown();
    return Promise.all([...this.openStreams]).then(() => undefined);
  }

  private openPass(): void {
    this.passFrames = 0;
    this.streamEnded = false;
    this.stream = null; // the last pass's stream has ended; its bytes are counted in bytesReadDone
    this.queue = [];
    this.headDue = null;
    this.lastTs = null; // a new pass's timestamps restart; keep lastDue/lastInterval for the pace
    this.parser = new MjpegParser({
      boundary: undefined, // sniff: multipart or raw JPEG
      ...(this.opts.maxFrameBytes !== undefined ? { maxFrameBytes: this.opts.maxFrameBytes } : {}),
      onFrame: (f: { data: Buffer; headers: Record<string, string> }) => {
        this.queue.push({ data: f.data, headers: f.headers });
      },
      onError: (err: CameraError) => {
        if (this.running) this.opts.onError?.(err);
      },
    });
    const pass = ++this.pass;
    // Opened with O_NONBLOCK and checked to be a regular file: a FIFO would
    // otherwise block a threadpool thread forever (see safe-open.ts).
    const life: Promise<void> = openRegularFile(this.opts.path, 'read').then(
      (handle) => {
        if (!this.running || this.pass !== pass) return handle.close().catch(() => {});
        return this.attach(handle.createReadStream({ highWaterMark: this.opts.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES }));
      },
      (e) => {
        if (this.running && this.pass === pass) this.fatal(fileError('open recording', this.opts.path, e));
      },
    );
    this.openStreams.add(life);
    void life.then(() => this.openStreams.delete(life));
  }

  /** Feeds one pass's read stream to the parser; resolves when the stream (and its file handle) closed. */
  private attach(stream: fs.ReadStream): Promise<void> {
    this.stream = stream;
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    stream.on('data', (chunk) => {
      if (!this.running || this.stream !== stream) return;
      try {
        this.parser!.push(chunk as Buffer);
      } catch (e) {
        return this.fatal(fileError('read', this.opts.path, e));
      }
      if (this.queue.length >= MAX_QUEUED_FRAMES) stream.pause();
      this.pump();
    });
    stream.on('end', () => {
      if (!this.running || this.stream !== stream) return;
      try {
        this.parser!.end();
      } catch (e) {
        return this.fatal(fileError('read', this.opts.path, e));
      }
      this.streamEnded = true;
      this.pump();
    });
    stream.on('error', (e) => {
      if (!this.running || this.stream !== stream) return;
      this.fatal(fileError('read recording', this.opts.path, e));
    });
    return closed;
  }

  /** Emits every frame that is due, then waits for the next one. */
  private pump(): void {
    if (this.pumping) return; // onFrame may re-enter through a synchronous stop()/start()
    this.pumping = true;
    try {
      while (this.running && this.timer === null) {
        const head = this.queue[0];
        if (!head) {
          if (this.streamEnded) this.passEnded();
          else if (this.stream?.isPaused()) this.stream.resume();
          return;
        }
        const now = Date.now();
        if (this.headDue === null) this.headDue = this.dueTime(head, now);
        const wait = this.headDue - now;
        if (wait > 0) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.pump();
          }, wait);
          return;
        }
        this.queue.shift();
        this.lastDue = now - this.headDue > MAX_LATE_MS ? now : this.headDue;
        this.headDue = null;
        if (this.stream?.isPaused() && this.queue.length < LOW_WATER_FRAMES && !this.streamEnded) this.stream.resume();
        this.seq++;
        this.passFrames++;
        this.opts.onFrame({ data: head.data, headers: head.headers, seq: this.seq });
      }
    } finally {
      this.pumping = false;
    }
  }

  private dueTime(f: Queued, now: number): number {
    // Seconds (a capture of axmjpeg-out or mjpg-streamer) or ms (axmjpeg-record): one reader for both.
    const ts = parseTimestampMs(f.headers['x-timestamp']);
    const prevTs = this.lastTs;
    this.lastTs = Number.isFinite(ts) ? ts : null;
    if (this.lastDue === null) return now;
    let interval: number;
    if (this.fps > 0) interval = 1000 / this.fps;
    else if (!Number.isFinite(ts)) interval = 1000 / DEFAULT_PLAYBACK_FPS;
    // First frame of a new loop pass: keep the pace of the last one.
    else if (prevTs === null) interval = this.lastInterval ?? 1000 / DEFAULT_PLAYBACK_FPS;
    // Clock steps back or long pauses in the recording must not stall playback.
    else interval = Math.min(Math.max(ts - prevTs, 0), MAX_FRAME_GAP_MS);
    this.lastInterval = interval;
    return this.lastDue + interval;
  }

  private passEnded(): void {
    if (this.passFrames === 0) {
      const err = new CameraError(ErrorCodes.NOT_MJPEG, `No JPEG frames found in "${this.opts.path}"`, {
        hint: 'The file is empty or neither a multipart MJPEG recording nor concatenated JPEG images.',
      });
      return this.fatal(err);
    }
    if (this.opts.loop) {
      this.bytesReadDone += this.stream?.bytesRead ?? 0;
      this.openPass();
      return;
    }
    this.running = false;
    this.teardown();
    this.opts.onEnd?.();
  }

  private fatal(err: CameraError): void {
    this.running = false;
    this.teardown();
    this.opts.onError?.(err);
    this.opts.onEnd?.(err);
  }

  private teardown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.headDue = null;
    this.parser = null;
    const s = this.stream;
    this.bytesReadDone += s?.bytesRead ?? 0;
    this.stream = null;
    if (s && !s.destroyed) s.destroy();
  }
}
