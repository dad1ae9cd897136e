/**
 * One MJPEG viewer: paces frames with a timer, writes VAPIX multipart parts,
 * drops frames while the socket is backed up (as a camera does), and applies
 * the fault switches to what it writes.
 */
import { randomBytes } from 'node:crypto';
import { frameCache } from './frame-cache';
import type { FrameSpec } from './render';

export type Fault =
  /** Stop writing but keep the socket open. */
  | { kind: 'stall'; afterFrames?: number }
  /** Destroy the socket in the middle of a frame's bytes. */
  | { kind: 'drop-mid-frame'; afterFrames?: number }
  /** Content-Length off by WRONG_LENGTH_DELTA on every Nth part (default every part). */
  | { kind: 'wrong-length'; every?: number }
  /** Parts without Content-Length. */
  | { kind: 'no-length' }
  /** Random bytes before the delimiter of every Nth part (default every part). */
  | { kind: 'garbage'; every?: number }
  /** Answer every request with this status. */
  | { kind: 'status'; status: 401 | 403 | 404 | 500 | 503 }
  /** 200 text/html login page instead of a stream or image. */
  | { kind: 'html' }
  /** Refuse connections for `ms`, then listen again on the same port with a new boot id and nonces. */
  | { kind: 'reboot'; ms: number }
  /** Throttle writes to about this many bytes per second. */
  | { kind: 'slow'; bytesPerSec: number };

export const BOUNDARY = 'myboundary';
export const MJPEG_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${BOUNDARY}`;
/** wrong-length: how far the announced length is off (alternately too long and too short). */
export const WRONG_LENGTH_DELTA = 13;
/** garbage: at most this many random bytes before a part. */
export const MAX_GARBAGE_BYTES = 64;
/** slow: how often the throttle releases bytes. */
const SLOW_TICK_MS = 50;
const CRLF = Buffer.from('\r\n');
/** Comment prefix in every frame sent: `axis-sim seq=N t=<ms epoch> cam=C`. */
export const FRAME_COMMENT_PREFIX = 'axis-sim';

/** What a stream writes to: a raw socket (close framing) or a chunked ServerResponse. */
export interface Sink {
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean;
  end(): void;
  destroy(): void;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
}

/** Adds a JPEG COM segment after SOI: per-frame sequence and time without re-encoding. */
export function stampJpeg(jpeg: Buffer, comment: string): Buffer {
  const text = Buffer.from(comment, 'latin1');
  const seg = Buffer.alloc(4);
  seg[0] = 0xff;
  seg[1] = 0xfe;
  seg.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), seg, text, jpeg.subarray(2)]);
}

export function partHeader(length: number | null): Buffer {
  const len = length === null ? '' : `Content-Length: ${length}\r\n`;
  return Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\n${len}\r\n`, 'latin1');
}

export interface StreamOptions {
  sink: Sink;
  /** A function: asked for every frame (the picture may change while streaming). */
  spec: FrameSpec | (() => FrameSpec);
  fps: number;
  /** 0 = no limit. */
  maxFrames: number;
  /** 0 = no limit. */
  durationMs: number;
  fault: () => Fault | null;
  onFrame: () => void;
  onSkip: () => void;
  /** Called once when the stream is over, for whatever reason. */
  onDone: () => void;
}

export class MjpegStream {
  /** Frames fully handed to the socket. */
  seq = 0;
  /** Frames not sent because the socket (or throttle) was still busy. */
  skipped = 0;
  private done = false;
  private timer: NodeJS.Timeout | null = null;
  private durationTimer: NodeJS.Timeout | null = null;
  private throttleTimer: NodeJS.Timeout | null = null;
  private nextAt = 0;
  private readonly interval: number;
  private waitingDrain = false;
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  private allowance = 0;
  private faultSeen: Fault | null = null;
  private seqAtFault = 0;
  private wrongParts = 0;
  /** The last frame sent: repeated while a changed picture's first frame is still being encoded. */
  private lastRaw: Buffer | undefined;

  constructor(private readonly o: StreamOptions) {
    this.interval = 1000 / o.fps;
  }

  start(): void {
    this.nextAt = Date.now();
    if (this.o.durationMs > 0) this.durationTimer = setTimeout(() => this.finish(), this.o.durationMs);
    this.tick();
  }

  /** Ends the stream cleanly (close-delimited: the socket ends). */
  finish(): void {
    if (this.done) return;
    this.flushBacklog();
    this.o.sink.end();
    this.stop();
  }

  /** Stops all timers; the caller owns the socket. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    for (const t of [this.timer, this.durationTimer, this.throttleTimer]) if (t) clearTimeout(t);
    this.timer = this.durationTimer = this.throttleTimer = null;
    this.o.sink.removeListener('drain', this.onDrain);
    this.backlog = [];
    this.backlogBytes = 0;
    this.o.onDone();
  }

  private readonly tick = (): void => {
    this.timer = null;
    if (this.done) return;
    const now = Date.now();
    this.nextAt += this.interval;
    // Behind schedule (busy loop, slow encode): skip ahead, never burst.
    if (this.nextAt < now) this.nextAt = now + this.interval;
    this.timer = setTimeout(this.tick, this.nextAt - now);
    this.sendFrame();
  };

  /** The current fault, with the frame count at which this stream first saw it. */
  private fault(): Fault | null {
    const f = this.o.fault();
    if (f !== this.faultSeen) {
      this.faultSeen = f;
      this.seqAtFault = this.seq;
    }
    return f;
  }

  private sendFrame(): void {
    const fault = this.fault();
    const sinceFault = this.seq - this.seqAtFault;
    if (fault?.kind === 'stall' && sinceFault >= (fault.afterFrames ?? 0)) return;
    if (this.waitingDrain || this.backlogBytes > 0) {
      this.skipped++;
      this.o.onSkip();
      return;
    }
    const spec = typeof this.o.spec === 'function' ? this.o.spec() : this.o.spec;
    const raw = frameCache.frame(spec, this.seq) ?? this.lastRaw;
    if (!raw) return; // first frames of a new resolution are still being encoded
    this.lastRaw = raw;
    const jpeg = stampJpeg(raw, `${FRAME_COMMENT_PREFIX} seq=${this.seq + 1} t=${Date.now()} cam=${spec.camera}`);
    const partNo = this.seq + 1;

    let length: number | null = jpeg.length;
    const pieces: Buffer[] = [];
    if (fault?.kind === 'garbage' && partNo % Math.max(1, fault.every ?? 1) === 0) {
      pieces.push(randomBytes(1 + Math.floor(Math.random() * MAX_GARBAGE_BYTES)));
    }
    if (fault?.kind === 'no-length') length = null;
    if (fault?.kind === 'wrong-length' && partNo % Math.max(1, fault.every ?? 1) === 0) {
      length = jpeg.length + (this.wrongParts++ % 2 === 0 ? WRONG_LENGTH_DELTA : -WRONG_LENGTH_DELTA);
    }
    pieces.push(partHeader(length));

    if (fault?.kind === 'drop-mid-frame' && sinceFault >= (fault.afterFrames ?? 0)) {
      pieces.push(jpeg.subarray(0, jpeg.length >> 1));
      const sink = this.o.sink;
      this.stop();
      // Destroy only once the half frame is handed to the kernel, so the
      // client really sees a truncated frame and not just a closed socket.
      sink.write(Buffer.concat(pieces), () => sink.destroy());
      return;
    }
    pieces.push(jpeg, CRLF);
    this.send(Buffer.concat(pieces));
    this.seq++;
    this.o.onFrame();
    if (this.o.maxFrames > 0 && this.seq >= this.o.maxFrames) this.finish();
  }

  private send(buf: Buffer): void {
    const f = this.fault();
    if (f?.kind === 'slow') {
      this.backlog.push(buf);
      this.backlogBytes += buf.length;
      if (!this.throttleTimer) this.throttleTimer = setTimeout(this.throttle, SLOW_TICK_MS);
      return;
    }
    this.write(buf);
  }

  private write(buf: Buffer): void {
    if (this.o.sink.write(buf) || this.waitingDrain) return;
    this.waitingDrain = true;
    this.o.sink.once('drain', this.onDrain);
  }

  private readonly onDrain = (): void => {
    this.waitingDrain = false;
  };

  private readonly throttle = (): void => {
    this.throttleTimer = null;
    if (this.done) return;
    const f = this.fault();
    if (f?.kind !== 'slow') {
      this.flushBacklog();
      return;
    }
    this.allowance += (f.bytesPerSec * SLOW_TICK_MS) / 1000;
    while (this.backlog.length > 0 && this.allowance >= 1) {
      const head = this.backlog[0]!;
      const n = Math.min(head.length, Math.floor(this.allowance));
      this.write(head.subarray(0, n));
      this.allowance -= n;
      this.backlogBytes -= n;
      if (n === head.length) this.backlog.shift();
      else this.backlog[0] = head.subarray(n);
    }
    if (this.backlog.length > 0) this.throttleTimer = setTimeout(this.throttle, SLOW_TICK_MS);
    else this.allowance = 0;
  };

  private flushBacklog(): void {
    const pending = this.backlog;
    this.backlog = [];
    this.backlogBytes = 0;
    for (const b of pending) this.write(b);
  }
}
