/**
 * Raw mode: concatenated JPEGs with no multipart around them (a `.mjpg` saved
 * by curl, ffmpeg `-f mjpeg`). A frame starts at FF D8 and ends where the
 * JPEG segment walker (JpegScanner) finds its EOI, so an EXIF thumbnail's
 * FF D8 … FF D9 inside APP1 is never taken for a frame boundary.
 *
 * Bytes between frames are skipped and counted. A frame that turns out
 * malformed is dropped and the search for FF D8 resumes where it broke (or at
 * the new SOI that broke it). A frame over maxFrameBytes is still walked to
 * its end, but no longer buffered.
 */

import { JpegScanner, JPEG_INVALID, JPEG_NEED_MORE } from '../jpeg/jpeg-scanner';
import { ByteAccumulator } from './byte-accumulator';
import { copyOf } from './copy';
import { SOI } from './framing-bytes';
import type { ParseContext } from './parse-context';

const enum Raw {
  /** Looking for FF D8. */
  SEEK,
  /** Inside a JPEG, walking its segments. */
  FRAME,
}

export class RawFramer {
  private state: Raw = Raw.SEEK;
  private readonly scanner = new JpegScanner();
  private readonly acc: ByteAccumulator;
  /** Start of the current frame inside the buffer being parsed; -1 when it began in an earlier chunk (its bytes are in acc). */
  private frameHead = -1;
  /** The current frame went over maxFrameBytes: walk it to its end without keeping it. */
  private oversize = false;
  /** The last chunk ended in FF: with a D8 next, a frame starts across the edge. */
  private pendingFF = false;

  constructor(private readonly ctx: ParseContext) {
    this.acc = new ByteAccumulator(ctx.maxFrameBytes);
  }

  get bufferedBytes(): number {
    return this.acc.buf.length;
  }

  reset(): void {
    this.state = Raw.SEEK;
    this.scanner.reset();
    this.acc.release();
    this.frameHead = -1;
    this.oversize = false;
    this.pendingFF = false;
  }

  push(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      pos = this.state === Raw.SEEK ? this.seek(buf, pos) : this.walk(buf, pos);
    }
    // A frame still open at the end of the chunk must outlive it.
    if (this.state === Raw.FRAME && this.frameHead >= 0) {
      this.keep(buf, this.frameHead, buf.length);
      this.frameHead = -1;
    }
  }

  /** End of stream inside a frame: it is incomplete, drop it. */
  finish(): void {
    if (this.state === Raw.FRAME && !this.oversize) {
      this.ctx.stats.droppedParts++;
      this.ctx.stats.discardedBytes += this.acc.len;
    }
  }

  private seek(buf: Buffer, pos: number): number {
    const stats = this.ctx.stats;
    if (this.pendingFF) {
      this.pendingFF = false;
      if (buf[pos] === 0xd8) {
        stats.discardedBytes--; // that FF was counted as skipped
        this.startFrame();
        this.acc.append(SOI, 0, 2);
        return pos + 1;
      }
    }
    const j = buf.indexOf(SOI, pos);
    if (j < 0) {
      stats.discardedBytes += buf.length - pos;
      this.pendingFF = buf[buf.length - 1] === 0xff;
      return buf.length;
    }
    stats.discardedBytes += j - pos;
    this.startFrame();
    this.frameHead = j;
    return j + 2;
  }

  private startFrame(): void {
    this.state = Raw.FRAME;
    this.scanner.resetAfterSoi();
    this.acc.clear();
    this.frameHead = -1;
    this.oversize = false;
  }

  private walk(buf: Buffer, pos: number): number {
    const stats = this.ctx.stats;
    const from = this.frameHead >= 0 ? this.frameHead : pos;
    this.frameHead = -1;
    const r = this.scanner.feed(buf, pos, buf.length);
    if (r === JPEG_NEED_MORE) {
      this.keep(buf, from, buf.length);
      return buf.length;
    }
    if (r === JPEG_INVALID) {
      // Not a well-formed JPEG after all: drop what we have and resync.
      const at = this.scanner.errorIndex;
      const restartAtSoi = this.scanner.invalidAtSoi;
      stats.resyncs++;
      if (!this.oversize) stats.droppedParts++;
      const seen = (this.oversize ? 0 : this.acc.len) + (at - from) - (restartAtSoi ? 1 : 0);
      stats.discardedBytes += Math.max(0, seen);
      this.acc.clear();
      if (restartAtSoi) {
        // The offending byte is the D8 of a new image: start over from its FF.
        this.startFrame();
        this.acc.append(SOI, 0, 2);
        return at + 1;
      }
      this.state = Raw.SEEK;
      return at;
    }
    // r is the index just past EOI; the state moves on before the callback.
    this.state = Raw.SEEK;
    if (this.oversize) {
      stats.discardedBytes += r - from;
      return r;
    }
    const size = this.acc.len + (r - from);
    if (size > this.ctx.maxFrameBytes) {
      this.ctx.frameTooLarge(size);
      stats.discardedBytes += size;
      this.acc.clear();
      return r;
    }
    let data: Buffer;
    if (this.acc.len === 0) {
      data = copyOf(buf, from, r);
    } else {
      this.acc.append(buf, from, r);
      data = this.acc.take();
    }
    this.ctx.emit(data, {});
    return r;
  }

  /** Keep frame bytes that must outlive the current chunk; over the limit, stop keeping them. */
  private keep(buf: Buffer, start: number, end: number): void {
    if (this.oversize) {
      this.ctx.stats.discardedBytes += end - start;
      return;
    }
    const total = this.acc.len + (end - start);
    if (total > this.ctx.maxFrameBytes) {
      // Keep walking the structure so an inner FF D8 (EXIF thumbnail) is not
      // taken for the next frame, but stop buffering.
      this.oversize = true;
      this.ctx.frameTooLarge(null);
      this.ctx.stats.discardedBytes += total;
      this.acc.release();
      return;
    }
    this.acc.append(buf, start, end);
  }
}
