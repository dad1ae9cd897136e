/**
 * Background-subtraction motion detector on the 1/8-scale grey image of the
 * DC-only decoder (one value per 8x8 block).
 *
 * Per frame: optional 3x3 blur (camera noise and block edges), difference to a
 * running-average background, minus the mean difference (a cloud or auto
 * exposure shifts every block alike), then the share of blocks whose
 * difference exceeds a threshold. Motion starts after N consecutive frames
 * above the area threshold and stops after a cooldown without any. When most
 * of the picture changes at once (lights, IR cut filter) the background is
 * relearnt instead of reporting motion.
 */

import { CameraError, ErrorCodes } from '../errors';
import type { GreyImage } from '../jpeg/dc-decoder';
import { maskBlocks, MotionMask } from './mask';

export interface MotionDetectorOptions {
  /** 3x3 box blur before comparing. Default true. */
  blur?: boolean;
  /** Background learning rate per processed frame, 0 < alpha <= 1. Default 0.02. */
  alpha?: number;
  /** Grey-level difference (after brightness compensation) that marks a block changed. Default 20. */
  pixelThreshold?: number;
  /** Percent of watched blocks that must change for a motion frame. Default 0.2. */
  minAreaPercent?: number;
  /** Percent of watched blocks changing at once that means "new scene": relearn. Default 60. */
  relearnPercent?: number;
  /** Consecutive motion frames before motion starts. Default 2. */
  startFrames?: number;
  /** Time without motion frames before motion stops, ms. Default 5000. */
  cooldownMs?: number;
  /** Blocks to ignore. */
  mask?: MotionMask | null;
}

export const MOTION_DEFAULTS = {
  blur: true,
  alpha: 0.02,
  pixelThreshold: 20,
  minAreaPercent: 0.2,
  relearnPercent: 60,
  startFrames: 2,
  cooldownMs: 5000,
} as const;

/** Upper bounds that keep a typo from meaning "never". */
const MAX_START_FRAMES = 1000;
const MAX_COOLDOWN_MS = 24 * 3600 * 1000;

export interface MotionStep {
  /** Percent (0..100) of watched blocks that changed. */
  score: number;
  changedBlocks: number;
  watchedBlocks: number;
  /** Mean grey difference to the background that was compensated. */
  brightnessShift: number;
  /** Motion state after this frame. */
  motion: boolean;
  /** Set on the frame where motion starts or stops. */
  event: 'start' | 'stop' | null;
  /** Most of the picture changed: background replaced, not counted as motion. */
  relearned: boolean;
  /** First frame (or a new frame size): nothing to compare with yet. */
  learning: boolean;
}

/** Null when valid, else an ERR_INVALID_SETTING error naming the setting. */
export function validateMotionOptions(o: MotionDetectorOptions): CameraError | null {
  const bad = (m: string) => new CameraError(ErrorCodes.INVALID_SETTING, m);
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (o.alpha !== undefined && !(num(o.alpha) && o.alpha > 0 && o.alpha <= 1)) return bad('Learning rate must be above 0 and at most 1');
  if (o.pixelThreshold !== undefined && !(num(o.pixelThreshold) && o.pixelThreshold >= 1 && o.pixelThreshold <= 255)) {
    return bad('Pixel threshold must be 1 to 255 grey levels');
  }
  if (o.minAreaPercent !== undefined && !(num(o.minAreaPercent) && o.minAreaPercent >= 0 && o.minAreaPercent <= 100)) {
    return bad('Changed area must be 0 to 100 percent');
  }
  if (o.relearnPercent !== undefined && !(num(o.relearnPercent) && o.relearnPercent > 0 && o.relearnPercent <= 100)) {
    return bad('Relearn area must be above 0 and at most 100 percent');
  }
  if (o.minAreaPercent !== undefined && o.relearnPercent !== undefined && o.minAreaPercent >= o.relearnPercent) {
    return bad('Changed area must be below the relearn area');
  }
  if (o.startFrames !== undefined && !(Number.isInteger(o.startFrames) && o.startFrames >= 1 && o.startFrames <= MAX_START_FRAMES)) {
    return bad(`Frames to start must be a whole number from 1 to ${MAX_START_FRAMES}`);
  }
  if (o.cooldownMs !== undefined && !(num(o.cooldownMs) && o.cooldownMs >= 0 && o.cooldownMs <= MAX_COOLDOWN_MS)) {
    return bad('Cooldown must be 0 to 86400 seconds');
  }
  return null;
}

export class MotionDetector {
  private readonly o: Required<Omit<MotionDetectorOptions, 'mask'>>;
  private readonly mask: MotionMask | null;
  private bg: Float32Array | null = null;
  private cur: Float32Array = new Float32Array(0);
  private ignored: Uint8Array = new Uint8Array(0);
  private watched = 0;
  private w = 0;
  private h = 0;
  private consecutive = 0;
  private lastMotionAt = 0;
  private active = false;

  /** Throws CameraError ERR_INVALID_SETTING for invalid options. */
  constructor(opts: MotionDetectorOptions = {}) {
    const err = validateMotionOptions(opts);
    if (err) throw err;
    const pick = <K extends keyof typeof MOTION_DEFAULTS>(k: K) => (opts[k] ?? MOTION_DEFAULTS[k]) as (typeof MOTION_DEFAULTS)[K];
    this.o = {
      blur: pick('blur'),
      alpha: pick('alpha'),
      pixelThreshold: pick('pixelThreshold'),
      minAreaPercent: pick('minAreaPercent'),
      relearnPercent: pick('relearnPercent'),
      startFrames: pick('startFrames'),
      cooldownMs: pick('cooldownMs'),
    } as Required<Omit<MotionDetectorOptions, 'mask'>>;
    this.mask = opts.mask ?? null;
  }

  get motion(): boolean {
    return this.active;
  }

  /** Forgets the background (next frame is learnt) and ends motion without an event. */
  reset(): void {
    this.bg = null;
    this.consecutive = 0;
    this.active = false;
  }

  /** Compares a frame taken at `now` (ms) with the background and updates both. */
  process(grey: GreyImage, now: number): MotionStep {
    const { width: w, height: h } = grey;
    if (this.bg === null || w !== this.w || h !== this.h) {
      this.resize(w, h);
      this.smooth(grey);
      this.bg = Float32Array.from(this.cur);
      this.consecutive = 0;
      return this.step(0, 0, 0, false, true, this.stopIfCooled(now));
    }
    this.smooth(grey);
    const bg = this.bg;
    const cur = this.cur;
    const ignored = this.ignored;
    const n = w * h;

    let sum = 0;
    for (let i = 0; i < n; i++) if (ignored[i] === 0) sum += cur[i]! - bg[i]!;
    const shift = this.watched > 0 ? sum / this.watched : 0;

    const thr = this.o.pixelThreshold;
    let changed = 0;
    for (let i = 0; i < n; i++) {
      if (ignored[i] !== 0) continue;
      const d = cur[i]! - bg[i]! - shift;
      if (d > thr || d < -thr) changed++;
    }
    const score = this.watched > 0 ? (changed * 100) / this.watched : 0;

    if (score > this.o.relearnPercent) {
      bg.set(cur);
      this.consecutive = 0;
      return this.step(score, changed, shift, true, false, this.stopIfCooled(now));
    }

    const a = this.o.alpha;
    for (let i = 0; i < n; i++) bg[i] = bg[i]! + a * (cur[i]! - bg[i]!);

    let event: 'start' | 'stop' | null = null;
    if (changed > 0 && score >= this.o.minAreaPercent) {
      this.consecutive++;
      if (this.consecutive >= this.o.startFrames) {
        this.lastMotionAt = now;
        if (!this.active) {
          this.active = true;
          event = 'start';
        }
      } else if (this.active) {
        this.lastMotionAt = now;
      }
    } else {
      this.consecutive = 0;
      event = this.stopIfCooled(now);
    }
    return this.step(score, changed, shift, false, false, event);
  }

  /**
   * Ends motion when the cooldown has passed at `now` without motion frames;
   * for a timer when frames stop arriving. Returns 'stop' when it ended.
   */
  checkCooldown(now: number): 'stop' | null {
    return this.stopIfCooled(now);
  }

  /** When motion would stop if no motion frame arrives before then (ms), or null. */
  get stopDueAt(): number | null {
    return this.active ? this.lastMotionAt + this.o.cooldownMs : null;
  }

  private stopIfCooled(now: number): 'stop' | null {
    if (this.active && now - this.lastMotionAt >= this.o.cooldownMs) {
      this.active = false;
      return 'stop';
    }
    return null;
  }

  private step(score: number, changed: number, shift: number, relearned: boolean, learning: boolean, event: 'start' | 'stop' | null): MotionStep {
    return {
      score: Math.round(score * 1000) / 1000,
      changedBlocks: changed,
      watchedBlocks: this.watched,
      brightnessShift: Math.round(shift * 10) / 10,
      motion: this.active,
      event,
      relearned,
      learning,
    };
  }

  private resize(w: number, h: number): void {
    this.w = w;
    this.h = h;
    this.cur = new Float32Array(w * h);
    this.ignored = this.mask ? maskBlocks(this.mask, w, h) : new Uint8Array(w * h);
    let watched = 0;
    for (let i = 0; i < w * h; i++) if (this.ignored[i] === 0) watched++;
    this.watched = watched;
  }

  /** Copies the grey image into `cur`, box-blurred 3x3 (edges clamped) when enabled. */
  private smooth(grey: GreyImage): void {
    const { width: w, height: h, data } = grey;
    const cur = this.cur;
    if (!this.o.blur) {
      for (let i = 0; i < w * h; i++) cur[i] = data[i]!;
      return;
    }
    for (let y = 0; y < h; y++) {
      const y0 = (y > 0 ? y - 1 : 0) * w;
      const y1 = y * w;
      const y2 = (y < h - 1 ? y + 1 : y) * w;
      for (let x = 0; x < w; x++) {
        const xl = x > 0 ? x - 1 : 0;
        const xr = x < w - 1 ? x + 1 : x;
        cur[y1 + x] =
          (data[y0 + xl]! + data[y0 + x]! + data[y0 + xr]! + data[y1 + xl]! + data[y1 + x]! + data[y1 + xr]! + data[y2 + xl]! + data[y2 + x]! + data[y2 + xr]!) /
          9;
      }
    }
  }
}
