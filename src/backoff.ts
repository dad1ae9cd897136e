/**
 * Reconnect delays: capped exponential backoff with jitter, so a fleet of
 * nodes that lost the same camera does not reconnect in lock-step, and a
 * camera that is down for an hour is asked at most every `maxMs`.
 */
export interface BackoffPolicy {
  /** First retry delay. */
  initialMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
  factor: number;
  /** 0..1: the delay is drawn from [d * (1 - jitter), d]. */
  jitter: number;
  /** After streaming this long without a failure, the next failure starts again at `initialMs`. */
  healthyResetMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 1000,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.3,
  healthyResetMs: 30_000,
};

/** Delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, Math.max(0, attempt)));
  const spread = exp * Math.min(1, Math.max(0, policy.jitter));
  return Math.round(exp - spread * random());
}
