/**
 * HTTP Digest (RFC 7616, RFC 2617, legacy RFC 2069) and Basic credentials:
 * the client side (building `Authorization`) and a server-side verifier the
 * camera simulator uses to check clients independently.
 *
 * Supported: algorithm MD5 (default), MD5-sess, SHA-256, SHA-256-sess;
 * qop auth, auth-int, or none (RFC 2069). `userhash` is not supported.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthChallenge, parseAuthorization, quoteParam } from './www-authenticate';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';
export type DigestQop = 'auth' | 'auth-int';

const ALGORITHMS: Record<string, DigestAlgorithm> = {
  md5: 'MD5',
  'md5-sess': 'MD5-sess',
  'sha-256': 'SHA-256',
  'sha-256-sess': 'SHA-256-sess',
};

/** Bytes of randomness in a client nonce: 16 is what browsers use. */
const CNONCE_BYTES = 16;

export function normalizeAlgorithm(name: string | undefined): DigestAlgorithm | null {
  if (name === undefined || name === '') return 'MD5';
  return ALGORITHMS[name.toLowerCase()] ?? null;
}

function hashHex(algorithm: DigestAlgorithm, data: string | Buffer): string {
  const h = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  return createHash(h).update(data).digest('hex');
}

/** nc is eight lower-case hex digits (RFC 7616 §3.4). */
export function formatNonceCount(n: number): string {
  return n.toString(16).padStart(8, '0');
}

export interface DigestInput {
  algorithm?: DigestAlgorithm;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  /** The request target exactly as sent, query string included. */
  uri: string;
  /** Omitted: legacy RFC 2069 (no cnonce, no nc). */
  qop?: DigestQop;
  cnonce?: string;
  /** Nonce count, 1-based. */
  nc?: number;
  /** Only for qop=auth-int. */
  entityBody?: string | Buffer;
}

/** HA1 per RFC 7616 §3.4.2 (the -sess variants fold in nonce and cnonce). */
export function digestHa1(i: Pick<DigestInput, 'algorithm' | 'username' | 'password' | 'realm' | 'nonce' | 'cnonce'>): string {
  const algorithm = i.algorithm ?? 'MD5';
  const base = hashHex(algorithm, `${i.username}:${i.realm}:${i.password}`);
  if (!algorithm.endsWith('-sess')) return base;
  return hashHex(algorithm, `${base}:${i.nonce}:${i.cnonce ?? ''}`);
}

/** The `response` value: 32 hex digits for MD5, 64 for SHA-256. */
export function computeDigestResponse(i: DigestInput): string {
  const algorithm = i.algorithm ?? 'MD5';
  const ha1 = digestHa1(i);
  const a2 =
    i.qop === 'auth-int' ? `${i.method}:${i.uri}:${hashHex(algorithm, i.entityBody ?? '')}` : `${i.method}:${i.uri}`;
  const ha2 = hashHex(algorithm, a2);
  if (i.qop === undefined) return hashHex(algorithm, `${ha1}:${i.nonce}:${ha2}`);
  return hashHex(algorithm, `${ha1}:${i.nonce}:${formatNonceCount(i.nc ?? 1)}:${i.cnonce ?? ''}:${i.qop}:${ha2}`);
}

export function newCnonce(): string {
  return randomBytes(CNONCE_BYTES).toString('hex');
}

/** A Digest challenge reduced to what a client needs, or null when unusable. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** Chosen qop, or undefined for RFC 2069. */
  qop?: DigestQop;
  stale: boolean;
}

/** Why a Digest challenge cannot be answered, for error messages. */
export type DigestChallengeProblem = { problem: string };

export function readDigestChallenge(c: AuthChallenge): DigestChallenge | DigestChallengeProblem {
  const realm = c.params.realm;
  const nonce = c.params.nonce;
  if (realm === undefined || !nonce) return { problem: 'Digest challenge without realm or nonce' };
  const algorithm = normalizeAlgorithm(c.params.algorithm);
  if (!algorithm) return { problem: `unsupported Digest algorithm ${c.params.algorithm}` };
  let qop: DigestQop | undefined;
  if (c.params.qop !== undefined) {
    const offered = c.params.qop.split(',').map((q) => q.trim().toLowerCase());
    // auth is preferred: auth-int would force hashing the body.
    if (offered.includes('auth')) qop = 'auth';
    else if (offered.includes('auth-int')) qop = 'auth-int';
    else return { problem: `unsupported Digest qop ${c.params.qop}` };
  }
  const out: DigestChallenge = { realm, nonce, algorithm, stale: (c.params.stale ?? '').toLowerCase() === 'true' };
  if (qop) out.qop = qop;
  if (c.params.opaque !== undefined) out.opaque = c.params.opaque;
  return out;
}

export interface DigestAuthorizationInput {
  username: string;
  password: string;
  method: string;
  uri: string;
  nc: number;
  cnonce?: string;
  entityBody?: string | Buffer;
}

/** Builds the `Authorization: Digest ...` value answering `ch`. */
export function buildDigestAuthorization(ch: DigestChallenge, i: DigestAuthorizationInput): string {
  const cnonce = ch.qop ? (i.cnonce ?? newCnonce()) : undefined;
  const input: DigestInput = {
    algorithm: ch.algorithm,
    username: i.username,
    password: i.password,
    realm: ch.realm,
    nonce: ch.nonce,
    method: i.method,
    uri: i.uri,
  };
  if (ch.qop) {
    input.qop = ch.qop;
    input.nc = i.nc;
    input.cnonce = cnonce as string;
  }
  if (i.entityBody !== undefined) input.entityBody = i.entityBody;
  const parts = [
    `username=${quoteParam(i.username)}`,
    `realm=${quoteParam(ch.realm)}`,
    `nonce=${quoteParam(ch.nonce)}`,
    `uri=${quoteParam(i.uri)}`,
    `algorithm=${ch.algorithm}`,
    `response="${computeDigestResponse(input)}"`,
  ];
  if (ch.qop) parts.push(`qop=${ch.qop}`, `nc=${formatNonceCount(i.nc)}`, `cnonce=${quoteParam(cnonce as string)}`);
  if (ch.opaque !== undefined) parts.push(`opaque=${quoteParam(ch.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

/**
 * Client-side Digest state for one protection space: remembers the last
 * challenge so the next request can answer preemptively, and counts nc per
 * nonce (a new nonce restarts at 1).
 */
export class DigestSession {
  private nc = 0;
  constructor(readonly challenge: DigestChallenge) {}

  authorization(i: Omit<DigestAuthorizationInput, 'nc'>): string {
    this.nc += 1;
    return buildDigestAuthorization(this.challenge, { ...i, nc: this.nc });
  }

  get nonceCount(): number {
    return this.nc;
  }
}

// ---------------------------------------------------------------------------
// Basic

export function buildBasicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export function parseBasicAuthorization(header: string | undefined | null): { username: string; password: string } | null {
  if (!header) return null;
  const m = /^\s*basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function verifyBasicAuthorization(
  header: string | undefined | null,
  expected: { username: string; password: string },
): boolean {
  const got = parseBasicAuthorization(header);
  return !!got && safeEqual(got.username, expected.username) && safeEqual(got.password, expected.password);
}

// ---------------------------------------------------------------------------
// Server side

export interface DigestVerifyOptions {
  method: string;
  password: string;
  realm: string;
  /** Expected user; omitted: any user (the password is still checked). */
  username?: string;
  /** The nonce the server issued, or a predicate accepting the nonces it considers valid. */
  nonce?: string | ((nonce: string) => boolean);
  opaque?: string;
  /** The request target the server received; must equal the `uri` parameter. */
  uri?: string;
  /** Required for qop=auth-int. */
  entityBody?: string | Buffer;
}

export interface DigestVerifyResult {
  ok: boolean;
  /** Why verification failed: stable words for tests and simulator logs. */
  reason?:
    | 'not-digest'
    | 'missing-field'
    | 'bad-algorithm'
    | 'bad-qop'
    | 'wrong-realm'
    | 'wrong-user'
    | 'stale-nonce'
    | 'wrong-opaque'
    | 'wrong-uri'
    | 'bad-nc'
    | 'wrong-response';
  username?: string;
  nonce?: string;
  /** Parsed nonce count (absent for RFC 2069). The caller tracks replay. */
  nc?: number;
  cnonce?: string;
  qop?: DigestQop;
  uri?: string;
  algorithm?: DigestAlgorithm;
}

/**
 * Checks an `Authorization: Digest ...` header independently of the client code.
 * Nonce-count replay (nc must grow per nonce) is left to the caller, which
 * gets the parsed `nc` back.
 */
export function verifyDigestAuthorization(header: string | undefined | null, o: DigestVerifyOptions): DigestVerifyResult {
  const cred = parseAuthorization(header);
  if (!cred || cred.scheme.toLowerCase() !== 'digest') return { ok: false, reason: 'not-digest' };
  const p = cred.params;
  const { username, realm, nonce, uri, response } = p;
  if (username === undefined || realm === undefined || !nonce || uri === undefined || !response) {
    return { ok: false, reason: 'missing-field' };
  }
  const base: DigestVerifyResult = { ok: false, username, nonce, uri };
  const algorithm = normalizeAlgorithm(p.algorithm);
  if (!algorithm) return { ...base, reason: 'bad-algorithm' };
  base.algorithm = algorithm;
  let qop: DigestQop | undefined;
  if (p.qop !== undefined) {
    const q = p.qop.toLowerCase();
    if (q !== 'auth' && q !== 'auth-int') return { ...base, reason: 'bad-qop' };
    qop = q;
    base.qop = q;
    if (!p.cnonce || !p.nc || !/^[0-9a-fA-F]{8}$/.test(p.nc)) return { ...base, reason: 'bad-nc' };
    base.nc = parseInt(p.nc, 16);
    base.cnonce = p.cnonce;
  }
  if (realm !== o.realm) return { ...base, reason: 'wrong-realm' };
  if (o.username !== undefined && username !== o.username) return { ...base, reason: 'wrong-user' };
  if (o.uri !== undefined && uri !== o.uri) return { ...base, reason: 'wrong-uri' };
  if (o.opaque !== undefined && p.opaque !== o.opaque) return { ...base, reason: 'wrong-opaque' };
  const input: DigestInput = { algorithm, username, password: o.password, realm, nonce, method: o.method, uri };
  if (qop) {
    input.qop = qop;
    input.nc = base.nc as number;
    input.cnonce = p.cnonce as string;
  }
  if (o.entityBody !== undefined) input.entityBody = o.entityBody;
  // The response is checked before the nonce, so a right password with an old
  // nonce reports 'stale-nonce' (the server should then send stale=true).
  if (!safeEqual(computeDigestResponse(input).toLowerCase(), response.toLowerCase())) {
    return { ...base, reason: 'wrong-response' };
  }
  if (o.nonce !== undefined) {
    const valid = typeof o.nonce === 'string' ? o.nonce === nonce : o.nonce(nonce);
    if (!valid) return { ...base, reason: 'stale-nonce' };
  }
  return { ...base, ok: true };
}

export interface DigestChallengeOptions {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm?: DigestAlgorithm;
  /** Default 'auth'; null for a legacy RFC 2069 challenge without qop. */
  qop?: string | null;
  stale?: boolean;
}

/** A `WWW-Authenticate: Digest ...` value, for servers and simulators. */
export function buildDigestChallenge(o: DigestChallengeOptions): string {
  const parts = [`realm=${quoteParam(o.realm)}`, `nonce=${quoteParam(o.nonce)}`];
  if (o.algorithm) parts.push(`algorithm=${o.algorithm}`);
  const qop = o.qop === undefined ? 'auth' : o.qop;
  if (qop !== null) parts.push(`qop=${quoteParam(qop)}`);
  if (o.opaque !== undefined) parts.push(`opaque=${quoteParam(o.opaque)}`);
  if (o.stale) parts.push('stale=true');
  return `Digest ${parts.join(', ')}`;
}

export function buildBasicChallenge(realm: string): string {
  return `Basic realm=${quoteParam(realm)}`;
}
