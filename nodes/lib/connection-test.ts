/**
 * The editor's "Test connection" (POST /axmjpeg-camera/test).
 *
 * Anyone with axmjpeg-camera.write may call it with any settings, so it is an
 * HTTP client for hire unless held in: a stored password goes only to the
 * address the camera is deployed with, and so does its tls-config node
 * (which may hold a client certificate); the answer says what
 * a camera test needs (status, content type, model, frame size, a
 * classified error) and never what another server sent. Each test is
 * logged, and their rate is capped so it is no port scanner.
 */
import type { Node, NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { CameraEndpoint, CameraHttpClient, probeCertificate, type CertificateInfo } from '../../src/http';
import { StreamSettings, buildRequestTarget } from '../../src/vapix-url';
import { fetchSnapshot, firstStreamFrame } from '../../src/snapshot';
import { fetchDeviceInfo } from '../../src/device-info';
import { fetchVideoSources, type VideoSource } from '../../src/video-sources';
import { jpegSize } from '../../src/jpeg/jpeg-info';
import { CameraError, ErrorCode, ErrorCodes } from '../../src/errors';
import { asTlsConfigNode, Credentials, destinationKey, endpointFrom, EndpointSettings } from './endpoint';

/** The editor shows this instead of a stored password, and sends it back when the field is untouched. */
export const PASSWORD_PLACEHOLDER = '__PWRD__';
export const TEST_TIMEOUT_MS = 10_000;
/** A person pressing the button needs a few a minute; a port scan needs thousands. settings.js: axmjpegCameraTestsPerMinute. */
export const MAX_TESTS_PER_MINUTE = 20;
/** A camera error text is one short line; anything longer is not echoed. */
const MAX_DETAIL_CHARS = 120;

/** What a deployed axmjpeg-camera node registered about itself. */
export interface DeployedCamera {
  /** As deployed, with its credentials; null when the deployed settings are invalid. */
  endpoint: CameraEndpoint | null;
  /** The deployed settings the destination key is made of. */
  def: EndpointSettings & { tls?: string };
}

export interface TestRequest extends EndpointSettings, Credentials {
  id?: unknown;
  tls?: string;
  /** 'jpeg-poll': the source is a snapshot URL; one GET of it is the test. */
  sourceType?: string;
}

/** Why a test was refused before any connection; the editor shows a localized text for each. */
export type RefusalReason = 'retype-password' | 'deploy-tls';

/** The certificate an https camera presented: fingerprint and dates, computed here, never its text fields. */
export interface TestCertificate extends CertificateInfo {
  /** It is the certificate pinned in these settings. */
  pinned: boolean;
}

/** Time for the certificate look-up that precedes an https test. */
export const CERT_PROBE_TIMEOUT_MS = 5_000;

/** Plain http failed, and the same host speaks HTTPS here: the editor offers to switch. */
export interface HttpsSuggestion {
  protocol: 'https';
  port: number;
  certificate: TestCertificate;
}

/** http failures that an HTTPS-only camera gives (a redirect, nothing on port 80, TLS bytes on the port). */
const HTTPS_ONLY_SIGNS = new Set<ErrorCode>([ErrorCodes.HTTPS_REQUIRED, ErrorCodes.CONN_REFUSED, ErrorCodes.CONN_RESET, ErrorCodes.BAD_HTTP]);

export function httpsOnlyHint(port: number): string {
  return (
    `The camera answers over HTTPS on port ${port}: it accepts only HTTPS (the AXIS OS 13 default). ` +
    'Switch to https (the button below), check and trust its certificate, then test again.'
  );
}

export interface TestFailure {
  ok: false;
  certificate?: TestCertificate;
  suggest?: HttpsSuggestion;
  code: ErrorCode;
  message: string;
  hint: string;
  statusCode?: number;
  contentType?: string;
  /** A camera's own error text (`<!-- Camera 9 not available. -->`), never another server's body. */
  detail?: string;
  reason?: RefusalReason;
}

export interface TestSuccess {
  ok: true;
  certificate?: TestCertificate;
  /** The device's video sources and view areas (`camera=` values, names, resolutions), when it lists them. */
  sources?: VideoSource[];
  model: string | null;
  firmware: string | null;
  width: number | null;
  height: number | null;
  frameBytes: number;
  /** Set when the camera took the password as Basic over plain http. */
  warning?: 'basic-over-http';
}

/** The inner text of a VAPIX error comment, the one body form worth showing; anything else is null. */
export function vapixDetail(body: string | undefined): string | undefined {
  const m = /^<!--\s*([^<>]{1,200}?)\s*-->$/.exec((body ?? '').trim());
  const text = m?.[1];
  return text && text.length <= MAX_DETAIL_CHARS && /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}

/** Codes whose message describes an answer's content: rebuilt from status and type only. */
const ANSWER_CODES = new Set<ErrorCode>([
  ErrorCodes.NOT_MJPEG,
  ErrorCodes.NOT_JPEG,
  ErrorCodes.FORBIDDEN,
  ErrorCodes.NOT_FOUND,
  ErrorCodes.BUSY,
  ErrorCodes.HTTP_STATUS,
  ErrorCodes.UNKNOWN,
]);

/**
 * The error as the editor may see it. Messages of transport, TLS, auth and
 * setting errors are our own words around the address that was asked for;
 * those about an answer could quote its body, status text or Location, so
 * they are rebuilt.
 */
export function publicFailure(err: CameraError, baseUrl: string): TestFailure {
  const out: TestFailure = { ok: false, code: err.code, message: err.message, hint: err.hint };
  if (err.statusCode !== undefined) out.statusCode = err.statusCode;
  if (!ANSWER_CODES.has(err.code)) return out;
  // The client words it "got Content-Type <type>"; only a bare media type is passed on.
  const type = /got Content-Type ([\w.+-]+\/[\w.+-]+)/.exec(err.message)?.[1]?.toLowerCase();
  if (type) out.contentType = type;
  const status = err.statusCode !== undefined ? ` HTTP ${err.statusCode}` : '';
  const detail = vapixDetail(err.body);
  if (detail) out.detail = detail;
  switch (err.code) {
    case ErrorCodes.NOT_MJPEG:
    case ErrorCodes.NOT_JPEG: {
      const wanted = err.code === ErrorCodes.NOT_MJPEG ? 'an MJPEG stream' : 'a JPEG image';
      out.message = `${baseUrl} answered${status} ${type ? `with ${type}` : 'without a Content-Type'}, not ${wanted}`;
      break;
    }
    case ErrorCodes.UNKNOWN:
      out.message = `Test connection to ${baseUrl} failed unexpectedly`;
      break;
    default:
      out.message = `${baseUrl} answered${status || ' with an error'}${err.statusCode !== undefined && err.statusCode >= 300 && err.statusCode < 400 ? ' (a redirect)' : ''}`;
  }
  return out;
}

const REFUSAL_HINTS: Record<RefusalReason, string> = {
  'retype-password': 'Type the password into the password field and test again (or deploy these settings first).',
  'deploy-tls': 'Deploy the camera with these settings and this TLS config node, then test again.',
};

function refusal(reason: RefusalReason, message: string): TestFailure {
  return { ok: false, code: ErrorCodes.INVALID_SETTING, reason, message, hint: REFUSAL_HINTS[reason] };
}

/** Sliding one-minute window over all callers: tests are rare and come from people. */
export function rateLimiter(perMinute: number, now: () => number = Date.now): () => boolean {
  const times: number[] = [];
  return () => {
    const t = now();
    while (times.length && t - (times[0] as number) >= 60_000) times.shift();
    if (times.length >= perMinute) return false;
    times.push(t);
    return true;
  };
}

/** An id fit for a log line (node ids are hex; anything else is not echoed). */
function logId(id: unknown): string {
  if (id === undefined || id === null || id === '') return '(new)';
  return typeof id === 'string' && /^[\w.-]{1,64}$/.test(id) ? id : '(invalid id)';
}

export interface TestEndpointOptions {
  /** The deployed axmjpeg-camera node `node`, or undefined for any other node. */
  deployed(node: Node | null): DeployedCamera | undefined;
  /** Stream settings from the request, checked (throws ERR_INVALID_SETTING). */
  streamSettings(body: TestRequest): StreamSettings;
}

export function registerTestEndpoint(RED: NodeAPI, opts: TestEndpointOptions): void {
  const setting = Number((RED.settings as unknown as Record<string, unknown>).axmjpegCameraTestsPerMinute);
  const perMinute = Number.isInteger(setting) && setting > 0 ? setting : MAX_TESTS_PER_MINUTE;
  const allow = rateLimiter(perMinute);

  /**
   * The endpoint to test, with credentials and TLS per the rules above, or a
   * refusal made before any connection. Throws ERR_INVALID_SETTING for bad settings.
   */
  function endpointFor(body: TestRequest): { ep: CameraEndpoint; stored: boolean } | { refused: TestFailure; where: string } {
    const id = typeof body.id === 'string' && body.id ? body.id : '';
    const cam = id ? opts.deployed(RED.nodes.getNode(id)) : undefined;
    const tlsId = body.protocol === 'https' && typeof body.tls === 'string' ? body.tls : '';
    let ep = endpointFrom(body, {}, null);
    // Tls id, CA and self-signed choice are part of the key: a camera's secrets go nowhere it was not deployed to.
    const asDeployed = !!cam?.endpoint && destinationKey(cam.endpoint, cam.def) === destinationKey(ep, body);
    if (tlsId) {
      // A tls-config node may hold another service's client certificate: it is lent only to its own camera's address.
      if (!asDeployed) {
        return {
          where: addressOf(ep),
          refused: refusal(
            'deploy-tls',
            'Test connection uses a TLS config node only with the camera and address it is deployed with: deploy these settings, then test again',
          ),
        };
      }
      ep = endpointFrom(body, {}, asTlsConfigNode(RED.nodes.getNode(tlsId)));
    }
    const user = typeof body.user === 'string' ? body.user : undefined;
    if (body.password !== PASSWORD_PLACEHOLDER) {
      if (user) ep.username = user;
      if (typeof body.password === 'string' && body.password) ep.password = body.password;
      return { ep, stored: false };
    }
    if (!asDeployed || !cam?.endpoint) {
      return {
        where: addressOf(ep),
        refused: refusal(
          'retype-password',
          'The stored password is sent only to the address the camera is deployed with, and host, port, protocol or certificate settings differ (or the camera is not deployed yet): re-type the password to test these settings',
        ),
      };
    }
    const u = user ?? cam.endpoint.username;
    if (u) ep.username = u;
    if (cam.endpoint.password) ep.password = cam.endpoint.password;
    // With the stored password the deployed camera's stricter choice holds.
    if (cam.endpoint.allowBasicOverHttp === false) ep.allowBasicOverHttp = false;
    return { ep, stored: true };
  }

  async function run(body: TestRequest, log: (result: string) => void): Promise<TestSuccess | TestFailure> {
    const resolved = endpointFor(body);
    if ('refused' in resolved) {
      log(`${resolved.where}: refused (${resolved.refused.reason})`);
      return resolved.refused;
    }
    const { ep, stored } = resolved;
    let basicInClear = false;
    ep.connectTimeoutMs = TEST_TIMEOUT_MS;
    ep.responseTimeoutMs = TEST_TIMEOUT_MS;
    ep.onCleartextBasic = () => (basicInClear = true);
    const settings = opts.streamSettings(body);
    const client = new CameraHttpClient(ep);
    // What to trust: shown on success and failure alike, so a self-signed camera can be pinned from here.
    let certificate: TestCertificate | undefined;
    if (ep.protocol === 'https') {
      try {
        const info = await probeCertificate({
          host: ep.host,
          port: ep.port ?? 443,
          timeoutMs: CERT_PROBE_TIMEOUT_MS,
          ...(ep.tls?.servername ? { servername: ep.tls.servername } : {}),
          ...(ep.tls?.cert && ep.tls.key ? { cert: ep.tls.cert, key: ep.tls.key } : {}),
        });
        certificate = { ...info, pinned: ep.tls?.pinSha256 === info.sha256 };
      } catch {
        // No TLS server there: the test below reports why.
      }
    }
    const target = `${addressOf(ep)}${stored ? ' (stored password)' : ''}`;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), TEST_TIMEOUT_MS);
    try {
      let info: { model?: string; firmware?: string } | null = null;
      if (!settings.customPath) {
        try {
          info = await fetchDeviceInfo(client, ac.signal);
        } catch (e) {
          // Auth and network failures are the answer; a missing API is not.
          if (!(e instanceof CameraError) || ![ErrorCodes.NOT_FOUND, ErrorCodes.HTTP_STATUS].includes(e.code as never)) throw e;
        }
      }
      const frame =
        body.sourceType === 'jpeg-poll'
          ? await fetchSnapshot(client, settings, { signal: ac.signal, jpegUrl: true })
          : await firstStreamFrame(client, buildRequestTarget(settings, 'mjpeg'), ac.signal);
      const size = jpegSize(frame);
      const ok: TestSuccess = {
        ok: true,
        model: short(info?.model),
        firmware: short(info?.firmware),
        width: size?.width ?? null,
        height: size?.height ?? null,
        frameBytes: frame.length,
      };
      if (basicInClear) ok.warning = 'basic-over-http';
      if (certificate) ok.certificate = certificate;
      if (!settings.customPath && body.sourceType !== 'jpeg-poll') {
        // Best effort: the test passed; a device without these parameters simply lists nothing.
        const sources = await fetchVideoSources(client, ac.signal).catch(() => null);
        if (sources) ok.sources = sources;
      }
      log(`${target}: ok${basicInClear ? ', password sent as Basic over http' : ''}`);
      return ok;
    } catch (e) {
      const err =
        e instanceof CameraError
          ? e
          : ac.signal.aborted
            ? new CameraError(ErrorCodes.RESPONSE_TIMEOUT, `No answer within ${TEST_TIMEOUT_MS / 1000} s`)
            : new CameraError(ErrorCodes.UNKNOWN, 'unexpected');
      log(`${target}: ${err.code}${err.statusCode !== undefined ? ` (HTTP ${err.statusCode})` : ''}`);
      const failure = publicFailure(err, client.baseUrl);
      if (certificate) failure.certificate = certificate;
      if (ep.protocol === 'http' && HTTPS_ONLY_SIGNS.has(err.code)) {
        const suggest = await findHttps(ep, err);
        if (suggest) {
          failure.suggest = suggest;
          failure.hint = httpsOnlyHint(suggest.port);
          log(`${target}: answers over https on port ${suggest.port}`);
        }
      }
      return failure;
    } finally {
      clearTimeout(timer);
      await client.close().catch(() => {});
    }
  }

  RED.httpAdmin.post('/axmjpeg-camera/test', RED.auth.needsPermission('axmjpeg-camera.write'), async (req: Request, res: Response) => {
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as TestRequest;
    const log = (result: string): void => RED.log.info(`[axmjpeg-camera] Test connection, node ${logId(body.id)}: ${result}`);
    if (!allow()) {
      log('refused (rate limit)');
      res.status(429).json({ ok: false, reason: 'rate-limit', message: `At most ${perMinute} connection tests a minute; wait a little` });
      return;
    }
    try {
      res.json(await run(body, log));
    } catch (e) {
      // Settings refused before any connection (bad host, port, CA...): our own words, safe to show.
      const err = e instanceof CameraError ? e : new CameraError(ErrorCodes.UNKNOWN, 'Test connection failed unexpectedly');
      log(`not started (${err.code})`);
      res.json({ ok: false, code: err.code, message: err.message, hint: err.hint } satisfies TestFailure);
    }
  });
}

export const SOURCES_TIMEOUT_MS = 10_000;

/**
 * GET /axmjpeg-camera/<id>/sources: the deployed camera's video sources for
 * the stream and snapshot editors' camera picker. Only a deployed camera,
 * with its own stored settings (no address or password comes from the
 * request); the answer is names and resolutions, errors in our words.
 */
export function registerSourcesEndpoint(RED: NodeAPI, camera: (n: Node | null) => { videoSources(signal?: AbortSignal): Promise<VideoSource[]> } | undefined): void {
  const allow = rateLimiter(MAX_TESTS_PER_MINUTE);
  RED.httpAdmin.get('/axmjpeg-camera/:id/sources', RED.auth.needsPermission('axmjpeg-camera.read'), async (req: Request, res: Response) => {
    const id = String(req.params['id'] ?? '');
    const cam = /^[\w.-]{1,64}$/.test(id) ? camera(RED.nodes.getNode(id)) : undefined;
    if (!cam) {
      res.status(404).json({ ok: false, reason: 'not-deployed', message: 'No deployed axmjpeg-camera with that id: deploy the camera first' });
      return;
    }
    if (!allow()) {
      res.status(429).json({ ok: false, reason: 'rate-limit', message: `At most ${MAX_TESTS_PER_MINUTE} look-ups a minute; wait a little` });
      return;
    }
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), SOURCES_TIMEOUT_MS);
    try {
      res.json({ ok: true, sources: await cam.videoSources(ac.signal) });
    } catch (e) {
      const err = e instanceof CameraError ? e : new CameraError(ErrorCodes.UNKNOWN, 'unexpected');
      const f = publicFailure(err, 'the camera');
      res.json({ ok: false, code: f.code, message: f.message, hint: f.hint });
    } finally {
      clearTimeout(timer);
    }
  });
}

/**
 * Where an http camera that failed speaks HTTPS: the port it redirected to,
 * TLS on the same port, or 443. Handshakes only, nothing sent, no credentials.
 */
async function findHttps(ep: CameraEndpoint, err: CameraError): Promise<HttpsSuggestion | null> {
  const redirect = /redirects to https \(port (\d{1,5})\)/.exec(err.message)?.[1];
  const ports = [...new Set([redirect ? Number(redirect) : null, ep.port ?? 80, 443].filter((p): p is number => p !== null))];
  for (const port of ports) {
    try {
      const info = await probeCertificate({ host: ep.host, port, timeoutMs: CERT_PROBE_TIMEOUT_MS });
      return { protocol: 'https', port, certificate: { ...info, pinned: false } };
    } catch {
      // Not there: the next candidate.
    }
  }
  return null;
}

/** scheme://host:port for the log, port always shown (the client's baseUrl drops default ports). */
function addressOf(ep: CameraEndpoint): string {
  return `${ep.protocol}://${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`;
}

/** Model and firmware as shown to the editor: short printable text. */
function short(v: unknown): string | null {
  if (typeof v !== 'string' || !v) return null;
  return v.replace(/[^\x20-\x7e]/g, '').slice(0, 80) || null;
}
