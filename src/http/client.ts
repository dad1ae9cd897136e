/**
 * HTTP client for one camera endpoint, on undici 7.
 *
 * One undici Agent per client so TLS options, timeouts and pooled sockets
 * belong to this camera alone, and close() can destroy them all. Streaming
 * responses are handed back unread; the session above owns the stall
 * watchdog, so there is no body timeout here (MJPEG bodies never end).
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import { Agent, buildConnector, errors as undiciErrors, request as undiciRequest } from 'undici';
import { CameraError, ErrorCodes } from '../errors';
import { AuthMode, AuthScheme, AuthState } from './auth';
import { buildBasicAuthorization } from './digest';
import { mapRequestError, statusError } from './map-error';
import { redactUrl } from './redact';
import { checkPin, normalizeFingerprint } from './tls-pin';
import { parseWwwAuthenticate } from './www-authenticate';

export interface CameraTlsOptions {
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer;
  /** Skip certificate verification entirely (rejectUnauthorized: false). Off by default. */
  allowSelfSigned?: boolean;
  /** Client certificate and key (PEM), for cameras that require one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** SNI / name to verify the certificate against, when it differs from host. */
  servername?: string;
  /**
   * Trust exactly the certificate with this SHA-256 fingerprint (`AB:CD:...`) and nothing else, in place of
   * CA-chain and host-name checks; wins over `ca` and `allowSelfSigned`. A different certificate fails with
   * ERR_TLS_PIN_MISMATCH before any request byte is sent.
   */
  pinSha256?: string;
}

export interface CameraEndpoint {
  protocol: 'http' | 'https';
  host: string;
  port?: number;
  username?: string;
  password?: string;
  /** Default 'auto': no credentials first, then whatever the 401 asks for (Digest preferred). */
  auth?: AuthMode;
  tls?: CameraTlsOptions;
  /** TCP (+TLS handshake) connect timeout. Default 10 000. */
  connectTimeoutMs?: number;
  /** From request sent until response headers. Default 10 000. */
  responseTimeoutMs?: number;
  /**
   * May Basic go out over plain http (readable by anyone on the network)? Default true, so existing
   * set-ups keep working; false refuses it with ERR_AUTH_FAILED and a hint. No effect on https.
   */
  allowBasicOverHttp?: boolean;
  /** Called once per client, when Basic is first sent over plain http: the caller warns the user. */
  onCleartextBasic?: () => void;
}

/** For a 200 web page where a stream or image was expected. */
export const WEB_PAGE_HINT =
  'The camera answered with a web page, not the video: often a login or portal page (check user, ' +
  "password and auth method), or the wrong path for a non-Axis source (set the custom path). Some servers show such a page " +
  'for a while after several refused logins.';

export type ExpectKind = 'multipart' | 'jpeg' | 'any';

export interface CameraRequestOptions {
  /** Default GET, or POST when a body is given. */
  method?: 'GET' | 'POST';
  /** Only strings and Buffers: an auth retry must be able to send the body again. */
  body?: string | Buffer;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Check the Content-Type of a 2xx answer. Default 'any'. */
  expect?: ExpectKind;
}

export interface FetchBufferOptions extends CameraRequestOptions {
  /** Largest body accepted. Default DEFAULT_MAX_BYTES. */
  maxBytes?: number;
}

export interface CameraResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  contentType: string;
  /** The unread response body. Errors while iterating are CameraErrors. */
  body: AsyncIterable<Buffer>;
  /** Stops the response and destroys its socket. Safe to call more than once. */
  abort(): void;
  /** Redacted: never contains credentials. */
  url: string;
}

export interface BufferResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  contentType: string;
  body: Buffer;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_RESPONSE_TIMEOUT_MS = 10_000;
/** fetchBuffer cap: a 4K JPEG at high quality stays well below this. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
/** How much of a wrong or failed body goes into the error: enough for a VAPIX error line. */
export const ERROR_BODY_MAX_BYTES = 200;
/** How long to wait for those bytes; a stream that sends less must not hold the error back. */
export const ERROR_BODY_TIMEOUT_MS = 1_000;
/** A 401 body is read and dropped so the socket can be reused; larger ones close the socket. */
const DISCARD_MAX_BYTES = 64 * 1024;
const DISCARD_TIMEOUT_MS = 1_000;
/** Passwords shorter than this are not scrubbed from error bodies (it would mangle ordinary text). */
const MIN_SCRUB_LENGTH = 3;

const noop = (): void => {};

function invalid(message: string): CameraError {
  return new CameraError(ErrorCodes.INVALID_SETTING, message);
}

function validTimeout(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw invalid(`${name} must be a positive number of milliseconds`);
  return v;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
  return out;
}

function firstHeader(h: Record<string, string | string[]>, name: string): string {
  const v = h[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/**
 * What may carry an MJPEG stream. Besides multipart/*, some servers leave the
 * stream unlabelled or generic (ffmpeg's `-listen 1` server sends
 * application/octet-stream); the parser then tells multipart from raw JPEG by
 * the first bytes. Text and HTML answers stay errors: they are what cameras
 * send for bad parameters or login pages.
 */
function isMultipart(ct: string): boolean {
  return /^\s*(multipart\/|application\/octet-stream|video\/(x-)?(motion-jpeg|mjpeg|mjpg)\b)/i.test(ct) || ct.trim() === '';
}

function isJpeg(ct: string): boolean {
  return /^\s*image\/(jpeg|jpg|pjpeg)\s*(;|$)/i.test(ct);
}

/** Reads at most `max` bytes (or until end / timeout), then destroys the body. */
function readSnippet(body: Readable, max: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const finish = (): void => {
      clearTimeout(timer);
      body.off('data', onData).off('end', finish).off('error', finish).off('close', finish);
      body.destroy();
      resolve(Buffer.concat(chunks).subarray(0, max));
    };
    const onData = (c: Buffer): void => {
      chunks.push(c);
      n += c.length;
      if (n >= max) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    body.on('data', onData).on('end', finish).on('error', finish).on('close', finish);
  });
}

/** Drops a small body so the connection can be reused; gives up (closing the socket) if it is big or slow. */
async function discard(body: Readable & { dump?: (o: object) => Promise<unknown> }): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), DISCARD_TIMEOUT_MS);
  try {
    if (body.dump) await body.dump({ limit: DISCARD_MAX_BYTES, signal: ac.signal });
    else body.destroy();
  } catch {
    body.destroy();
  } finally {
    clearTimeout(timer);
  }
}

type ResponseData = Awaited<ReturnType<typeof undiciRequest>>;

/**
 * undici's connector, remembering sockets still connecting. undici cannot
 * cancel a connect in progress (an abort waits for the handshake or the
 * connect timeout), so close() and an abort destroy these sockets directly.
 */
function trackingConnector(opts: buildConnector.BuildOptions, pending: Set<Socket>, pin: string | null, where: string): buildConnector.connector {
  const base = buildConnector(opts) as unknown as (o: buildConnector.Options, cb: buildConnector.Callback) => Socket;
  return (o, cb) => {
    const socket = base(o, (...args) => {
      pending.delete(socket);
      const [err, sock] = args;
      if (!err && pin && sock) {
        try {
          checkPin(sock as TLSSocket, pin, where);
        } catch (e) {
          sock.destroy();
          cb(e as Error, null);
          return;
        }
      }
      cb(...args);
    });
    pending.add(socket);
  };
}

export class CameraHttpClient {
  /** Scheme, host and port; never credentials. */
  readonly baseUrl: string;
  private readonly agent: Agent;
  private readonly auth: AuthState;
  private readonly secrets: string[];
  private readonly responseTimeoutMs: number;
  private readonly connecting = new Set<Socket>();
  /** Requests sent and still waiting for response headers. */
  private awaitingHeaders = 0;
  private closed = false;

  constructor(endpoint: CameraEndpoint) {
    const { protocol, host } = endpoint;
    if (protocol !== 'http' && protocol !== 'https') throw invalid('protocol must be http or https');
    // The host is never echoed: a "user:pass@host" typed into it would leak.
    if (typeof host !== 'string' || !host.trim() || /[@/\s?#]/.test(host)) {
      throw invalid('host must be a host name or IP address (no scheme, path or credentials)');
    }
    const port = endpoint.port;
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw invalid('port must be an integer from 1 to 65535');
    }
    const auth = endpoint.auth ?? 'auto';
    if (!['auto', 'basic', 'digest', 'none'].includes(auth)) throw invalid('auth must be auto, basic, digest or none');
    const connectTimeout = validTimeout('connectTimeoutMs', endpoint.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
    const headersTimeout = validTimeout('responseTimeoutMs', endpoint.responseTimeoutMs, DEFAULT_RESPONSE_TIMEOUT_MS);

    const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
    const hostForUrl = bare.includes(':') ? `[${bare}]` : bare;
    const defaultPort = protocol === 'https' ? 443 : 80;
    this.baseUrl = `${protocol}://${hostForUrl}${port !== undefined && port !== defaultPort ? `:${port}` : ''}`;

    // Before the Agent: a refused setting must not leave one behind.
    const cleartextBasic = { cleartext: protocol === 'http', allow: endpoint.allowBasicOverHttp !== false };
    this.auth = new AuthState(
      auth,
      endpoint.username,
      endpoint.password,
      endpoint.onCleartextBasic ? { ...cleartextBasic, onSend: endpoint.onCleartextBasic } : cleartextBasic,
    );

    const tls = endpoint.tls ?? {};
    const connect: Record<string, unknown> = { timeout: connectTimeout };
    let pin: string | null = null;
    if (protocol === 'https' && tls.pinSha256 !== undefined && tls.pinSha256 !== '') {
      pin = normalizeFingerprint(tls.pinSha256);
      if (!pin) throw invalid('pinned certificate fingerprint must be 64 hex digits (SHA-256), colons optional');
    }
    if (protocol === 'https') {
      // A pin is checked on the socket (trackingConnector): the chain check would refuse the self-signed certificate first.
      connect.rejectUnauthorized = pin === null && tls.allowSelfSigned !== true;
      // A resumed TLS session shows no peer certificate to check: every pinned connection does a full handshake.
      if (pin) connect.maxCachedSessions = 0;
      if (tls.ca !== undefined) connect.ca = tls.ca;
      if (tls.cert !== undefined) connect.cert = tls.cert;
      if (tls.key !== undefined) connect.key = tls.key;
      if (tls.servername !== undefined) connect.servername = tls.servername;
    }
    this.agent = new Agent({
      connect: trackingConnector(connect as buildConnector.BuildOptions, this.connecting, pin, this.baseUrl),
      headersTimeout,
      bodyTimeout: 0,
    });
    const pw = endpoint.password ?? '';
    this.secrets =
      pw.length < MIN_SCRUB_LENGTH
        ? []
        : [...new Set([buildBasicAuthorization(endpoint.username ?? '', pw).slice('Basic '.length), pw, encodeURIComponent(pw)])];
    this.responseTimeoutMs = headersTimeout;
  }

  /** Nonce count of the last Digest answer; 0 before any. */
  get digestNonceCount(): number {
    return this.auth.digestNonceCount;
  }

  /**
   * Sends a request, answering a 401 challenge once, and returns the response
   * with its body unread. Non-2xx statuses and wrong content types throw.
   */
  async request(pathAndQuery: string, opts: CameraRequestOptions = {}): Promise<CameraResponse> {
    return this.send(pathAndQuery, opts, undefined);
  }

  /** Reads a whole small response (JSON, text, a JPEG snapshot) with a byte cap. */
  async fetchBuffer(pathAndQuery: string, opts: FetchBufferOptions = {}): Promise<BufferResponse> {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw invalid('maxBytes must be a positive integer');
    // Unlike streams, a small response that stops mid-body is an error: bound the idle time.
    const res = await this.send(pathAndQuery, opts, this.responseTimeoutMs);
    const tooLarge = (): CameraError =>
      new CameraError(ErrorCodes.FRAME_TOO_LARGE, `response from ${res.url} is larger than ${maxBytes} bytes`, {
        statusCode: res.statusCode,
        hint: 'The response is larger than the configured limit; raise the limit or lower the resolution.',
      });
    const declared = Number(firstHeader(res.headers, 'content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.abort();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const chunk of res.body) {
      n += chunk.length;
      if (n > maxBytes) {
        res.abort();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    return { statusCode: res.statusCode, headers: res.headers, contentType: res.contentType, body: Buffer.concat(chunks, n) };
  }

  /**
   * The undici dispatcher this client's requests go through, for protocols
   * the client does not speak itself (the event WebSocket): they then carry
   * the same TLS settings and are closed with the client.
   */
  get dispatcher(): Agent {
    return this.agent;
  }

  /** Destroys the agent and every socket it holds, including live streams. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropConnecting();
    await this.agent.destroy().catch(noop);
  }

  /** Destroys sockets still connecting; their queued requests fail with ClientDestroyedError (ERR_ABORTED). */
  private dropConnecting(): void {
    for (const s of this.connecting) s.destroy(new undiciErrors.ClientDestroyedError());
    this.connecting.clear();
  }

  /**
   * undici's request(), but an abort rejects at once even while connecting.
   * If ours is the only request waiting, its half-open socket is destroyed too;
   * otherwise that socket is left to finish and serve the other requests.
   */
  private dispatch(url: string, options: Parameters<typeof undiciRequest>[1], signal: AbortSignal | undefined, redacted: string): Promise<ResponseData> {
    const p = undiciRequest(url, options);
    if (!signal) return p;
    return new Promise<ResponseData>((resolve, reject) => {
      const onAbort = (): void => {
        reject(new CameraError(ErrorCodes.ABORTED, `request aborted: ${redacted}`, { cause: signal.reason }));
        if (this.awaitingHeaders === 1) this.dropConnecting();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (res) => {
          signal.removeEventListener('abort', onAbort);
          if (signal.aborted) (res.body as unknown as Readable).on('error', noop).destroy();
          else resolve(res);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /** Masks the password (raw, URL-encoded, inside a Basic token) in text a camera sent back. */
  private scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }

  private async send(pathAndQuery: string, opts: CameraRequestOptions, bodyTimeout: number | undefined): Promise<CameraResponse> {
    if (typeof pathAndQuery !== 'string' || !pathAndQuery.startsWith('/') || /[\s\0]/.test(pathAndQuery)) {
      throw invalid('request path must start with "/" and contain no spaces or control characters');
    }
    const url = this.baseUrl + pathAndQuery;
    // Secrets can also sit in a path segment or an unrecognised parameter name.
    const redacted = this.scrub(redactUrl(url));
    const { signal, body } = opts;
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      throw invalid('request body must be a string or a Buffer');
    }
    const method = opts.method ?? (body !== undefined ? 'POST' : 'GET');
    const expect = opts.expect ?? 'any';
    if (this.closed) throw new CameraError(ErrorCodes.ABORTED, `client closed: ${redacted}`);
    if (signal?.aborted) throw new CameraError(ErrorCodes.ABORTED, `request aborted: ${redacted}`, { cause: signal.reason });

    const authReq = { method, uri: pathAndQuery, ...(body !== undefined ? { body } : {}) };
    let authorization = this.auth.preemptive(authReq);
    const answered = new Set<AuthScheme>();

    // Bounded: every answer() adds a scheme to `answered` or throws.
    for (;;) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) {
        if (!(authorization && k.toLowerCase() === 'authorization')) headers[k] = v;
      }
      if (authorization) headers.authorization = authorization;

      let res: ResponseData;
      this.awaitingHeaders++;
      try {
        res = await this.dispatch(
          url,
          {
            dispatcher: this.agent,
            method,
            headers,
            ...(body !== undefined ? { body } : {}),
            ...(signal ? { signal } : {}),
            ...(bodyTimeout !== undefined ? { bodyTimeout } : {}),
          },
          signal,
          redacted,
        );
      } catch (e) {
        throw mapRequestError(e, redacted, { aborted: signal?.aborted === true || this.closed });
      } finally {
        this.awaitingHeaders--;
      }
      const resBody = res.body as unknown as Readable;
      // undici emits 'error' on a destroyed body; without a listener that would crash the process.
      resBody.on('error', noop);
      const resHeaders = flattenHeaders(res.headers as Record<string, string | string[] | undefined>);

      if (res.statusCode === 401) {
        const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
        await discard(resBody);
        authorization = this.auth.answer(challenges, authReq, authorization, answered, redacted);
        if (signal?.aborted) throw new CameraError(ErrorCodes.ABORTED, `request aborted: ${redacted}`);
        continue;
      }

      const contentType = firstHeader(resHeaders, 'content-type');
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const text = await this.snippet(resBody);
        const input: Parameters<typeof statusError>[0] = { statusCode: res.statusCode, redactedUrl: redacted, headers: resHeaders, body: text };
        if (res.statusText) input.statusText = res.statusText;
        const location = firstHeader(resHeaders, 'location');
        const httpsPort = res.statusCode >= 300 && res.statusCode < 400 ? this.httpsRedirectPort(location) : null;
        if (httpsPort !== null) {
          throw new CameraError(
            ErrorCodes.HTTPS_REQUIRED,
            `HTTP ${res.statusCode} from ${redacted}: the camera redirects to https (port ${httpsPort}), so it accepts only HTTPS`,
            { statusCode: res.statusCode },
          );
        }
        if (location) input.redactedUrl = `${redacted} (redirect to ${redactUrl(location)})`;
        throw statusError(input);
      }
      if (expect === 'multipart' && !isMultipart(contentType)) {
        throw await this.wrongContent(resBody, ErrorCodes.NOT_MJPEG, 'an MJPEG stream (multipart/x-mixed-replace)', contentType, redacted, res.statusCode);
      }
      if (expect === 'jpeg' && !isJpeg(contentType)) {
        throw await this.wrongContent(resBody, ErrorCodes.NOT_JPEG, 'a JPEG image (image/jpeg)', contentType, redacted, res.statusCode);
      }
      return this.wrap(res.statusCode, resHeaders, contentType, resBody, redacted, signal);
    }
  }

  /** The port of a redirect from our plain http to https on the same host, else null. */
  private httpsRedirectPort(location: string): number | null {
    if (!this.baseUrl.startsWith('http:') || !location) return null;
    let to: URL;
    try {
      to = new URL(location, this.baseUrl);
    } catch {
      return null;
    }
    if (to.protocol !== 'https:' || to.hostname !== new URL(this.baseUrl).hostname) return null;
    return to.port ? Number(to.port) : 443;
  }

  private async snippet(body: Readable): Promise<string> {
    const buf = await readSnippet(body, ERROR_BODY_MAX_BYTES, ERROR_BODY_TIMEOUT_MS);
    return this.scrub(buf.toString('utf8').replace(/\s+/g, ' ').trim());
  }

  private async wrongContent(
    body: Readable,
    code: typeof ErrorCodes.NOT_MJPEG | typeof ErrorCodes.NOT_JPEG,
    wanted: string,
    contentType: string,
    redacted: string,
    statusCode: number,
  ): Promise<CameraError> {
    const text = await this.snippet(body);
    const got = contentType ? `Content-Type ${this.scrub(contentType)}` : 'no Content-Type';
    const msg = `expected ${wanted} but got ${got} from ${redacted}${text ? `: ${text}` : ''}`;
    // A web page is rarely about camera number or resolution: say what it usually is.
    const page = /^text\/html/i.test(contentType) || /^<(!doctype html|html)/i.test(text);
    return new CameraError(code, msg, { statusCode, body: text, ...(page ? { hint: WEB_PAGE_HINT } : {}) });
  }

  private wrap(
    statusCode: number,
    headers: Record<string, string | string[]>,
    contentType: string,
    body: Readable,
    redacted: string,
    signal: AbortSignal | undefined,
  ): CameraResponse {
    let abortedByUs = false;
    const abort = (): void => {
      abortedByUs = true;
      body.destroy();
    };
    async function* iterate(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of body) yield chunk as Buffer;
      } catch (e) {
        throw mapRequestError(e, redacted, { aborted: abortedByUs || signal?.aborted === true });
      }
    }
    return { statusCode, headers, contentType, body: iterate(), abort, url: redacted };
  }
}
