/**
 * "Has the camera arrived?" by polling `query=position` until it stops
 * changing. Bounded in time and in requests: at most one query in flight,
 * one per `pollMs`, and ERR_MOVE_TIMEOUT after `timeoutMs`.
 *
 * A move may not have started when the first answer comes, so "two equal
 * answers" alone would report arrival too early. Arrival is: at the target
 * (when known), or moved and then still for `stillPolls` answers, or never
 * moved at all for `settleMs` (already there, or a move the camera ignored).
 */
import { CameraError, ErrorCodes } from '../errors';
import type { PtzPosition } from './capabilities';

export interface WaitOptions {
  target?: PtzPosition;
  /** Default 30 000. */
  timeoutMs?: number;
  /** Default 250. */
  pollMs?: number;
  /** Equal answers in a row that count as still, after a move. Default 2. */
  stillPolls?: number;
  /** No change at all for this long: done. Default 1500. */
  settleMs?: number;
  signal?: AbortSignal;
}

export interface WaitResult {
  position: PtzPosition;
  moved: boolean;
  /** At the target (within tolerance), when one was known. */
  reached?: boolean;
  /** Time from the first query to the answer that ended the wait. */
  ms: number;
  polls: number;
}

const TOLERANCE: Required<PtzPosition> = { pan: 0.5, tilt: 0.5, zoom: 50 };
const SAME: Required<PtzPosition> = { pan: 0.01, tilt: 0.01, zoom: 0.5 };

function within(a: PtzPosition, b: PtzPosition, tol: Required<PtzPosition>): boolean {
  for (const k of ['pan', 'tilt', 'zoom'] as const) {
    const x = a[k];
    const y = b[k];
    if (x === undefined || y === undefined) continue;
    // Pan wraps at ±180 on 360° domes.
    const d = k === 'pan' ? Math.abs((((x - y) % 360) + 540) % 360 - 180) : Math.abs(x - y);
    if (d > tol[k]) return false;
  }
  return true;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new CameraError(ErrorCodes.ABORTED, 'PTZ wait cancelled'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new CameraError(ErrorCodes.ABORTED, 'PTZ wait cancelled'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function waitForStill(query: (signal?: AbortSignal) => Promise<PtzPosition>, opts: WaitOptions = {}): Promise<WaitResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const pollMs = opts.pollMs ?? 250;
  const stillPolls = opts.stillPolls ?? 2;
  const settleMs = opts.settleMs ?? 1500;
  const { target, signal } = opts;
  const start = Date.now();
  let first: PtzPosition | null = null;
  let prev: PtzPosition | null = null;
  let still = 0;
  let moved = false;
  let polls = 0;
  for (;;) {
    const pos = await query(signal);
    polls++;
    const ms = Date.now() - start;
    if (!first) first = pos;
    else if (!within(pos, first, SAME)) moved = true;
    still = prev && within(pos, prev, SAME) ? still + 1 : 0;
    prev = pos;
    const reached = target ? within(pos, target, TOLERANCE) : undefined;
    const result = (): WaitResult => ({ position: pos, moved, ...(reached !== undefined ? { reached } : {}), ms, polls });
    if (reached && still >= 1) return result();
    if (moved && still >= stillPolls) return result();
    if (!moved && ms >= settleMs && still >= stillPolls) return result();
    if (ms >= timeoutMs) {
      throw new CameraError(
        ErrorCodes.MOVE_TIMEOUT,
        `PTZ still moving after ${Math.round(timeoutMs / 100) / 10} s (last position pan ${pos.pan ?? '-'}, tilt ${pos.tilt ?? '-'}, zoom ${pos.zoom ?? '-'})`,
      );
    }
    await sleep(Math.min(pollMs, Math.max(0, timeoutMs - ms)), signal);
  }
}
