/**
 * After a camera refused the credentials, command nodes (axmjpeg-ptz,
 * axmjpeg-io) do not send it more logins for the config node's "retry refused
 * login after" time: a motion event every few seconds would otherwise be a
 * refused login every few seconds, which trips the camera's brute-force
 * lockout. Shared by every command node of one camera config node; the first
 * success (or the time running out) opens the gate again.
 */
import { CameraError, ErrorCodes } from '../../src/errors';

const REFUSED = new Set<string>([ErrorCodes.AUTH_FAILED, ErrorCodes.FORBIDDEN]);
const closedUntil = new Map<string, number>();

/** Throws ERR_AUTH_FAILED (without asking the camera) while the gate of `cameraId` is closed. */
export function checkLoginGate(cameraId: string, now = Date.now()): void {
  const until = closedUntil.get(cameraId);
  if (until === undefined) return;
  if (now >= until) {
    closedUntil.delete(cameraId);
    return;
  }
  throw new CameraError(
    ErrorCodes.AUTH_FAILED,
    `The camera refused the login; not asking it again for ${Math.ceil((until - now) / 1000)} s (the camera config's "retry refused login after")`,
  );
}

/** Records the outcome of a request to the camera: a refused login closes the gate for `retryMs`, anything else opens it. */
export function recordLoginOutcome(cameraId: string, retryMs: number, err?: unknown): void {
  if (err instanceof CameraError && REFUSED.has(err.code) && err.statusCode !== undefined) {
    if (retryMs > 0) closedUntil.set(cameraId, Date.now() + retryMs);
    return;
  }
  if (!err) closedUntil.delete(cameraId);
}
