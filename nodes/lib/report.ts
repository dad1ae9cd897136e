/**
 * How source nodes (no input msg) tell Catch nodes about failures: once per
 * distinct failure, not once per retry, with code, message and hint in the
 * msg. `reset()` after recovery so the same failure is reported again.
 */
import type { Node } from 'node-red';
import type { CameraError } from '../../src/errors';

export interface Reporter {
  report(err: CameraError, msg?: Record<string, unknown>, extra?: Record<string, unknown>): void;
  reset(): void;
}

export function failureReporter(node: Node, topic: string): Reporter {
  let last = '';
  return {
    report(err, msg, extra) {
      const id = `${err.code}:${err.message}`;
      if (id === last) return;
      last = id;
      const out = msg ?? { topic, payload: { code: err.code, message: err.message, hint: err.hint, body: err.body, ...extra } };
      node.error(`${err.message}. ${err.hint}`, out as never);
    },
    reset() {
      last = '';
    },
  };
}

/** A code as short status text: ERR_AUTH_FAILED → "auth failed". */
export function reasonText(err: CameraError | undefined | null): string {
  return err ? err.code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, ' ') : '';
}
