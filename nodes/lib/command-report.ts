/**
 * How command nodes (axmjpeg-ptz, axmjpeg-io) hand a failure to Catch: the
 * stable code on msg.error.code (Node-RED copies it from the Error), message
 * plus hint as text, nothing from `cause`. Then done(), once.
 */
import type { Node, NodeMessageInFlow } from 'node-red';
import { CameraError, ErrorCodes } from '../../src/errors';

export function toCameraError(e: unknown): CameraError {
  return e instanceof CameraError ? e : new CameraError(ErrorCodes.UNKNOWN, String((e as Error)?.message ?? e));
}

export function reportFailure(node: Node, err: CameraError, msg: NodeMessageInFlow, done: (err?: Error) => void): void {
  const shown = new CameraError(err.code, err.describe(), err.statusCode !== undefined ? { statusCode: err.statusCode } : {});
  node.error(shown, msg);
  done();
}

/** A number setting from the editor (string) or a msg; undefined when empty. Throws naming the field. */
export function optionalNumber(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n)) throw new CameraError(ErrorCodes.INVALID_SETTING, `${name} must be a number, got "${String(v)}"`);
  return n;
}

/** Sleeps, or rejects with ERR_ABORTED when `signal` fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CameraError(ErrorCodes.ABORTED, 'cancelled'));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new CameraError(ErrorCodes.ABORTED, 'cancelled'));
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
