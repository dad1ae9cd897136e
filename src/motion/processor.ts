/**
 * Frame intake for motion detection: rate limit, DC-only decode, detector,
 * counts. Processing is synchronous, so "newest frame only, never a queue"
 * reduces to dropping frames that arrive before the next processing slot.
 */

import { CameraError, ErrorCodes } from '../errors';
import { decodeDcGrey, isJpegDecodeError, JpegDecodeError, JpegErrorCodes } from '../jpeg/dc-decoder';
import { MotionDetector, MotionDetectorOptions, MotionStep, validateMotionOptions } from './detector';

export interface MotionProcessorOptions extends MotionDetectorOptions {
  /** Most frames per second to analyse. Default 5. */
  maxFps?: number;
  /** Report the score every N analysed frames; 0 = never. Default 0. */
  scoreEvery?: number;
}

export const MAX_ANALYSIS_FPS = 100;
const MAX_SCORE_EVERY = 1_000_000;

export type ProcessResult =
  | { kind: 'rateLimited' }
  | { kind: 'undecodable'; error: JpegDecodeError; firstOfCode: boolean }
  | { kind: 'processed'; step: MotionStep; sendScore: boolean };

export interface MotionStats {
  received: number;
  processed: number;
  rateLimited: number;
  undecodable: number;
}

/** Null when valid, else an ERR_INVALID_SETTING error naming the setting. */
export function validateProcessorOptions(o: MotionProcessorOptions): CameraError | null {
  const bad = (m: string) => new CameraError(ErrorCodes.INVALID_SETTING, m);
  if (o.maxFps !== undefined && !(Number.isFinite(o.maxFps) && o.maxFps > 0 && o.maxFps <= MAX_ANALYSIS_FPS)) {
    return bad(`Analysis rate must be above 0 and at most ${MAX_ANALYSIS_FPS} frames per second`);
  }
  if (o.scoreEvery !== undefined && !(Number.isInteger(o.scoreEvery) && o.scoreEvery >= 0 && o.scoreEvery <= MAX_SCORE_EVERY)) {
    return bad('Score every N frames must be a whole number, 0 for never');
  }
  return validateMotionOptions(o);
}

export class MotionProcessor {
  readonly detector: MotionDetector;
  readonly stats: MotionStats = { received: 0, processed: 0, rateLimited: 0, undecodable: 0 };
  private readonly intervalMs: number;
  private readonly scoreEvery: number;
  private nextDue = -Infinity;
  private readonly seenCodes = new Set<string>();

  /** Throws CameraError ERR_INVALID_SETTING for invalid options. */
  constructor(opts: MotionProcessorOptions = {}) {
    const err = validateProcessorOptions(opts);
    if (err) throw err;
    this.intervalMs = 1000 / (opts.maxFps ?? 5);
    this.scoreEvery = opts.scoreEvery ?? 0;
    this.detector = new MotionDetector(opts);
  }

  /** Takes one JPEG received at `now` (ms). Never throws for bad image data. */
  push(jpeg: Uint8Array, now: number): ProcessResult {
    this.stats.received++;
    if (now < this.nextDue) {
      this.stats.rateLimited++;
      return { kind: 'rateLimited' };
    }
    // Keep the average rate; a late frame may catch up by at most half an interval.
    const base = Number.isFinite(this.nextDue) ? this.nextDue : now;
    this.nextDue = Math.max(base + this.intervalMs, now + this.intervalMs / 2);
    let grey;
    try {
      grey = decodeDcGrey(jpeg);
    } catch (e) {
      const error = isJpegDecodeError(e) ? e : new JpegDecodeError(JpegErrorCodes.CORRUPT, String(e));
      this.stats.undecodable++;
      const firstOfCode = !this.seenCodes.has(error.code);
      this.seenCodes.add(error.code);
      // A skipped frame does not use up the slot: the next one may be decodable.
      this.nextDue = now;
      return { kind: 'undecodable', error, firstOfCode };
    }
    const step = this.detector.process(grey, now);
    this.stats.processed++;
    const sendScore = this.scoreEvery > 0 && this.stats.processed % this.scoreEvery === 0;
    return { kind: 'processed', step, sendScore };
  }
}
