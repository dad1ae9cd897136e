/**
 * A size limit fit for event messages on the event WebSocket.
 *
 * undici's WebSocket takes its limits from the dispatcher it runs on
 * (`webSocketOptions.maxPayloadSize`, 128 MB by default: one 120 MB message
 * took the process from 132 to 507 MB). The dispatcher here is the camera's
 * shared Agent, so the limit is set on a thin wrapper that forwards every
 * request to it. undici enforces the limit itself, at the frame header,
 * before buffering: it sends close 1009 and drops the socket.
 *
 * undici then reports only close code 1006, the same as a lost link. To say
 * clearly what happened, `FrameSizeWatch` reads the frame headers of the same
 * byte stream (it never buffers payload) and applies the same rule, so the
 * stream can report ERR_MESSAGE_TOO_LARGE.
 *
 * The wrapper also leaves out undici's `permessage-deflate` offer: event JSON
 * is small, compression would hide message sizes from the frame headers, and
 * a compressed message is a way to inflate far past what was sent.
 */
import { Dispatcher } from 'undici';

/** Axis event notifications are a few hundred bytes to a few KB; analytics with many objects stay well below this. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Frames one message may be split into (undici allows 131072, each a buffer kept until the message ends). */
export const MAX_MESSAGE_FRAGMENTS = 1024;

export interface WsLimits {
  maxMessageBytes: number;
  maxFragments: number;
}

/** Forwards everything to the camera's dispatcher; only the WebSocket limits and the handshake headers differ. */
export class EventSocketDispatcher extends Dispatcher {
  constructor(
    private readonly inner: Dispatcher,
    private readonly limits: WsLimits,
  ) {
    super();
  }

  /** Read by undici's WebSocket when the connection opens. */
  get webSocketOptions(): { maxPayloadSize: number; maxFragments: number } {
    return { maxPayloadSize: this.limits.maxMessageBytes, maxFragments: this.limits.maxFragments };
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (opts.upgrade === 'websocket') opts = { ...opts, headers: withoutExtensionOffer(opts.headers) };
    return this.inner.dispatch(opts, handler);
  }

  // The camera owns the inner dispatcher and closes it; this wrapper holds nothing.
  override close(callback: () => void): void;
  override close(): Promise<void>;
  override close(callback?: () => void): Promise<void> | void {
    if (callback) queueMicrotask(callback);
    else return Promise.resolve();
  }

  override destroy(err: Error | null, callback: () => void): void;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null): Promise<void>;
  override destroy(): Promise<void>;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const cb = typeof errOrCallback === 'function' ? errOrCallback : callback;
    if (cb) queueMicrotask(cb);
    else return Promise.resolve();
  }
}

function withoutExtensionOffer(headers: Dispatcher.DispatchOptions['headers']): Dispatcher.DispatchOptions['headers'] {
  if (!headers) return headers;
  const drop = (name: unknown): boolean => String(name).toLowerCase() === 'sec-websocket-extensions';
  if (Array.isArray(headers)) {
    const out: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) if (!drop(headers[i])) out.push(headers[i] as string, headers[i + 1] as string);
    return out;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return [...(headers as Iterable<[string, string | string[] | undefined]>)].filter(([k]) => !drop(k));
  }
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) if (!drop(k)) out[k] = v;
  return out;
}

export interface Oversize {
  /** Bytes the message would have had at the frame that broke the limit (at least). */
  bytes: number;
  /** Data frames of the message at that point. */
  frames: number;
  limit: 'bytes' | 'fragments';
}

/**
 * Follows the frame headers of a server-to-client byte stream (RFC 6455 5.2)
 * and notes the first message over the limits, by undici's rule: the payload
 * length of a data frame plus the bytes of the message so far. Payload bytes
 * are skipped by count, never copied.
 */
export class FrameSizeWatch {
  oversize: Oversize | null = null;
  private readonly head = Buffer.alloc(14);
  private headLen = 0;
  private skip = 0;
  private msgBytes = 0;
  private msgFrames = 0;

  constructor(private readonly limits: WsLimits) {}

  readonly feed = (chunk: Buffer): void => {
    let i = 0;
    while (i < chunk.length && !this.oversize) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.head[this.headLen++] = chunk[i++];
      if (this.headLen < 2) continue;
      const len7 = this.head[1] & 0x7f;
      const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (this.head[1] & 0x80 ? 4 : 0);
      if (this.headLen < need) continue;
      this.headLen = 0;
      const len = len7 === 126 ? this.head.readUInt16BE(2) : len7 === 127 ? Number(this.head.readBigUInt64BE(2)) : len7;
      const opcode = this.head[0] & 0x0f;
      const fin = (this.head[0] & 0x80) !== 0;
      if (opcode < 0x8) {
        // Text, binary or continuation: part of the current message.
        this.msgFrames++;
        if (len + this.msgBytes > this.limits.maxMessageBytes) {
          this.oversize = { bytes: len + this.msgBytes, frames: this.msgFrames, limit: 'bytes' };
        } else if (this.msgFrames > this.limits.maxFragments) {
          this.oversize = { bytes: len + this.msgBytes, frames: this.msgFrames, limit: 'fragments' };
        }
        this.msgBytes += len;
        if (fin) this.msgBytes = this.msgFrames = 0;
      }
      this.skip = len;
    }
  };
}
