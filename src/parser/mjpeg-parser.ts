/**
 * Streaming MJPEG parser: Buffers in, whole JPEG frames out.
 *
 * Three modes, each a framer of its own:
 *  - multipart (`boundary` a string, MultipartFramer): `multipart/x-mixed-replace`
 *    bodies as sent by Axis and most MJPEG servers;
 *  - raw (`boundary` null, RawFramer): concatenated JPEGs (a `.mjpg` file saved
 *    by curl, ffmpeg `-f mjpeg`), framed by walking the JPEG segment structure;
 *  - sniff (`boundary` undefined, StreamSniffer): decided from the first bytes,
 *    then handed to one of the two.
 *
 * No wrong or truncated frame is ever emitted: every frame starts with FF D8
 * and ends with FF D9; anything else is dropped and counted. Memory is bounded
 * by maxFrameBytes + maxHeaderBytes + a few small buffers, whatever the input
 * (see limits.ts).
 */

import { CameraError, ErrorCodes } from '../errors';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_HEADER_BYTES, limitOption } from './limits';
import { MultipartFramer } from './multipart-framer';
import { ParseContext } from './parse-context';
import { RawFramer } from './raw-framer';
import { Sniffed, StreamSniffer } from './sniff';
import type { MjpegParserOptions, ParserStats } from './types';

export { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_HEADER_BYTES, MAX_DELIMITER_PADDING } from './limits';
export type { MjpegFrame, MjpegParserOptions, ParserStats } from './types';

const enum Mode {
  SNIFF,
  MULTIPART,
  RAW,
}

export class MjpegParser {
  readonly stats: ParserStats = { frames: 0, bytes: 0, discardedBytes: 0, droppedParts: 0, resyncs: 0 };
  readonly maxHeaderBytes: number;
  readonly maxFrameBytes: number;

  /** What reset() without argument goes back to. */
  private configured: string | null | undefined;
  private current: Mode = Mode.SNIFF;
  private readonly sniffer: StreamSniffer;
  private readonly multipart: MultipartFramer;
  private readonly raw: RawFramer;

  constructor(opts: MjpegParserOptions) {
    if (typeof opts?.onFrame !== 'function') {
      throw new CameraError(ErrorCodes.INVALID_SETTING, 'MjpegParser needs an onFrame callback');
    }
    this.maxHeaderBytes = limitOption(opts.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES, 'maxHeaderBytes');
    this.maxFrameBytes = limitOption(opts.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 'maxFrameBytes');
    const ctx = new ParseContext(this.stats, this.maxHeaderBytes, this.maxFrameBytes, opts.onFrame, opts.onError ?? (() => {}));
    this.sniffer = new StreamSniffer(ctx);
    this.multipart = new MultipartFramer(ctx);
    this.raw = new RawFramer(ctx);
    this.configured = opts.boundary;
    this.resetState();
  }

  /** 'multipart' | 'raw' once known; 'sniff' while still deciding. */
  get mode(): 'multipart' | 'raw' | 'sniff' {
    return this.current === Mode.SNIFF ? 'sniff' : this.current === Mode.RAW ? 'raw' : 'multipart';
  }

  /** The boundary in use (without leading `--`), or null in raw/sniff mode. */
  get boundary(): string | null {
    return this.current === Mode.MULTIPART ? this.multipart.boundary : null;
  }

  /**
   * Bytes the parser holds right now (partial frame, header line, sniffed
   * bytes). Bounded by about maxFrameBytes + maxHeaderBytes whatever the input.
   */
  get bufferedBytes(): number {
    return this.multipart.bufferedBytes + this.raw.bufferedBytes + this.sniffer.bufferedBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.stats.bytes += chunk.length;
    switch (this.current) {
      case Mode.MULTIPART:
        this.multipart.push(chunk);
        break;
      case Mode.RAW:
        this.raw.push(chunk);
        break;
      case Mode.SNIFF:
        this.sniff(chunk);
        break;
    }
  }

  /**
   * End of stream: a final part without closing delimiter is emitted only if
   * it is a complete JPEG. The parser is then ready for a new stream.
   */
  end(): void {
    switch (this.current) {
      case Mode.MULTIPART:
        this.multipart.finish();
        break;
      case Mode.RAW:
        this.raw.finish();
        break;
      case Mode.SNIFF:
        this.sniffer.finish();
        break;
    }
    this.resetState();
  }

  /**
   * Forget any partial part and start over (e.g. on reconnect). Stats are kept.
   * Passing a boundary (string, or null for raw, or undefined for sniff)
   * switches the mode for the next stream.
   */
  reset(...args: [boundary?: string | null]): void {
    if (args.length > 0) this.configured = args[0];
    this.resetState();
  }

  private resetState(): void {
    this.sniffer.reset();
    this.raw.reset();
    this.multipart.release();
    const b = this.configured;
    if (typeof b === 'string') {
      this.multipart.reset(b); // throws ERR_BAD_BOUNDARY for an unusable boundary
      this.current = Mode.MULTIPART;
    } else {
      this.current = b === null ? Mode.RAW : Mode.SNIFF;
    }
  }

  private sniff(chunk: Buffer): void {
    const r = this.sniffer.feed(chunk, 0);
    if (r === Sniffed.UNDECIDED) return;
    if (r === Sniffed.MULTIPART) {
      // The sniffer only reports boundaries the framer accepts.
      this.multipart.reset(this.sniffer.boundary, true);
      this.current = Mode.MULTIPART;
      const rest = this.sniffer.take();
      if (rest.length > 0) this.multipart.push(rest);
    } else {
      this.current = Mode.RAW;
      const rest = this.sniffer.take();
      if (rest.length > 0) this.raw.push(rest);
    }
  }
}
