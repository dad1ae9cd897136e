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
  /**
   * Least delay after the camera refused the credentials (401/403): asking
   * again soon cannot fix a wrong password, fills the camera's security log,
   * and trips brute-force lockouts (the motion daemon, for one, then refuses
   * even the right password for minutes). Fixing the setting redeploys anyway.
   */
  credentialRetryMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 1000,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.3,
  healthyResetMs: 30_000,
  credentialRetryMs: 60_000,
};

/** Delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, Math.max(0, attempt)));
  const spread = exp * Math.min(1, Math.max(0, policy.jitter));
  return Math.round(exp - spread * random());
}

/** A partial policy over the defaults; an explicit `undefined` means "the default", not NaN. */
export function resolveBackoff(p?: Partial<BackoffPolicy>): BackoffPolicy {
  const given = Object.fromEntries(Object.entries(p ?? {}).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_BACKOFF, ...given };
}

/** Error codes meaning the camera refused who we are: retrying soon cannot help. */
const REFUSED_CREDENTIALS = new Set(['ERR_AUTH_FAILED', 'ERR_FORBIDDEN']);

/** Delay before retry `attempt` after a failure with `code`. */
export function retryDelay(attempt: number, policy: BackoffPolicy, code: string, random: () => number = Math.random): number {
  const d = backoffDelay(attempt, policy, random);
  return REFUSED_CREDENTIALS.has(code) ? Math.max(d, policy.credentialRetryMs) : d;
}
