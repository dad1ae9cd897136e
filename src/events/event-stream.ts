/**
 * One subscription to an Axis camera's event stream over WebSocket.
 *
 * Every connect fetches a fresh single-use token from `wssession.cgi` with
 * the camera's HTTP client (so Digest/Basic and TLS are the camera's own),
 * opens `/vapix/ws-data-stream?sources=events&wssession=<token>` with
 * undici's WebSocket on the same dispatcher, and sends one
 * `events:configure`. The link is watched with WebSocket pings: no pong and
 * no message for `idleTimeoutMs` means a dead link, and we reconnect with
 * capped backoff. A camera without the API (404) or a refused subscription
 * is a configuration problem: state `failed`, no retry.
 *
 * Stateful events repeat their current state on every connect; by default
 * only changes are emitted (the last state per topic+source is remembered
 * across reconnects), with `emitInitial` the state seen first on each
 * connect is emitted too. Which data item is the state comes from the
 * camera's topic list (`isPropertyState`, fetched once before the first
 * connect), else from the known state keys (see eventState).
 */
import * as diagnostics from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { WebSocket, getGlobalDispatcher, ping, type Dispatcher } from 'undici';
import { resolveBackoff, retryDelay, type BackoffPolicy } from '../backoff';
import { CameraError, ErrorCodes } from '../errors';
import type { BufferResponse, FetchBufferOptions } from '../http';
import { configureMessage, instanceKey, parseMessage, parseWsSessionToken, type AxisEvent, type TopicStateInfo } from './messages';
import { fetchTopicList } from './topics';
import { DEFAULT_MAX_MESSAGE_BYTES, EventSocketDispatcher, FrameSizeWatch, MAX_MESSAGE_FRAGMENTS, type WsLimits } from './ws-limits';

export const WSSESSION_PATH = '/axis-cgi/wssession.cgi';
export const EVENT_WS_PATH = '/vapix/ws-data-stream';
export const DEFAULT_PING_INTERVAL_MS = 15_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 45_000;
/** Token + WebSocket open + configure reply must fit in this. */
export const DEFAULT_OPEN_TIMEOUT_MS = 10_000;
/** stop() waits this long for the close handshake before giving up on it. */
const CLOSE_WAIT_MS = 2_000;
const TOKEN_MAX_BYTES = 4096;
/** The topic list is asked for before the first connect; it may not hold the connect up longer than this. */
const TOPIC_LIST_TIMEOUT_MS = 5_000;
/** Connects that ask for the topic list before going on without it. */
const TOPIC_LIST_ATTEMPTS = 3;
const PONG_CHANNEL = 'undici:websocket:pong';
/**
 * undici's WebSocket reports a refused handshake only as close code 1006; the
 * status the camera answered is visible on this channel, which every undici
 * request (the handshake included) publishes when its response headers arrive.
 */
const HEADERS_CHANNEL = 'undici:request:headers';
interface HeadersMessage {
  request?: { path?: string };
  response?: { statusCode?: number };
}
/** Published when a request's headers go out, with its socket: the handshake's socket carries the frames. */
const SEND_HEADERS_CHANNEL = 'undici:client:sendHeaders';
interface SendHeadersMessage {
  request?: { path?: string };
  socket?: Duplex;
}

export const UNSUPPORTED_HINT =
  "This camera (or its firmware) has no event streaming over WebSocket. Update AXIS OS, or let the camera push its events: " +
  "MQTT event publishing to a broker read by an mqtt in node, or an action rule sending HTTP notifications to an http in node (see the node's help).";

/** The part of CameraHttpClient this needs. */
export interface EventHttpClient {
  /** Scheme, host and port; never credentials. */
  readonly baseUrl: string;
  fetchBuffer(pathAndQuery: string, opts?: FetchBufferOptions): Promise<BufferResponse>;
}

export type EventStreamState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'failed' | 'stopped';

export interface EventStateChange {
  state: EventStreamState;
  /** Why we are in backoff or failed. */
  error?: CameraError;
  /** In backoff: ms until the next attempt. */
  retryInMs?: number;
}

/** A refused `events:configure`: the camera's own error code is kept. */
export class EventConfigError extends CameraError {
  constructor(
    readonly vapixCode: number | string,
    vapixMessage: string,
  ) {
    super(ErrorCodes.INVALID_SETTING, `The camera refused the event subscription (error ${vapixCode}: ${vapixMessage})`, {
      hint: 'Check the topic filters: use topics from the camera\'s list, one per line, e.g. tns1:Device/tnsaxis:IO/VirtualInput.',
      body: JSON.stringify({ code: vapixCode, message: vapixMessage }),
    });
  }
}

export interface EventStreamOptions {
  client: EventHttpClient;
  /** Topic filters; joined into one `a|b` filter. At least one. */
  topics: string[];
  emitInitial?: boolean;
  /** undici dispatcher for the WebSocket (the camera's Agent: its TLS settings). */
  dispatcher?: Dispatcher;
  pingIntervalMs?: number;
  idleTimeoutMs?: number;
  openTimeoutMs?: number;
  /** Largest event message accepted; a larger one closes the link (1009) with ERR_MESSAGE_TOO_LARGE. */
  maxMessageBytes?: number;
  /**
   * Ask the camera for its topic list (GetEventInstances) before the first
   * connect, for the state item of each topic (default true). Without it, or
   * for topics it does not list, the state item is found by KNOWN_STATE_KEYS.
   */
  topicList?: boolean;
  backoff?: Partial<BackoffPolicy>;
  random?: () => number;
}

export interface EventStreamEvents {
  state: [EventStateChange];
  event: [AxisEvent];
}

type PongMessage = { websocket?: unknown };

export class EventStream extends EventEmitter<EventStreamEvents> {
  private readonly opts: Required<Omit<EventStreamOptions, 'dispatcher' | 'backoff'>> & Pick<EventStreamOptions, 'dispatcher'> & { backoff: BackoffPolicy };
  private readonly wsLimits: WsLimits;
  /** The camera's dispatcher with the message limits of this stream. */
  private readonly wsDispatcher: EventSocketDispatcher;
  private _state: EventStreamState = 'idle';
  private running = false;
  private ws: WebSocket | null = null;
  private abort: AbortController | null = null;
  private openTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private connectedAt = 0;
  /** Last known state value per event instance, kept across reconnects. */
  private readonly lastState = new Map<string, string>();
  /** What the camera's topic list says per topic, once it has answered. */
  private topicStates: Map<string, TopicStateInfo> | null = null;
  private topicListAttempts = 0;
  private readonly topicLookup = (topic: string): TopicStateInfo | undefined => this.topicStates?.get(topic);
  /** Instances seen since the current connect (for emitInitial). */
  private seenThisConnect = new Set<string>();
  private readonly onPong = (m: unknown): void => {
    if ((m as PongMessage)?.websocket === this.ws && this.ws) this.alive();
  };
  /** Path (with this attempt's single-use token) of the handshake in progress, and what it got. */
  private handshakePath: string | null = null;
  private handshakeStatus: number | null = null;
  private readonly onHeaders = (m: unknown): void => {
    const { request, response } = (m ?? {}) as HeadersMessage;
    if (this.handshakePath !== null && request?.path === this.handshakePath && typeof response?.statusCode === 'number') {
      this.handshakeStatus = response.statusCode;
    }
  };
  private handshakeSocket: Duplex | null = null;
  private readonly onSendHeaders = (m: unknown): void => {
    const { request, socket } = (m ?? {}) as SendHeadersMessage;
    if (this.handshakePath !== null && request?.path === this.handshakePath && socket) this.handshakeSocket = socket;
  };
  /** Frame sizes of the open WebSocket, and the socket they are read from. */
  private sizeWatch: { watch: FrameSizeWatch; socket: Duplex } | null = null;

  constructor(opts: EventStreamOptions) {
    super();
    if (!opts.topics.length) throw new CameraError(ErrorCodes.INVALID_SETTING, 'At least one event topic is needed');
    for (const [name, v] of [
      ['pingIntervalMs', opts.pingIntervalMs],
      ['idleTimeoutMs', opts.idleTimeoutMs],
      ['openTimeoutMs', opts.openTimeoutMs],
      ['maxMessageBytes', opts.maxMessageBytes],
    ] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new CameraError(ErrorCodes.INVALID_SETTING, `${name} must be a positive number`);
    }
    this.opts = {
      client: opts.client,
      topics: [...opts.topics],
      emitInitial: opts.emitInitial ?? false,
      dispatcher: opts.dispatcher,
      pingIntervalMs: opts.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
      idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      openTimeoutMs: opts.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
      maxMessageBytes: Math.floor(opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES),
      topicList: opts.topicList ?? true,
      backoff: resolveBackoff(opts.backoff),
      random: opts.random ?? Math.random,
    };
    this.wsLimits = { maxMessageBytes: this.opts.maxMessageBytes, maxFragments: MAX_MESSAGE_FRAGMENTS };
    this.wsDispatcher = new EventSocketDispatcher(opts.dispatcher ?? getGlobalDispatcher(), this.wsLimits);
  }

  get state(): EventStreamState {
    return this._state;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    diagnostics.subscribe(PONG_CHANNEL, this.onPong);
    diagnostics.subscribe(HEADERS_CHANNEL, this.onHeaders);
    diagnostics.subscribe(SEND_HEADERS_CHANNEL, this.onSendHeaders);
    void this.connect();
  }

  /** Closes the WebSocket (waiting briefly for the close handshake) and every timer. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    diagnostics.unsubscribe(PONG_CHANNEL, this.onPong);
    diagnostics.unsubscribe(HEADERS_CHANNEL, this.onHeaders);
    diagnostics.unsubscribe(SEND_HEADERS_CHANNEL, this.onSendHeaders);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.teardown();
    this.setState({ state: 'stopped' });
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, CLOSE_WAIT_MS);
        ws.addEventListener('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private setState(change: EventStateChange): void {
    this._state = change.state;
    this.emit('state', change);
  }

  private async connect(): Promise<void> {
    this.setState({ state: 'connecting' });
    const ac = new AbortController();
    this.abort = ac;
    if (this.opts.topicList && !this.topicStates && this.topicListAttempts < TOPIC_LIST_ATTEMPTS) {
      await this.loadTopicList(ac.signal);
      if (this.abort !== ac || !this.running) return;
    }
    this.openTimer = setTimeout(() => {
      this.fail(new CameraError(ErrorCodes.RESPONSE_TIMEOUT, `The event stream did not open within ${this.opts.openTimeoutMs / 1000} s`));
    }, this.opts.openTimeoutMs);
    let token: string;
    try {
      token = await this.fetchToken(ac.signal);
    } catch (e) {
      if (ac.signal.aborted || this.abort !== ac) return; // stopped or timed out meanwhile
      this.fail(e instanceof CameraError ? e : new CameraError(ErrorCodes.UNKNOWN, String((e as Error)?.message ?? e), { cause: e }));
      return;
    }
    if (this.abort !== ac || !this.running) return;
    const path = `${EVENT_WS_PATH}?sources=events&wssession=${encodeURIComponent(token)}`;
    this.handshakePath = path;
    this.handshakeStatus = null;
    this.handshakeSocket = null;
    const ws = new WebSocket(`${this.opts.client.baseUrl.replace(/^http/, 'ws')}${path}`, { dispatcher: this.wsDispatcher });
    this.ws = ws;
    this.seenThisConnect = new Set();
    let upgraded = false;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      upgraded = true;
      this.handshakePath = null;
      // undici attached its own reader just before 'open' and no byte has flowed yet,
      // so the watch sees every frame from the first.
      const socket = this.handshakeSocket;
      this.handshakeSocket = null;
      if (socket) {
        const watch = new FrameSizeWatch(this.wsLimits);
        socket.on('data', watch.feed);
        this.sizeWatch = { watch, socket };
      }
      this.alive();
      ws.send(configureMessage(this.opts.topics));
      this.pingTimer = setInterval(() => {
        if (this.ws === ws && ws.readyState === WebSocket.OPEN) ping(ws, Buffer.alloc(0));
      }, this.opts.pingIntervalMs);
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws) return;
      this.alive();
      if (typeof ev.data === 'string') this.onText(ev.data);
    });
    ws.addEventListener('error', () => {
      // 'close' follows and carries the decision.
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      const oversize = this.sizeWatch?.watch.oversize;
      this.unwatchSizes();
      if (oversize) {
        const what =
          oversize.limit === 'bytes'
            ? `of at least ${oversize.bytes} bytes (limit ${this.wsLimits.maxMessageBytes})`
            : `in more than ${this.wsLimits.maxFragments} fragments`;
        this.fail(new CameraError(ErrorCodes.MESSAGE_TOO_LARGE, `The camera sent an event message ${what}; the event stream was closed (${oversize.limit === 'bytes' ? 1009 : 1008})`));
        return;
      }
      const status = upgraded ? null : this.handshakeStatus;
      this.handshakePath = null;
      if (status !== null && status !== 101) {
        this.fail(refusedHandshake(status));
        return;
      }
      this.fail(
        new CameraError(
          ErrorCodes.CONN_RESET,
          upgraded ? `The camera closed the event stream (code ${ev.code})` : `The event WebSocket could not be opened (code ${ev.code})`,
        ),
      );
    });
  }

  /**
   * The state item of each topic, as the camera declares it. Best effort: a
   * camera without the SOAP API (or an unparsable answer) leaves the rule from
   * the message itself; a failure that may pass (network, login) is tried
   * again on the next connects, a few times.
   */
  private async loadTopicList(signal: AbortSignal): Promise<void> {
    this.topicListAttempts++;
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    const timer = setTimeout(stop, TOPIC_LIST_TIMEOUT_MS);
    signal.addEventListener('abort', stop, { once: true });
    try {
      const list = await fetchTopicList(this.opts.client, ac.signal);
      this.topicStates = new Map(list.topics.map((t) => [t.topic, { stateful: t.stateful, stateKey: t.stateKey }]));
    } catch (e) {
      if (e instanceof CameraError && (e.code === ErrorCodes.NOT_FOUND || e.code === ErrorCodes.HTTP_STATUS)) {
        this.topicListAttempts = TOPIC_LIST_ATTEMPTS;
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }

  private async fetchToken(signal: AbortSignal): Promise<string> {
    let res: BufferResponse;
    try {
      res = await this.opts.client.fetchBuffer(WSSESSION_PATH, { signal, maxBytes: TOKEN_MAX_BYTES });
    } catch (e) {
      if (e instanceof CameraError && e.code === ErrorCodes.NOT_FOUND) {
        throw new CameraError(ErrorCodes.NOT_FOUND, 'The camera has no event WebSocket API (wssession.cgi: 404)', {
          statusCode: 404,
          hint: UNSUPPORTED_HINT,
          cause: e,
        });
      }
      throw e;
    }
    const token = parseWsSessionToken(res.body.toString('utf8'));
    if (!token) throw new CameraError(ErrorCodes.HTTP_STATUS, 'wssession.cgi answered without a session token', { hint: UNSUPPORTED_HINT });
    return token;
  }

  private onText(text: string): void {
    const m = parseMessage(text, Date.now, this.topicLookup);
    switch (m.kind) {
      case 'configured':
        if (this.openTimer) clearTimeout(this.openTimer);
        this.openTimer = null;
        this.connectedAt = Date.now();
        this.setState({ state: 'connected' });
        return;
      case 'configure-error':
        this.fail(new EventConfigError(m.code, m.message));
        return;
      case 'notify':
        if (this.shouldEmit(m.event)) this.emit('event', m.event);
        return;
      default:
        return;
    }
  }

  private shouldEmit(e: AxisEvent): boolean {
    if (e.stateKey === undefined) return true; // stateless: every notification is news
    const key = instanceKey(e);
    // On/off compared as booleans ("1" and "true" are one state); other states by their text.
    const state = e.active !== undefined ? String(e.active) : `=${e.data[e.stateKey]}`;
    const prev = this.lastState.get(key);
    this.lastState.set(key, state);
    const first = !this.seenThisConnect.has(key);
    this.seenThisConnect.add(key);
    if (first && this.opts.emitInitial) return true;
    return prev !== undefined && prev !== state;
  }

  /** Any sign of life (message, pong, open) pushes the idle deadline out. */
  private alive(): void {
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.fail(new CameraError(ErrorCodes.STALLED, `No message or pong from the camera for ${this.opts.idleTimeoutMs / 1000} s`));
    }, this.opts.idleTimeoutMs);
  }

  private unwatchSizes(): void {
    if (this.sizeWatch) this.sizeWatch.socket.off('data', this.sizeWatch.watch.feed);
    this.sizeWatch = null;
  }

  /** Drops the current attempt; returns its WebSocket (closing) if there was one. */
  private teardown(): WebSocket | null {
    this.unwatchSizes();
    this.handshakeSocket = null;
    for (const t of [this.openTimer, this.idleTimer]) if (t) clearTimeout(t);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.openTimer = this.idleTimer = this.pingTimer = null;
    this.abort?.abort();
    this.abort = null;
    const ws = this.ws;
    this.ws = null;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
      try {
        ws.close(1000);
      } catch {
        // CONNECTING sockets may refuse a close code on older undici; it is failing anyway.
      }
    }
    return ws;
  }

  private fail(err: CameraError): void {
    if (!this.running) return;
    const healthy = this.connectedAt > 0 && Date.now() - this.connectedAt >= this.opts.backoff.healthyResetMs;
    this.connectedAt = 0;
    this.teardown();
    const fatal = err instanceof EventConfigError || err.code === ErrorCodes.NOT_FOUND || err.code === ErrorCodes.INVALID_SETTING;
    if (fatal) {
      this.setState({ state: 'failed', error: err });
      return;
    }
    if (healthy) this.attempt = 0;
    const delay = retryDelay(this.attempt++, this.opts.backoff, err.code, this.opts.random);
    this.setState({ state: 'backoff', error: err, retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.running) void this.connect();
    }, delay);
  }
}

/** The camera answered the WebSocket handshake with `status` instead of 101. */
function refusedHandshake(status: number): CameraError {
  const message = `The camera refused the event WebSocket (HTTP ${status})`;
  switch (status) {
    case 401:
      return new CameraError(ErrorCodes.AUTH_FAILED, `${message}: the session token or the account was not accepted`, { statusCode: status });
    case 403:
      return new CameraError(ErrorCodes.FORBIDDEN, message, { statusCode: status });
    case 404:
      return new CameraError(ErrorCodes.NOT_FOUND, `${message}: no event WebSocket API`, { statusCode: status, hint: UNSUPPORTED_HINT });
    case 503:
      return new CameraError(ErrorCodes.BUSY, message, { statusCode: status });
    default:
      return new CameraError(ErrorCodes.HTTP_STATUS, message, { statusCode: status });
  }
}
