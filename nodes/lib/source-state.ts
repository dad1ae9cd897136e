/**
 * How an axmjpeg-out knows that the camera behind its frames is down, when
 * wired simply (stream in → mjpeg out, or through throttle, link or other
 * nodes that keep msg.frame): every frame msg names its axmjpeg-in node in
 * `msg.frame.source`, and each axmjpeg-in keeps its session state here, by
 * node id. The output looks the state up; nothing extra travels on the wires,
 * so nodes that only expect frames never see a control msg.
 */

export interface SourceState {
  /** Frames are flowing (the session is streaming). */
  up: boolean;
  /** Since when the source has been in this state, ms since epoch. */
  since: number;
  /** Short reason while down ("conn refused", "auth failed", "stopped"...); never credentials. */
  reason: string;
  /** Error code while down, if any (ERR_...). */
  code?: string;
  /** Stopped on purpose (stop command, file ended): not reconnecting. */
  stopped: boolean;
}

const states = new Map<string, SourceState>();

/** Called by axmjpeg-in on every state change; `since` is kept while up/down does not change. */
export function reportSourceState(id: string, s: Omit<SourceState, 'since'> & { since?: number }): void {
  const prev = states.get(id);
  const since = s.since ?? (prev && prev.up === s.up && prev.stopped === s.stopped ? prev.since : Date.now());
  states.set(id, { ...s, since });
}

export function sourceState(id: string): SourceState | null {
  return states.get(id) ?? null;
}

/** The source node was closed (redeploy, removal). */
export function forgetSource(id: string): void {
  states.delete(id);
}
