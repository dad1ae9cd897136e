/**
 * Turns transport failures (Node socket/TLS errors, undici errors, aborts)
 * and HTTP statuses into CameraErrors with stable codes. Messages carry the
 * redacted URL only.
 */
import { CameraError, ErrorCode, ErrorCodes } from '../errors';

/** Certificate errors that mean "nobody you trust signed this": fixable with a CA or allowSelfSigned. */
const SELF_SIGNED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

/** Other certificate / handshake failures. */
const TLS_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'EPROTO',
  'UND_ERR_PRX_TLS',
]);

const SOCKET_CODE_MAP: Record<string, ErrorCode> = {
  ECONNREFUSED: ErrorCodes.CONN_REFUSED,
  ENOTFOUND: ErrorCodes.DNS,
  EAI_AGAIN: ErrorCodes.DNS,
  EAI_FAIL: ErrorCodes.DNS,
  EAI_NONAME: ErrorCodes.DNS,
  EHOSTUNREACH: ErrorCodes.HOST_UNREACHABLE,
  ENETUNREACH: ErrorCodes.HOST_UNREACHABLE,
  EHOSTDOWN: ErrorCodes.HOST_UNREACHABLE,
  ENETDOWN: ErrorCodes.HOST_UNREACHABLE,
  EADDRNOTAVAIL: ErrorCodes.HOST_UNREACHABLE,
  ECONNRESET: ErrorCodes.CONN_RESET,
  EPIPE: ErrorCodes.CONN_RESET,
  ECONNABORTED: ErrorCodes.CONN_RESET,
  UND_ERR_SOCKET: ErrorCodes.CONN_RESET,
  UND_ERR_CLOSED: ErrorCodes.CONN_RESET,
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: ErrorCodes.CONN_RESET,
  ETIMEDOUT: ErrorCodes.CONNECT_TIMEOUT,
  UND_ERR_CONNECT_TIMEOUT: ErrorCodes.CONNECT_TIMEOUT,
  UND_ERR_HEADERS_TIMEOUT: ErrorCodes.RESPONSE_TIMEOUT,
  UND_ERR_BODY_TIMEOUT: ErrorCodes.RESPONSE_TIMEOUT,
  UND_ERR_ABORTED: ErrorCodes.ABORTED,
  UND_ERR_ABORT: ErrorCodes.ABORTED,
  UND_ERR_DESTROYED: ErrorCodes.ABORTED,
  ABORT_ERR: ErrorCodes.ABORTED,
  // llhttp refused the answer (HPE_* codes are matched by prefix below).
  UND_ERR_HEADERS_OVERFLOW: ErrorCodes.BAD_HTTP,
  UND_ERR_RES_EXCEEDED_MAX_SIZE: ErrorCodes.BAD_HTTP,
};

const DESCRIPTIONS: Partial<Record<ErrorCode, string>> = {
  ERR_CONN_REFUSED: 'connection refused',
  ERR_DNS: 'host name not found',
  ERR_HOST_UNREACHABLE: 'host unreachable',
  ERR_CONN_RESET: 'connection closed by the camera',
  ERR_CONNECT_TIMEOUT: 'connect timeout',
  ERR_RESPONSE_TIMEOUT: 'no response in time',
  ERR_ABORTED: 'request aborted',
  ERR_TLS_SELF_SIGNED: 'untrusted (self-signed) certificate',
  ERR_TLS: 'TLS handshake failed',
  ERR_BAD_HTTP: 'not a valid HTTP answer',
};

function errCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

function isTlsFailure(code: string | undefined, e: unknown): boolean {
  if (!code) return false;
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return true;
  // OpenSSL errors carry a `library` field ("SSL routines").
  return typeof (e as { library?: unknown }).library === 'string';
}

function classify(e: unknown): ErrorCode {
  // Errors may be wrapped (AggregateError from happy-eyeballs, `cause` chains).
  const seen = new Set<unknown>();
  let cur: unknown = e;
  while (cur && typeof cur === 'object' && !seen.has(cur)) {
    seen.add(cur);
    const code = errCode(cur);
    if (code && SELF_SIGNED_CODES.has(code)) return ErrorCodes.TLS_SELF_SIGNED;
    if (isTlsFailure(code, cur)) return ErrorCodes.TLS;
    if (code && SOCKET_CODE_MAP[code]) return SOCKET_CODE_MAP[code] as ErrorCode;
    if (code?.startsWith('HPE_') || (cur as Error).name === 'HTTPParserError') return ErrorCodes.BAD_HTTP;
    if ((cur as Error).name === 'AbortError' || (cur as Error).name === 'TimeoutError') return ErrorCodes.ABORTED;
    const inner = (cur as AggregateError).errors;
    if (Array.isArray(inner) && inner.length) {
      const first = inner.map(classify).find((c) => c !== ErrorCodes.UNKNOWN);
      if (first) return first;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return ErrorCodes.UNKNOWN;
}

/**
 * Short detail text from the underlying error. Node and undici messages hold
 * addresses and reasons, never the request headers, so they are safe to show.
 */
function detail(e: unknown): string {
  const code = errCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

/** Maps any thrown value from a request to a CameraError; CameraErrors pass through. */
export function mapRequestError(e: unknown, redactedUrl: string, opts: { aborted?: boolean } = {}): CameraError {
  if (e instanceof CameraError) return e;
  const code = opts.aborted ? ErrorCodes.ABORTED : classify(e);
  const what = DESCRIPTIONS[code] ?? 'request failed';
  return new CameraError(code, `${what}: ${redactedUrl} (${detail(e)})`, { cause: e });
}

export interface StatusErrorInput {
  statusCode: number;
  statusText?: string;
  redactedUrl: string;
  headers: Record<string, string | string[]>;
  /** Trimmed start of the response body. */
  body?: string;
}

function header(h: Record<string, string | string[]>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Non-2xx (other than 401, which auth handles) → CameraError. */
export function statusError(i: StatusErrorInput): CameraError {
  const status = `HTTP ${i.statusCode}${i.statusText ? ` ${i.statusText}` : ''}`;
  const opts: { statusCode: number; body?: string } = { statusCode: i.statusCode };
  if (i.body) opts.body = i.body;
  switch (i.statusCode) {
    case 403:
      return new CameraError(ErrorCodes.FORBIDDEN, `${status} (forbidden) from ${i.redactedUrl}`, opts);
    case 404:
      return new CameraError(ErrorCodes.NOT_FOUND, `${status} (not found) from ${i.redactedUrl}`, opts);
    case 503: {
      const retryAfter = header(i.headers, 'retry-after');
      const ra = retryAfter ? `, Retry-After: ${retryAfter}` : '';
      return new CameraError(ErrorCodes.BUSY, `${status} (camera busy${ra}) from ${i.redactedUrl}`, opts);
    }
    default:
      return new CameraError(ErrorCodes.HTTP_STATUS, `${status} from ${i.redactedUrl}`, opts);
  }
}
