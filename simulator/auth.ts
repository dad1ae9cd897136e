/**
 * Server side of HTTP Basic and Digest (RFC 7616/2617: MD5 and MD5-sess,
 * qop=auth) as an Axis camera does it.
 *
 * Deliberately independent of src/http so our client is checked against a
 * second implementation. It is strict where cameras are strict and where
 * clients go wrong: the digest `uri` must be the exact request target
 * including the query string, `qop` must be used when offered, `opaque`
 * must come back unchanged, nonces expire (then `stale=true`), and a nonce
 * count may not be replayed.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 'per-scheme': the AXIS OS 12+ default policy, Digest over http and Basic over https. */
export type AuthMode = 'none' | 'basic' | 'digest' | 'both' | 'per-scheme';
export type DigestAlgorithm = 'MD5' | 'MD5-sess';

export interface AuthConfig {
  mode: AuthMode;
  username: string;
  password: string;
  realm: string;
  /** After this a nonce is stale: 401 with stale=true. */
  nonceLifetimeMs: number;
  algorithm: DigestAlgorithm;
}

export type AuthResult =
  | { ok: true; scheme: 'none' | 'basic' | 'digest' }
  /** `challenges`: the WWW-Authenticate values to send, Digest first. `reason` is for test diagnostics. */
  | { ok: false; challenges: string[]; reason: string; presented: boolean };

/** Bound on remembered nonces; the oldest are forgotten first. */
const MAX_NONCES = 1000;
const NONCE_BYTES = 16;

interface NonceState {
  issuedAt: number;
  usedNc: Set<number>;
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * Parses `key=value, key="quoted \"value\""` auth-params. Names are
 * lower-cased; returns null on malformed input.
 */
export function parseAuthParams(s: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = 0;
  const n = s.length;
  const skipWs = (): void => {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  while (i < n) {
    skipWs();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    while (i < n && /[A-Za-z0-9_*-]/.test(s[i]!)) i++;
    const name = s.slice(start, i).toLowerCase();
    if (name === '') return null;
    skipWs();
    if (s[i] !== '=') return null;
    i++;
    skipWs();
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = s[i]!;
        if (c === '\\' && i + 1 < n) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) return null;
    } else {
      const vs = i;
      while (i < n && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
      value = s.slice(vs, i);
    }
    if (out.has(name)) return null;
    out.set(name, value);
    skipWs();
    if (i < n && s[i] !== ',') return null;
  }
  return out;
}

type Fail = (reason: string, presented: boolean, stale?: boolean) => AuthResult;

export class AuthVerifier {
  private nonces = new Map<string, NonceState>();
  private opaque = randomBytes(NONCE_BYTES).toString('hex');

  constructor(
    private readonly cfg: AuthConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forget every nonce and pick a new opaque (what a reboot does). */
  reset(): void {
    this.nonces = new Map();
    this.opaque = randomBytes(NONCE_BYTES).toString('hex');
  }

  /** The scheme(s) offered on a request: 'per-scheme' decides by the connection's scheme. */
  private modeFor(secure: boolean): Exclude<AuthMode, 'per-scheme'> {
    const { mode } = this.cfg;
    if (mode !== 'per-scheme') return mode;
    return secure ? 'basic' : 'digest';
  }

  /** WWW-Authenticate values for a 401, Digest before Basic. `secure`: the request came over https. */
  challenges(stale = false, secure = false): string[] {
    const out: string[] = [];
    const mode = this.modeFor(secure);
    if (mode === 'digest' || mode === 'both') out.push(this.digestChallenge(stale));
    if (mode === 'basic' || mode === 'both') out.push(`Basic realm="${this.cfg.realm}"`);
    // A status fault may ask for 401 with auth off: offer Basic, as cameras do.
    if (out.length === 0) out.push(`Basic realm="${this.cfg.realm}"`);
    return out;
  }

  verify(method: string, target: string, authorization: string | undefined, secure = false): AuthResult {
    const mode = this.modeFor(secure);
    if (mode === 'none') return { ok: true, scheme: 'none' };
    const fail = (reason: string, presented: boolean, stale = false): AuthResult => this.fail(reason, presented, stale, secure);
    if (!authorization) return fail('no Authorization header', false);
    const sp = authorization.indexOf(' ');
    const scheme = (sp < 0 ? authorization : authorization.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? '' : authorization.slice(sp + 1).trim();
    if (scheme === 'basic') {
      if (mode !== 'basic' && mode !== 'both') return fail('Basic not offered', true);
      return this.verifyBasic(rest, fail);
    }
    if (scheme === 'digest') {
      if (mode !== 'digest' && mode !== 'both') return fail('Digest not offered', true);
      return this.verifyDigest(method, target, rest, fail);
    }
    return fail(`unknown scheme ${scheme}`, true);
  }

  private fail(reason: string, presented: boolean, stale = false, secure = false): AuthResult {
    return { ok: false, challenges: this.challenges(stale, secure), reason, presented };
  }

  private digestChallenge(stale: boolean): string {
    const nonce = this.issueNonce();
    const parts = [
      `realm="${this.cfg.realm}"`,
      `nonce="${nonce}"`,
      `algorithm=${this.cfg.algorithm}`,
      `qop="auth"`,
      `opaque="${this.opaque}"`,
    ];
    if (stale) parts.push('stale=TRUE');
    return `Digest ${parts.join(', ')}`;
  }

  private issueNonce(): string {
    const nonce = randomBytes(NONCE_BYTES).toString('hex');
    this.nonces.set(nonce, { issuedAt: this.now(), usedNc: new Set() });
    while (this.nonces.size > MAX_NONCES) {
      const oldest = this.nonces.keys().next().value as string;
      this.nonces.delete(oldest);
    }
    return nonce;
  }

  private verifyBasic(token: string, fail: Fail): AuthResult {
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return fail('Basic token without colon', true);
    const user = decoded.slice(0, colon);
    const pass = decoded.slice(colon + 1);
    if (safeEqual(user, this.cfg.username) && safeEqual(pass, this.cfg.password)) return { ok: true, scheme: 'basic' };
    return fail('Basic: wrong user or password', true);
  }

  private verifyDigest(method: string, target: string, params: string, fail: Fail): AuthResult {
    const p = parseAuthParams(params);
    if (!p) return fail('Digest: malformed parameters', true);
    const get = (k: string): string => p.get(k) ?? '';
    const username = get('username');
    const nonce = get('nonce');
    const uri = get('uri');
    const response = get('response').toLowerCase();
    const qop = get('qop');
    const nc = get('nc');
    const cnonce = get('cnonce');
    const algorithm = p.get('algorithm') ?? 'MD5';

    if (get('realm') !== this.cfg.realm) return fail(`Digest: realm "${get('realm')}" is not "${this.cfg.realm}"`, true);
    if (username !== this.cfg.username) return fail('Digest: unknown user', true);
    if (uri !== target) return fail(`Digest: uri "${uri}" is not the request target "${target}"`, true);
    if (algorithm.toLowerCase() !== this.cfg.algorithm.toLowerCase())
      return fail(`Digest: algorithm ${algorithm} was not offered`, true);
    if (qop !== 'auth') return fail(`Digest: qop "${qop}" (auth was offered and is required)`, true);
    if (!/^[0-9a-fA-F]{8}$/.test(nc)) return fail(`Digest: nc "${nc}" is not 8 hex digits`, true);
    if (cnonce === '') return fail('Digest: missing cnonce', true);
    if (!/^[0-9a-f]{32}$/.test(response)) return fail('Digest: response is not 32 hex digits', true);

    let ha1 = md5(`${username}:${this.cfg.realm}:${this.cfg.password}`);
    if (this.cfg.algorithm === 'MD5-sess') ha1 = md5(`${ha1}:${nonce}:${cnonce}`);
    const ha2 = md5(`${method}:${uri}`);
    const expected = md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
    if (!safeEqual(expected, response)) return fail('Digest: wrong response (password or hash inputs)', true);

    // The credentials are right; from here on only the nonce can be at fault.
    const state = this.nonces.get(nonce);
    if (!state) return fail('Digest: unknown nonce (issued before a reboot?)', true, true);
    if (this.now() - state.issuedAt > this.cfg.nonceLifetimeMs) {
      this.nonces.delete(nonce);
      return fail('Digest: nonce expired', true, true);
    }
    if (p.get('opaque') !== this.opaque) return fail('Digest: opaque not returned unchanged', true);
    const count = parseInt(nc, 16);
    if (state.usedNc.has(count)) return fail(`Digest: nonce count ${nc} replayed`, true);
    state.usedNc.add(count);
    return { ok: true, scheme: 'digest' };
  }
}
