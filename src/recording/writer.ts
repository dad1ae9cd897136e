/**
 * Appends frames to `.mjpg` files in multipart form, with rotation.
 *
 * Each frame is one part:
 *   --mjpgrecord\r\nContent-Type: image/jpeg\r\nContent-Length: N\r\n
 *   X-Timestamp: <ms epoch>\r\nX-Sequence: <n>\r\n\r\n<jpeg>\r\n
 * which our player reads back with timestamps, and `ffmpeg -f mpjpeg` reads as video.
 *
 * Why drop instead of queue: a camera does not slow down for a slow disk. If
 * the bytes waiting for the disk exceed a bound, new frames are dropped and
 * counted; memory stays bounded whatever the disk does.
 *
 * Every failure is reported through `onError` as CameraError(ERR_FILE); a write
 * stream's 'error' event is always handled, so a full disk never crashes the
 * process. After a failure the writer retries opening a file on a later frame.
 * A path that is not a regular file (FIFO, device, link) is refused with
 * ERR_NOT_REGULAR_FILE without ever blocking (see safe-open.ts).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { CameraError, ErrorCodes } from '../errors';
import { errnoCode, fileError } from './file-errors';
import { RecordingTarget, exactName, parseTarget, stampedName } from './naming';
import { openRegularFile } from './safe-open';
import { assertInside, realFolder } from './folder';

export const MJPG_BOUNDARY = 'mjpgrecord';
/** Bytes allowed to wait for the disk (all open and closing files together). */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** After a file failure, frames are dropped for this long before the next open attempt. */
export const DEFAULT_RETRY_MS = 5000;
/** Files started within the same second get -1, -2 …; beyond this we give up. */
const MAX_NAME_ATTEMPTS = 100;
const CRLF = Buffer.from('\r\n');

export interface RecordingFileInfo {
  filename: string;
  /** Frames written (queued for the disk) into this file. */
  frames: number;
  /** Bytes of the file, multipart headers included. */
  bytes: number;
  /** X-Timestamp of the first and last frame, ms since epoch. */
  start: number | null;
  end: number | null;
  /** Frames dropped while this file was current (disk too slow). */
  dropped: number;
  /** Set when the file ended because of a write error. */
  error?: string;
}

export interface MjpegWriterOptions {
  /** A file (`/data/door.mjpg`), a base (`/data/door`) or a folder (`/data/`). */
  path: string;
  /** Start a new file before one would exceed this size. 0 = no size rotation. */
  rotateBytes?: number;
  /** Start a new file after this long. 0 = no time rotation. */
  rotateMs?: number;
  /**
   * File names carry the start time (`<base>-YYYYMMDD-HHMMSS.mjpg`). Forced on
   * when rotating. Off: frames are appended to exactly `<base>.mjpg`.
   */
  timestamped?: boolean;
  /** Create missing folders. */
  createFolder?: boolean;
  /**
   * Every file stays inside this folder: a path or setPath() that leads out of
   * it (`..`, absolute, a symbolic link pointing out) is refused with
   * ERR_OUTSIDE_FOLDER. Unset: the folder of each target.
   */
  root?: string;
  maxBufferedBytes?: number;
  retryMs?: number;
  onError?(err: CameraError): void;
  /** A file was completed (rotation, endFile, setPath, close, or a write error). */
  onFileClosed?(info: RecordingFileInfo): void;
  /** A new file was opened. */
  onFileOpened?(filename: string): void;
  now?: () => number;
}

export interface WriterStats {
  /** Frames offered to write(). */
  offered: number;
  frames: number;
  bytes: number;
  dropped: number;
  files: number;
  /** Bytes waiting for the disk now. */
  buffered: number;
  current: RecordingFileInfo | null;
}

interface OpenFile {
  info: RecordingFileInfo;
  stream: fs.WriteStream | null;
  /** Parts that arrived while the file was being opened. */
  pending: Buffer[];
  pendingBytes: number;
  ending: boolean;
  failed: boolean;
  rotateTimer: NodeJS.Timeout | null;
  /** Settles when the file is closed (or failed to open) and reported: never rejects. */
  closed: Promise<void>;
  /** The previous file's `closed`: reports go out in the order the files were started. */
  prev: Promise<void>;
  markClosed(): void;
}

export function partHeader(length: number, timestamp: number, seq: number): Buffer {
  return Buffer.from(
    `--${MJPG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${length}\r\n` +
      `X-Timestamp: ${Math.round(timestamp)}\r\nX-Sequence: ${seq}\r\n\r\n`,
    'latin1',
  );
}

export function validateWriterOptions(o: Pick<MjpegWriterOptions, 'path' | 'rotateBytes' | 'rotateMs'>): CameraError | null {
  const bad = (m: string) => new CameraError(ErrorCodes.INVALID_SETTING, m);
  if (typeof o.path !== 'string' || o.path.trim() === '') return bad('Recording path is empty');
  if (o.path.includes('\0')) return bad('Recording path contains a NUL character');
  if (o.rotateBytes !== undefined && !(Number.isFinite(o.rotateBytes) && o.rotateBytes >= 0))
    return bad(`Rotation size must be 0 or more, got ${String(o.rotateBytes)}`);
  if (o.rotateMs !== undefined && !(Number.isFinite(o.rotateMs) && o.rotateMs >= 0))
    return bad(`Rotation time must be 0 or more, got ${String(o.rotateMs)}`);
  return null;
}

export class MjpegFileWriter {
  private readonly opts: MjpegWriterOptions;
  private readonly now: () => number;
  private readonly maxBuffered: number;
  private readonly retryMs: number;
  private target: RecordingTarget;
  private readonly root: string | null;
  private file: OpenFile | null = null;
  private readonly closing = new Set<OpenFile>();
  private closed = false;
  private retryAt = 0;
  /** code + path of the last error reported: a lasting problem is reported once, not per retry. */
  private lastReported = '';
  /** Opens run one after another, so same-second names (-1, -2 …) follow the recording order. */
  private openChain: Promise<void> = Promise.resolve();
  private lastClosed: Promise<void> = Promise.resolve();
  private counts = { offered: 0, frames: 0, bytes: 0, dropped: 0, files: 0 };

  constructor(opts: MjpegWriterOptions) {
    const err = validateWriterOptions(opts);
    if (err) throw err;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
    this.root = opts.root !== undefined ? path.resolve(opts.root) : null;
    this.target = this.checkedTarget(opts.path);
  }

  get stats(): WriterStats {
    return { ...this.counts, buffered: this.buffered(), current: this.file ? { ...this.file.info } : null };
  }

  /** The file frames currently go to, or null between files. */
  get filename(): string | null {
    return this.file?.info.filename ?? null;
  }

  /**
   * Appends one JPEG. Returns false when the frame was dropped (disk behind,
   * file error, or writer closed).
   */
  write(jpeg: Buffer, timestamp: number = this.now()): boolean {
    if (this.closed) return false;
    const seq = ++this.counts.offered;
    const header = partHeader(jpeg.length, timestamp, seq);
    const partBytes = header.length + jpeg.length + CRLF.length;

    let f = this.file;
    if (f && this.shouldRotate(f, partBytes, timestamp)) {
      this.endFile();
      f = null;
    }
    if (!f) {
      if (this.now() < this.retryAt) {
        this.counts.dropped++;
        return false;
      }
      f = this.startFile();
    }
    if (this.buffered() + partBytes > this.maxBuffered) {
      this.counts.dropped++;
      f.info.dropped++;
      return false;
    }
    if (f.stream) {
      f.stream.write(header);
      f.stream.write(jpeg);
      f.stream.write(CRLF);
    } else {
      f.pending.push(header, jpeg, CRLF);
      f.pendingBytes += partBytes;
    }
    f.info.frames++;
    f.info.bytes += partBytes;
    f.info.start ??= timestamp;
    f.info.end = timestamp;
    this.counts.frames++;
    this.counts.bytes += partBytes;
    return true;
  }

  /** Completes the current file; the next frame starts a new one. */
  endFile(): void {
    const f = this.file;
    if (!f) return;
    this.file = null;
    this.finish(f);
  }

  /** Completes the current file and sends later frames to another path. */
  setPath(p: string): void {
    const err = validateWriterOptions({ path: p });
    if (err) throw err;
    const target = this.checkedTarget(p);
    this.endFile();
    this.target = target;
    this.retryAt = 0;
  }

  private checkedTarget(p: string): RecordingTarget {
    const t = parseTarget(p);
    if (this.root) assertInside(this.root, t.dir, `"${exactName(t)}"`);
    return t;
  }

  /** Completes the current file and waits until every file handle is closed. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.endFile();
    while (this.closing.size > 0) await Promise.all([...this.closing].map((f) => f.closed));
  }

  private shouldRotate(f: OpenFile, partBytes: number, timestamp: number): boolean {
    const { rotateBytes, rotateMs } = this.opts;
    if (rotateBytes && f.info.frames > 0 && f.info.bytes + partBytes > rotateBytes) return true;
    if (rotateMs && f.info.start !== null && timestamp - f.info.start >= rotateMs) return true;
    return false;
  }

  private buffered(): number {
    let n = 0;
    for (const f of this.closing) n += f.pendingBytes + (f.stream?.writableLength ?? 0);
    if (this.file) n += this.file.pendingBytes + (this.file.stream?.writableLength ?? 0);
    return n;
  }

  private startFile(): OpenFile {
    let markClosed!: () => void;
    const closed = new Promise<void>((r) => (markClosed = r));
    const f: OpenFile = {
      info: { filename: '', frames: 0, bytes: 0, start: null, end: null, dropped: 0 },
      stream: null,
      pending: [],
      pendingBytes: 0,
      ending: false,
      failed: false,
      rotateTimer: null,
      closed,
      markClosed,
      prev: this.lastClosed,
    };
    this.lastClosed = closed;
    this.file = f;
    this.closing.add(f); // tracked from the start: close() must wait for an open in flight
    if (this.opts.rotateMs) {
      // Ends the file on time even when frames stop arriving, so its msg is not held back.
      f.rotateTimer = setTimeout(() => {
        if (this.file === f) this.endFile();
      }, this.opts.rotateMs);
    }
    // Target and start time are taken now: a setPath() before the open runs is for the next file.
    const target = this.target;
    const startedAt = this.now();
    this.openChain = this.openChain.then(() => this.open(f, target, startedAt));
    return f;
  }

  private async open(f: OpenFile, t: RecordingTarget, startedAt: number): Promise<void> {
    const stamped = this.opts.timestamped || !!this.opts.rotateBytes || !!this.opts.rotateMs;
    let handle: fsp.FileHandle | null = null;
    let name = '';
    try {
      // Opened in the folder's real path, checked to be inside the root; reported by the name the user gave.
      const real: RecordingTarget = { ...t, dir: await realFolder(this.root ?? t.dir, t.dir, !!this.opts.createFolder) };
      for (let attempt = 0; !handle; attempt++) {
        name = stamped ? stampedName(t, startedAt, attempt) : exactName(t);
        const realName = stamped ? stampedName(real, startedAt, attempt) : exactName(real);
        try {
          // 'create' (O_EXCL) for stamped names: never overwrite an earlier recording.
          handle = await openRegularFile(realName, stamped ? 'create' : 'append');
        } catch (e) {
          if (!stamped || errnoCode(e) !== 'EEXIST' || attempt + 1 >= MAX_NAME_ATTEMPTS) throw e;
        }
      }
    } catch (e) {
      // Nothing reached the disk: what was queued for this file counts as dropped.
      this.counts.frames -= f.info.frames;
      this.counts.bytes -= f.info.bytes;
      this.counts.dropped += f.info.frames;
      this.fail(f, fileError('open recording file', name || exactName(t), e), t.dir);
      void f.prev.then(() => {
        this.closing.delete(f);
        f.markClosed();
      });
      return;
    }
    f.info.filename = name;
    this.counts.files++;
    this.lastReported = '';
    const stream = handle.createWriteStream();
    f.stream = stream;
    stream.on('error', (e) => this.fail(f, fileError('write recording file', name, e), t.dir));
    stream.on('close', () => {
      void f.prev.then(() => {
        this.closing.delete(f);
        if (f.info.frames > 0 || f.failed) this.opts.onFileClosed?.({ ...f.info });
        f.markClosed();
      });
    });
    this.opts.onFileOpened?.(name);
    for (const b of f.pending) stream.write(b);
    f.pending = [];
    f.pendingBytes = 0;
    if (f.ending || f.failed) stream.end();
  }

  /** Stops using a file after an error; frames are dropped until retryMs passed. */
  private fail(f: OpenFile, err: CameraError, dir: string): void {
    if (f.failed) return;
    f.failed = true;
    f.info.error = err.message;
    f.pending = [];
    f.pendingBytes = 0;
    if (f.rotateTimer) clearTimeout(f.rotateTimer);
    if (this.file === f) {
      this.file = null;
      this.retryAt = this.now() + this.retryMs;
    }
    // A failed write stream destroys itself (autoDestroy), which closes the handle.
    const key = `${errnoCode(err.cause) ?? err.message}:${dir}`;
    if (key !== this.lastReported) {
      this.lastReported = key;
      this.opts.onError?.(err);
    }
  }

  private finish(f: OpenFile): void {
    f.ending = true;
    if (f.rotateTimer) clearTimeout(f.rotateTimer);
    f.rotateTimer = null;
    // Still opening: open() ends it once the pending parts are written.
    if (f.stream && !f.failed) f.stream.end();
  }
}
