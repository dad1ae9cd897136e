/**
 * Public shapes of the parser's input and output.
 */

import type { CameraError } from '../errors';

export interface MjpegFrame {
  /** Owned buffer holding exactly one JPEG (FF D8 … FF D9). */
  data: Buffer;
  /** The part's headers, names lower-cased; empty in raw mode. */
  headers: Record<string, string>;
}

export interface ParserStats {
  /** Frames emitted. */
  frames: number;
  /** Input bytes pushed. */
  bytes: number;
  /** Input bytes that ended up in no frame and were not framing (garbage, dropped parts). */
  discardedBytes: number;
  /** Parts or raw frames dropped: over a limit, not a complete JPEG, truncated. */
  droppedParts: number;
  /** Times the parser lost framing and searched its way back (wrong length, broken JPEG). */
  resyncs: number;
}

export interface MjpegParserOptions {
  /** A string: multipart with this boundary. null: raw JPEG concatenation. undefined: sniff. */
  boundary?: string | null;
  maxHeaderBytes?: number;
  maxFrameBytes?: number;
  /**
   * Called synchronously from push()/end(). If it throws, the exception leaves
   * push() and the rest of that chunk is not parsed; the parser's state is
   * updated before each call, so the next push() goes on without duplicates.
   */
  onFrame: (frame: MjpegFrame) => void;
  /** Non-fatal drops (ERR_FRAME_TOO_LARGE, ERR_HEADER_TOO_LARGE, ERR_BAD_BOUNDARY); parsing goes on. */
  onError?: (err: CameraError) => void;
}
