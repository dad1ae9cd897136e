/**
 * MjpegBroadcaster: serves one stream of JPEG frames to many HTTP viewers as
 * multipart/x-mixed-replace, without letting any viewer slow the others.
 *
 * Backpressure is per viewer and never queues: a frame is written only when
 * the viewer's socket took the previous one (`write()` returned true, or
 * 'drain' came). Frames that arrive meanwhile replace a single pending slot,
 * so a slow viewer gets the newest frame as soon as it can take one and the
 * server holds at most one in-flight plus one pending frame per viewer (both
 * are shared Buffers, never per-viewer copies).
 *
 * Slots cannot be held without taking data. A viewer whose socket has bytes
 * it has not taken, and takes none of them for `stuckTimeoutMs`, is
 * disconnected, whatever rate it asked for. For that to see every idle
 * client, every viewer is written to at least every `refreshMs` (10 s): the
 * slowest `?fps=` is 0.1, and when no frame came for that long the latest
 * is sent again. The OS still accepts a few MB into socket buffers
 * for a peer that never reads (about 4 MB on Linux loopback), so such a
 * viewer is caught once those are full: at 1 frame/s of 50 KB, after about
 * 80 s plus `stuckTimeoutMs`. `maxViewersPerAddress` is what keeps one host
 * from taking every slot meanwhile.
 *
 * When frames stop arriving, connections stay open: viewers keep showing the
 * last frame (sent again every `refreshMs`) and resume when frames come back
 * (the camera session reconnects on its own). Close them with `close()`.
 *
 * Framework-free: works with any `http` server or express-style router.
 */
import { EventEmitter } from 'node:events';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { CameraError, ErrorCodes } from '../errors';
import { AddressCounter, clientInfo } from './address';
import { FRAMINGS, viewerKind, type Framing } from './framing';
import {
  NO_CACHE_HEADERS,
  browserOpening,
  browserTrailer,
  formatTimestamp,
  isValidBoundary,
  makeBoundary,
  openingDelimiter,
  partHeader,
  partTrailer,
  streamHeaders,
  type PartMeta,
} from './multipart';

export const DEFAULT_MAX_VIEWERS = 20;
export const DEFAULT_STUCK_TIMEOUT_MS = 30_000;
/**
 * Viewers from one client address. Enough for a few dashboards/tabs on one
 * machine or a small NAT; one host cannot take every slot at the default 20.
 */
export const DEFAULT_MAX_VIEWERS_PER_ADDRESS = 10;
/** Sent with 503 at the viewer limit: viewers usually come and go within seconds. */
export const DEFAULT_RETRY_AFTER_S = 10;
/** Sent with 503 for a snapshot before the first frame. */
export const NO_FRAME_RETRY_AFTER_S = 1;
/** Upper bound of `?fps=`; anything above means "every frame" anyway. */
export const MAX_FPS_PARAM = 1000;
/**
 * Lower bound of `?fps=` (other than 0 = every frame). Slower viewers would
 * get so few writes that one that never reads is not noticed for hours.
 */
export const MIN_FPS_PARAM = 0.1;
/** Longest a viewer goes without a write: one frame at the slowest rate. */
export const DEFAULT_REFRESH_MS = 1000 / MIN_FPS_PARAM;
/** How often stuck and idle viewers are looked for, at most. */
/**
 * WebKit viewers get a frame once more when no other followed it this soon
 * (WebKit draws the last frame of a series late). Sources at 4 fps and more
 * never trigger it.
 */
export const WEBKIT_REPEAT_AFTER_MS = 300;
/** While the source is down, the offline picture is sent again this often (for viewers that just connected, and proxies' idle timers). */
export const PLACEHOLDER_REPEAT_MS = 2000;
/** Retry-After of a 503 snapshot while the source is down. */
export const OFFLINE_RETRY_AFTER_S = 5;
const MAX_SWEEP_INTERVAL_MS = 1000;
const MIN_SWEEP_INTERVAL_MS = 10;

export interface BroadcasterOptions {
  /** Concurrent stream viewers; more get 503 + Retry-After. Default 20. */
  maxViewers?: number;
  /** Concurrent stream viewers from one client address; more get 429 + Retry-After. 0 = no limit. Default 10. */
  maxViewersPerAddress?: number;
  /** Disconnect a viewer that has unsent bytes and takes none of them for this long. 0 disables. Default 30 000. */
  stuckTimeoutMs?: number;
  /** Send the latest frame again to a viewer that got none for this long. 0 disables. Default 10 000. */
  refreshMs?: number;
  /** Rate cap for every viewer (frames/s, 0 or from 0.1); `?fps=` can only lower it. 0 = none. */
  maxFps?: number;
  /** Multipart boundary; random by default. */
  boundary?: string;
  /** Retry-After (s) of the 503 at the viewer limit. */
  retryAfterS?: number;
  /** While a placeholder is shown: answer snapshots with it ('placeholder', default) or with 503. */
  offlineSnapshot?: 'placeholder' | '503';
  /**
   * Proxy addresses (e.g. nginx on 127.0.0.1) whose X-Forwarded-For names the
   * viewer, for the per-address limit and messages. Empty: the TCP peer.
   */
  trustedProxies?: ReadonlySet<string>;
  /** Clock, for tests. */
  now?: () => number;
}

export interface ViewerOptions {
  /** At most this many frames/s for this viewer (lowered to `maxFps`). 0/undefined = no own cap. */
  fps?: number;
  /** Part layout; default from the request headers (see framing.ts). */
  framing?: Framing;
}

export interface PublishMeta {
  /** Capture time, ms since epoch; sent as X-Timestamp. Default: now. */
  time?: number;
  /** The capturing camera's frame number; sent as X-Sequence. Default: this relay's count. */
  seq?: number;
  /** The capturing camera's name; sent as X-Camera. */
  camera?: string;
}

export interface ViewerStats {
  id: number;
  /** Remote address:port, for diagnostics. */
  remote: string;
  connectedAt: number;
  /** Effective cap, 0 = none. */
  fps: number;
  framing: Framing;
  /** Frames written to the socket. */
  sent: number;
  /** Frames this viewer never got because its socket was still busy. */
  dropped: number;
  /** Frames left out to honour the fps cap. */
  skipped: number;
  /** Bytes the server still holds for this viewer (not yet taken by the OS). */
  buffered: number;
}

export interface BroadcasterStats {
  framesIn: number;
  viewers: number;
  /** Viewers accepted since creation. */
  accepted: number;
  /** 503 answers at the viewer limit. */
  rejected: number;
  /** 429 answers at the per-address limit. */
  rejectedPerAddress: number;
  /** Viewers disconnected for being stuck. */
  evicted: number;
  snapshots: number;
  /** Totals over current and departed viewers. */
  sent: number;
  dropped: number;
  perViewer: ViewerStats[];
}

export interface BroadcasterEvents {
  /** The number of viewers changed. */
  viewers: [count: number];
  /** A viewer was disconnected for being stuck. */
  evicted: [viewer: ViewerStats];
}

interface OutFrame {
  header: Buffer;
  data: Buffer;
  time: number;
  /**
   * The whole part as one Buffer per framing, built by the first viewer that
   * needs it and shared by all: one write per viewer per frame is what keeps
   * fan-out cheap (three writes through ServerResponse cost ~1.8x).
   */
  standard: Buffer | null;
  browser: Buffer | null;
  /** Publish count when it came (0 for the placeholder): frames up to a viewer's firstN predate it. */
  n: number;
  meta: PartMeta;
  /** The standard part with X-Resent, built on first use. */
  resent: Buffer | null;
  offline: boolean;
}

interface Viewer {
  id: number;
  res: ServerResponse;
  /**
   * The socket below `res`, written to directly once the headers are out;
   * null when something sits in between (a middleware that wraps res.write,
   * such as compression, or bytes still queued in res).
   */
  sock: Socket | null;
  remote: string;
  connectedAt: number;
  intervalMs: number;
  fps: number;
  framing: Framing;
  webkit: boolean;
  /** WebKit viewers: the frame last written, when, and whether it was repeated already. */
  last: OutFrame | null;
  lastAt: number;
  repeated: boolean;
  nextDue: number;
  /** framesIn when it connected: any frame published up to then is a resend for this viewer. */
  firstN: number;
  lastSent: OutFrame | null;
  /** Normalised client address, for the per-address limit. */
  address: string;
  /** Waiting for 'drain': the socket has not taken the last frame yet. */
  busy: boolean;
  /** Bytes the socket had taken (written out to the OS) when last seen stalled, and when that was; null while nothing is pending. */
  stall: { done: number; since: number } | null;
  lastWriteAt: number;
  pending: OutFrame | null;
  sent: number;
  dropped: number;
  skipped: number;
  detach: () => void;
}

export type QueryResult = { snapshot: boolean; fps?: number; framing?: Framing } | { error: string };

/** Reads `?snapshot`, `?fps=N` and `?framing=browser|standard` from a request URL. */
export function parseViewerQuery(url: string | undefined): QueryResult {
  const q = url?.indexOf('?') ?? -1;
  if (q < 0 || !url) return { snapshot: false };
  const params = new URLSearchParams(url.slice(q + 1));
  const out: { snapshot: boolean; fps?: number; framing?: Framing } = { snapshot: params.has('snapshot') };
  const framing = params.get('framing');
  if (framing !== null && framing !== '') {
    if (!(FRAMINGS as readonly string[]).includes(framing)) {
      return { error: `framing must be ${FRAMINGS.join(' or ')}, not ${JSON.stringify(framing)}` };
    }
    out.framing = framing as Framing;
  }
  const fpsText = params.get('fps');
  if (fpsText !== null && fpsText !== '') {
    const fps = Number(fpsText);
    if (!Number.isFinite(fps) || fps < 0 || fps > MAX_FPS_PARAM) {
      return { error: `fps must be a number from 0 to ${MAX_FPS_PARAM} (0 = every frame), not ${JSON.stringify(fpsText)}` };
    }
    if (fps > 0 && fps < MIN_FPS_PARAM) {
      return { error: `fps must be at least ${MIN_FPS_PARAM} (one frame every ${1 / MIN_FPS_PARAM} s), or 0 for every frame; not ${JSON.stringify(fpsText)}` };
    }
    out.fps = fps;
  }
  return out;
}

function isJpeg(b: unknown): b is Buffer {
  return Buffer.isBuffer(b) && b.length >= 4 && b[0] === 0xff && b[1] === 0xd8;
}

function positiveOr(v: number | undefined, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : dflt;
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}, headOnly = false): void {
  const body = Buffer.from(`${text}\n`, 'utf8');
  res.writeHead(status, {
    ...NO_CACHE_HEADERS,
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(body.length),
  });
  res.end(headOnly ? undefined : body);
}

export class MjpegBroadcaster extends EventEmitter<BroadcasterEvents> {
  readonly boundary: string;
  readonly maxViewers: number;
  readonly maxViewersPerAddress: number;
  readonly stuckTimeoutMs: number;
  readonly refreshMs: number;
  readonly maxFps: number;
  private readonly retryAfterS: number;
  private readonly now: () => number;
  private readonly opening: Buffer;
  private readonly trailer: Buffer;
  private readonly browserOpening: Buffer;
  private readonly browserTrailer: Buffer;
  /** Viewers that get a frame repeated after a pause (WebKit). */
  private webkitViewers = 0;
  private repeater: NodeJS.Timeout | null = null;
  private readonly viewers = new Set<Viewer>();
  private readonly perAddress = new AddressCounter();
  private latestFrame: OutFrame | null = null;
  /** The "source offline" picture while one is shown; the next published frame ends it. */
  private placeholder: OutFrame | null = null;
  private placeholderTimer: NodeJS.Timeout | null = null;
  private readonly offlineSnapshot: 'placeholder' | '503';
  private readonly trustedProxies: ReadonlySet<string> | undefined;
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;
  private nextId = 1;
  private counters = { framesIn: 0, accepted: 0, rejected: 0, rejectedPerAddress: 0, evicted: 0, snapshots: 0, sentGone: 0, droppedGone: 0 };

  constructor(opts: BroadcasterOptions = {}) {
    super();
    this.boundary = opts.boundary ?? makeBoundary();
    if (!isValidBoundary(this.boundary)) {
      throw new CameraError(ErrorCodes.INVALID_SETTING, `Invalid multipart boundary ${JSON.stringify(this.boundary)}`);
    }
    this.maxViewers = Math.floor(positiveOr(opts.maxViewers, DEFAULT_MAX_VIEWERS));
    this.maxViewersPerAddress = Math.floor(positiveOr(opts.maxViewersPerAddress, DEFAULT_MAX_VIEWERS_PER_ADDRESS));
    this.stuckTimeoutMs = positiveOr(opts.stuckTimeoutMs, DEFAULT_STUCK_TIMEOUT_MS);
    this.refreshMs = positiveOr(opts.refreshMs, DEFAULT_REFRESH_MS);
    const maxFps = positiveOr(opts.maxFps, 0);
    // Same floor as ?fps=: below it the 10 s refresh, not the cap, would set the rate.
    this.maxFps = maxFps > 0 ? Math.max(MIN_FPS_PARAM, maxFps) : 0;
    this.retryAfterS = Math.max(1, Math.round(positiveOr(opts.retryAfterS, DEFAULT_RETRY_AFTER_S)));
    this.now = opts.now ?? Date.now;
    this.offlineSnapshot = opts.offlineSnapshot === '503' ? '503' : 'placeholder';
    this.trustedProxies = opts.trustedProxies;
    this.opening = openingDelimiter(this.boundary);
    this.trailer = partTrailer(this.boundary);
    this.browserOpening = browserOpening(this.boundary);
    this.browserTrailer = browserTrailer(this.boundary);
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** The newest JPEG published, or null. Shared: do not modify. */
  get latest(): Buffer | null {
    return this.latestFrame?.data ?? null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get stats(): BroadcasterStats {
    const perViewer = [...this.viewers].map((v) => this.viewerStats(v));
    return {
      framesIn: this.counters.framesIn,
      viewers: this.viewers.size,
      accepted: this.counters.accepted,
      rejected: this.counters.rejected,
      rejectedPerAddress: this.counters.rejectedPerAddress,
      evicted: this.counters.evicted,
      snapshots: this.counters.snapshots,
      sent: this.counters.sentGone + perViewer.reduce((n, v) => n + v.sent, 0),
      dropped: this.counters.droppedGone + perViewer.reduce((n, v) => n + v.dropped, 0),
      perViewer,
    };
  }

  /**
   * Answers a GET/HEAD on the stream path: `?snapshot` → one JPEG, otherwise
   * a stream viewer honouring `?fps=N`. Malformed queries get 400.
   */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const q = parseViewerQuery(req.url);
    const headOnly = req.method === 'HEAD';
    if ('error' in q) return sendText(res, 400, q.error, {}, headOnly);
    if (q.snapshot) return this.serveSnapshot(req, res);
    this.addViewer(req, res, { fps: q.fps, framing: q.framing });
  }

  /**
   * One latest frame as image/jpeg; 503 + Retry-After before the first frame.
   * While the source is down: the placeholder (X-Source-Offline: 1), or 503.
   */
  serveSnapshot(req: IncomingMessage, res: ServerResponse): void {
    const headOnly = req.method === 'HEAD';
    if (!this.closed && this.placeholder && this.offlineSnapshot === '503') {
      return sendText(res, 503, 'Camera offline', { 'Retry-After': String(OFFLINE_RETRY_AFTER_S), 'X-Source-Offline': '1' }, headOnly);
    }
    const frame = this.placeholder ?? this.latestFrame;
    if (this.closed || !frame) {
      return sendText(res, 503, this.closed ? 'Stream closed' : 'No frame yet', { 'Retry-After': String(NO_FRAME_RETRY_AFTER_S) }, headOnly);
    }
    this.counters.snapshots++;
    res.writeHead(200, {
      ...NO_CACHE_HEADERS,
      'Content-Type': 'image/jpeg',
      'Content-Length': String(frame.data.length),
      'X-Timestamp': formatTimestamp(frame.time),
      ...(frame === this.placeholder ? { 'X-Source-Offline': '1' } : {}),
    });
    res.end(headOnly ? undefined : frame.data);
  }

  /**
   * Starts streaming to `res`: headers, the opening delimiter, the latest
   * frame at once, then every new frame. Returns false when refused (503,
   * or 429 for an address at its own limit).
   */
  addViewer(req: IncomingMessage, res: ServerResponse, opts: ViewerOptions = {}): boolean {
    const headOnly = req.method === 'HEAD';
    if (this.closed) {
      sendText(res, 503, 'Stream closed', { 'Retry-After': String(this.retryAfterS) }, headOnly);
      return false;
    }
    const { address, label } = clientInfo(req, this.trustedProxies);
    // Checked first: a client at its own limit should learn that it is the cause, not wait and retry.
    if (this.maxViewersPerAddress > 0 && this.perAddress.count(address) >= this.maxViewersPerAddress) {
      this.counters.rejectedPerAddress++;
      sendText(
        res,
        429,
        `Too many viewers from your address (at most ${this.maxViewersPerAddress}); close another stream of this camera first`,
        { 'Retry-After': String(this.retryAfterS) },
        headOnly,
      );
      return false;
    }
    if (this.viewers.size >= this.maxViewers) {
      this.counters.rejected++;
      sendText(res, 503, `Too many viewers (at most ${this.maxViewers}); try again later`, { 'Retry-After': String(this.retryAfterS) }, headOnly);
      return false;
    }
    // Without this Node would chunk the body; a close-delimited body is what
    // cameras send and the least any client has to undo.
    res.removeHeader('Transfer-Encoding');
    res.writeHead(200, streamHeaders(this.boundary));
    if (headOnly) {
      res.end();
      return true;
    }
    res.socket?.setNoDelay(true);

    const fps = this.effectiveFps(opts.fps);
    const kind = viewerKind(req.headers ?? {}, opts.framing);
    const now = this.now();
    const v: Viewer = {
      id: this.nextId++,
      res,
      sock: null,
      remote: label,
      connectedAt: now,
      fps,
      intervalMs: fps > 0 ? 1000 / fps : 0,
      framing: kind.framing,
      webkit: kind.webkit,
      last: null,
      lastAt: 0,
      repeated: false,
      nextDue: now,
      firstN: this.counters.framesIn,
      lastSent: null,
      address,
      busy: false,
      stall: null,
      lastWriteAt: now,
      pending: null,
      sent: 0,
      dropped: 0,
      skipped: 0,
      detach: () => undefined,
    };
    // Headers and the opening go through res, so Node sends the head as usual.
    if (!res.write(v.framing === 'browser' ? this.browserOpening : this.opening)) v.busy = true;
    const sock = res.socket;
    // Raw socket writes are only the same bytes when the body is close-delimited (not chunked) and nothing wraps res.write.
    const chunked = (res as unknown as { chunkedEncoding?: boolean }).chunkedEncoding === true;
    // res.writableLength counts the socket's own buffer too: what matters is that nothing waits in res itself.
    const queuedInRes = sock ? res.writableLength - sock.writableLength : res.writableLength;
    if (sock && !v.busy && !chunked && res.headersSent && queuedInRes === 0 && res.write === ServerResponse.prototype.write) v.sock = sock;
    const onDrain = (): void => this.onDrain(v);
    const onGone = (): void => this.remove(v);
    const drains = v.sock ?? res;
    drains.on('drain', onDrain);
    res.on('close', onGone);
    res.on('error', onGone);
    v.detach = () => {
      drains.off('drain', onDrain);
      res.off('close', onGone);
      res.off('error', onGone);
    };
    this.viewers.add(v);
    this.perAddress.add(address);
    this.counters.accepted++;

    if (v.webkit) this.webkitViewers++;
    if (this.placeholder) this.offerPlaceholder(v, now);
    else if (this.latestFrame) this.offer(v, this.latestFrame, now);
    this.ensureSweeper();
    this.emit('viewers', this.viewers.size);
    return true;
  }

  /** Sends a JPEG to every viewer (each as its socket allows). Throws ERR_NOT_JPEG for anything else. */
  publish(jpeg: Buffer, meta: PublishMeta = {}): void {
    if (!isJpeg(jpeg)) {
      throw new CameraError(ErrorCodes.NOT_JPEG, 'Not a JPEG: the payload must be a Buffer starting with FF D8', {
        hint: 'Send frame msgs (msg.payload = JPEG Buffer), e.g. from an axmjpeg-in node.',
      });
    }
    if (this.closed) return;
    const now = this.now();
    const time = typeof meta.time === 'number' && Number.isFinite(meta.time) ? meta.time : now;
    const n = ++this.counters.framesIn;
    const seq = typeof meta.seq === 'number' && Number.isInteger(meta.seq) && meta.seq >= 0 ? meta.seq : n;
    const pm: PartMeta = { time, seq, ...(typeof meta.camera === 'string' && meta.camera !== '' ? { camera: meta.camera } : {}) };
    const frame: OutFrame = { header: partHeader(jpeg.length, pm), data: jpeg, time, standard: null, browser: null, n, meta: pm, resent: null, offline: false };
    this.latestFrame = frame;
    if (this.placeholder) this.clearPlaceholder();
    for (const v of this.viewers) this.offer(v, frame, now);
  }

  /** True while the offline picture is shown instead of frames. */
  get showingPlaceholder(): boolean {
    return this.placeholder !== null;
  }

  /**
   * Shows `jpeg` (the "source offline" picture) to every viewer now, to new
   * viewers and snapshots instead of the stale last frame, and again every
   * PLACEHOLDER_REPEAT_MS, until the next publish() or clearPlaceholder().
   * Calling it again replaces the picture (a new reason).
   */
  showPlaceholder(jpeg: Buffer): void {
    if (!isJpeg(jpeg)) throw new CameraError(ErrorCodes.NOT_JPEG, 'Not a JPEG: the placeholder must be a Buffer starting with FF D8');
    if (this.closed) return;
    const now = this.now();
    if (this.placeholder?.data === jpeg) return;
    const pm: PartMeta = { time: now, seq: 0 };
    this.placeholder = { header: partHeader(jpeg.length, pm, 'offline'), data: jpeg, time: now, standard: null, browser: null, n: 0, meta: pm, resent: null, offline: true };
    for (const v of this.viewers) this.offerPlaceholder(v, now);
    if (!this.placeholderTimer) {
      this.placeholderTimer = setInterval(() => {
        const t = this.now();
        for (const v of this.viewers) if (!v.busy) this.offerPlaceholder(v, t);
      }, PLACEHOLDER_REPEAT_MS);
      this.placeholderTimer.unref();
    }
  }

  /** Back to frames: viewers keep the placeholder on screen until the next frame comes. */
  clearPlaceholder(): void {
    this.placeholder = null;
    if (this.placeholderTimer) clearInterval(this.placeholderTimer);
    this.placeholderTimer = null;
  }

  /** The placeholder ignores the viewer's fps cap: it is rare and must be seen at once. */
  private offerPlaceholder(v: Viewer, now: number): void {
    const p = this.placeholder!;
    if (v.busy) {
      if (v.pending && v.pending !== p) v.dropped++;
      v.pending = p;
      return;
    }
    this.write(v, p, now);
  }

  /**
   * Ends every viewer and refuses new ones. Viewers whose socket is still
   * busy are destroyed (ending them would wait for a client that is not
   * reading). Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopSweeper();
    this.stopRepeater();
    this.clearPlaceholder();
    for (const v of [...this.viewers]) {
      const unsent = v.busy || this.buffered(v) > 0;
      this.remove(v);
      if (unsent) v.res.destroy();
      else v.res.end();
    }
    this.latestFrame = null;
  }

  private effectiveFps(requested: number | undefined): number {
    const own = typeof requested === 'number' && requested > 0 ? requested : 0;
    if (this.maxFps > 0 && (own === 0 || own > this.maxFps)) return this.maxFps;
    return own;
  }

  private offer(v: Viewer, frame: OutFrame, now: number): void {
    if (v.intervalMs > 0) {
      if (now < v.nextDue) {
        v.skipped++;
        return;
      }
      // Keep to the grid so the average rate is the cap even when frames
      // arrive at another rate, but never two frames closer than half an interval.
      v.nextDue = Math.max(v.nextDue + v.intervalMs, now + v.intervalMs / 2);
    }
    if (v.busy) {
      if (v.pending) v.dropped++;
      v.pending = frame;
      return;
    }
    this.write(v, frame, now);
  }

  private write(v: Viewer, frame: OutFrame, now: number): void {
    const res = v.res;
    if (res.destroyed || res.writableEnded || v.sock?.destroyed) {
      this.remove(v);
      return;
    }
    let part: Buffer;
    if (v.framing === 'browser') part = frame.browser ??= Buffer.concat([frame.data, this.browserTrailer]);
    else if (this.isResend(v, frame)) part = frame.resent ??= Buffer.concat([partHeader(frame.data.length, frame.meta, 'resent'), frame.data, this.trailer]);
    else part = frame.standard ??= Buffer.concat([frame.header, frame.data, this.trailer]);
    const ok = v.sock ? v.sock.write(part) : res.write(part);
    v.lastSent = frame;
    v.sent++;
    if (v.webkit) {
      v.repeated = v.last === frame;
      v.last = frame;
      v.lastAt = now;
      this.ensureRepeater();
    }
    v.lastWriteAt = now;
    if (!ok) v.busy = true;
  }

  /** A frame this viewer had already, or that came before it connected: sent with X-Resent (origin.ts). */
  private isResend(v: Viewer, frame: OutFrame): boolean {
    return !frame.offline && (frame.n <= v.firstN || v.lastSent === frame);
  }

  /** One timer for all WebKit viewers, armed after each write to one of them. */
  private ensureRepeater(): void {
    if (this.repeater) return;
    this.repeater = setTimeout(() => this.repeatLast(), WEBKIT_REPEAT_AFTER_MS);
    this.repeater.unref();
  }

  private stopRepeater(): void {
    if (this.repeater) clearTimeout(this.repeater);
    this.repeater = null;
  }

  /** Sends their last frame once more to WebKit viewers that got nothing since. */
  private repeatLast(): void {
    this.repeater = null;
    const now = this.now();
    let waiting = false;
    for (const v of this.viewers) {
      if (!v.webkit || !v.last || v.repeated) continue;
      if (now - v.lastAt < WEBKIT_REPEAT_AFTER_MS) {
        waiting = true;
        continue;
      }
      if (v.busy) {
        // The socket is still taking it: nothing is stuck behind a pause yet.
        v.repeated = true;
        continue;
      }
      this.write(v, v.last, now);
      v.repeated = true;
    }
    if (waiting) this.ensureRepeater();
  }

  private onDrain(v: Viewer): void {
    v.busy = false;
    const next = v.pending;
    if (next) {
      v.pending = null;
      this.write(v, next, this.now());
    }
  }

  private remove(v: Viewer): void {
    if (!this.viewers.delete(v)) return;
    this.perAddress.remove(v.address);
    v.detach();
    v.pending = null;
    v.last = null;
    v.lastSent = null;
    if (v.webkit && --this.webkitViewers === 0) this.stopRepeater();
    this.counters.sentGone += v.sent;
    this.counters.droppedGone += v.dropped;
    if (this.viewers.size === 0) this.stopSweeper();
    this.emit('viewers', this.viewers.size);
  }

  /** Bytes written for `v` that its socket has not handed to the OS yet. */
  private buffered(v: Viewer): number {
    return v.sock ? v.sock.writableLength : v.res.writableLength;
  }

  private viewerStats(v: Viewer): ViewerStats {
    return {
      id: v.id,
      remote: v.remote,
      connectedAt: v.connectedAt,
      fps: v.fps,
      framing: v.framing,
      sent: v.sent,
      dropped: v.dropped,
      skipped: v.skipped,
      buffered: this.buffered(v),
    };
  }

  private ensureSweeper(): void {
    if (this.sweeper || (this.stuckTimeoutMs <= 0 && this.refreshMs <= 0)) return;
    const limits = [this.stuckTimeoutMs, this.refreshMs].filter((ms) => ms > 0).map((ms) => ms / 2);
    const every = Math.max(MIN_SWEEP_INTERVAL_MS, Math.min(MAX_SWEEP_INTERVAL_MS, ...limits));
    this.sweeper = setInterval(() => this.sweep(), every);
    // Viewers keep the server alive already; this timer must not do so on its own.
    this.sweeper.unref();
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private sweep(): void {
    const now = this.now();
    for (const v of [...this.viewers]) {
      if (this.isStuck(v, now)) {
        const info = this.viewerStats(v);
        this.counters.evicted++;
        this.remove(v);
        v.res.destroy();
        this.emit('evicted', info);
      } else if (this.refreshMs > 0 && !v.busy && this.latestFrame && now - v.lastWriteAt >= this.refreshMs) {
        // Keeps write pressure on every slot (and proxies' idle timers quiet) while no frame comes.
        if (v.intervalMs > 0) v.nextDue = now + v.intervalMs;
        this.write(v, this.placeholder ?? this.latestFrame, now);
      }
    }
  }

  /**
   * Progress is what the socket handed to the OS: bytesWritten counts what
   * was queued, writableLength what is still waiting. A viewer is stuck when
   * bytes wait and that difference has not moved for stuckTimeoutMs. This
   * also catches a small-frame viewer that never filled the 16 KB buffer
   * enough for write() to say "busy".
   */
  private isStuck(v: Viewer, now: number): boolean {
    const sock = v.res.socket;
    if (this.stuckTimeoutMs <= 0 || !sock || this.buffered(v) === 0) {
      v.stall = null;
      return false;
    }
    const done = sock.bytesWritten - sock.writableLength;
    if (!v.stall || done !== v.stall.done) {
      v.stall = { done, since: now };
      return false;
    }
    return now - v.stall.since >= this.stuckTimeoutMs;
  }
}
