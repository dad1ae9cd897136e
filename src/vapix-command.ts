/**
 * One VAPIX command or query over the camera's client, with the one retry
 * that is safe. A camera may close a kept-alive socket just as a request goes
 * out on it; the request then fails with a reset although the camera never
 * saw it, or saw it and acted. Only a command that does the same thing when
 * done twice (go to preset, set a port, read a position) is sent again;
 * a pulse or a relative move is not, and its reset reaches the user.
 */
import { CameraError, ErrorCodes } from './errors';
import type { BufferResponse, CameraHttpClient } from './http';

export interface VapixCommandOptions {
  /** Safe to send twice: then one retry after a reset. */
  idempotent: boolean;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Default 256 KiB: command answers are a few lines. */
  maxBytes?: number;
}

export const COMMAND_MAX_BYTES = 256 * 1024;

export async function vapixCommand(client: CameraHttpClient, pathAndQuery: string, opts: VapixCommandOptions): Promise<BufferResponse> {
  const req = {
    maxBytes: opts.maxBytes ?? COMMAND_MAX_BYTES,
    ...(opts.method ? { method: opts.method } : {}),
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  try {
    try {
      return await client.fetchBuffer(pathAndQuery, req);
    } catch (e) {
      if (!opts.idempotent || !(e instanceof CameraError) || e.code !== ErrorCodes.CONN_RESET || opts.signal?.aborted) throw e;
      return await client.fetchBuffer(pathAndQuery, req);
    }
  } catch (e) {
    // fetchBuffer's hint is about frames; a command answer that big is not the camera's.
    if (e instanceof CameraError && e.code === ErrorCodes.FRAME_TOO_LARGE) {
      throw new CameraError(e.code, e.message, {
        ...(e.statusCode !== undefined ? { statusCode: e.statusCode } : {}),
        hint: 'A camera answers a command in a few lines; this answer was cut off. Check that the address is the camera, not another service or a proxy page.',
      });
    }
    throw e;
  }
}

/** Text of a refusal in a 2xx body (`Error: ...`, `# Error: ...`), or null. */
export function vapixErrorText(text: string): string | null {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (!line) return null;
  const m = /^#?\s*error\b[:\s-]*(.*)$/i.exec(line);
  return m ? (m[1] || line).slice(0, 200) : null;
}

/** `key=value` lines (PTZ queries, port.cgi answers), keys as sent. */
export function parseKeyValueLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/**
 * `p`, or ERR_ABORTED as soon as `signal` fires, without cancelling `p`: for
 * work several callers share (a capability probe), which one caller giving up
 * must not cancel for the others.
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new CameraError(ErrorCodes.ABORTED, 'request aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new CameraError(ErrorCodes.ABORTED, 'request aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
