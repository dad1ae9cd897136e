/**
 * What the sniffer and both framers share: the limits, the counters and the
 * caller's callbacks. One object, so every stage counts into the same stats
 * and reports drops the same way.
 */

import { CameraError, ErrorCodes } from '../errors';
import type { MjpegFrame, ParserStats } from './types';

export class ParseContext {
  constructor(
    readonly stats: ParserStats,
    readonly maxHeaderBytes: number,
    readonly maxFrameBytes: number,
    private readonly onFrame: (frame: MjpegFrame) => void,
    readonly onError: (err: CameraError) => void,
  ) {}

  /**
   * Counted before the callback: if it throws, the stats already include the
   * frame, as the caller's state does (each stage moves on before emitting).
   */
  emit(data: Buffer, headers: Record<string, string>): void {
    this.stats.frames++;
    this.onFrame({ data, headers });
  }

  /** A frame over maxFrameBytes (`size` null when only "more than the limit" is known) was dropped. */
  frameTooLarge(size: number | null): void {
    this.stats.droppedParts++;
    const what = size === null ? `more than ${this.maxFrameBytes} bytes` : `${size} bytes`;
    this.onError(
      new CameraError(ErrorCodes.FRAME_TOO_LARGE, `MJPEG frame of ${what} exceeds the limit of ${this.maxFrameBytes} bytes; dropped`),
    );
  }
}
