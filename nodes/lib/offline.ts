/**
 * When an axmjpeg-out calls its source down, and why (see source-state.ts).
 *
 * With a known source (the axmjpeg-in named by the frames' msg.frame.source):
 * down when that node says its session is not streaming, for `offlineAfterMs`
 * counted from the later of its going down and the last frame. A source that
 * is up is never called down, however slowly frames come (a throttle, a
 * motion gate). Without one (frames from a snapshot, a function, a file; or
 * none yet): down when no frame came for `offlineAfterMs`.
 */
import type { SourceState } from './source-state';

export interface OfflineVerdict {
  /** Down since (ms since epoch): the last frame, or the start. */
  since: number;
  reason: string;
  code?: string;
  stopped: boolean;
}

export interface OfflineInput {
  now: number;
  offlineAfterMs: number;
  /** When the node started (deploy). */
  startedAt: number;
  lastFrameAt: number | null;
  source: SourceState | null;
}

export function judgeOffline(o: OfflineInput): OfflineVerdict | null {
  if (o.offlineAfterMs <= 0) return null;
  const quietSince = o.lastFrameAt ?? o.startedAt;
  if (o.source) {
    if (o.source.up) return null;
    if (o.now - Math.max(quietSince, o.source.since) < o.offlineAfterMs) return null;
    return { since: quietSince, reason: o.source.reason, code: o.source.code, stopped: o.source.stopped };
  }
  if (o.now - quietSince < o.offlineAfterMs) return null;
  const s = Math.round(o.offlineAfterMs / 1000);
  return { since: quietSince, reason: o.lastFrameAt === null ? 'no frame received' : `no frame for ${s} s`, stopped: false };
}
