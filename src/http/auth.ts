/**
 * Per-endpoint authentication state: which `Authorization` to send first,
 * and how to answer a 401. At most one retry per request: a second 401 in a
 * row is a wrong password, not a reason to loop.
 */
import { CameraError, ErrorCodes } from '../errors';
import { buildBasicAuthorization, DigestSession, readDigestChallenge } from './digest';
import { AuthChallenge, describeSchemes, findChallenge } from './www-authenticate';

export type AuthMode = 'auto' | 'basic' | 'digest' | 'none';
export type AuthScheme = 'basic' | 'digest';

/** What to do about Basic over plain http, where base64 hides nothing from anyone on the network. */
export interface CleartextBasicPolicy {
  /** The endpoint is plain http. */
  cleartext: boolean;
  /** false: refuse to send Basic over http (the login fails with ERR_AUTH_FAILED and BASIC_OVER_HTTP_HINT). */
  allow: boolean;
  /** Told once, the first time Basic is about to go out over http, so the user can be warned. */
  onSend?: () => void;
}

export const BASIC_OVER_HTTP_HINT =
  'Basic auth over plain http lets anyone on the network read the password. Use https, or enable Digest ' +
  'authentication on the camera; or, accepting that risk, tick "Allow Basic over http" in the camera config.';

/*
 * When the node's Auth setting and the camera's policy disagree. AXIS OS 12
 * and later default to Digest over http and Basic over https (Device
 * settings: System > Security/Network > HTTP authentication policy).
 */
export const DIGEST_SET_BASIC_ONLY_HTTPS_HINT =
  'Auth is set to Digest, but over https this camera accepts only Basic (the AXIS OS default policy: Basic over HTTPS, ' +
  'Digest over HTTP). Set Auth to Auto or Basic: inside https the password is encrypted. Or set the camera\'s HTTP ' +
  'authentication policy to allow Digest.';
export const DIGEST_SET_BASIC_ONLY_HTTP_HINT =
  'Auth is set to Digest, but this camera accepts only Basic, which sends the password readable over http. Use https ' +
  '(then set Auth to Auto), or enable Digest in the camera\'s HTTP authentication policy.';
export const BASIC_SET_DIGEST_ONLY_HTTP_HINT =
  'Auth is set to Basic, but over http this camera accepts only Digest (the AXIS OS default policy: Digest over HTTP, ' +
  'Basic over HTTPS). Set Auth to Auto or Digest, or use https.';
export const BASIC_SET_DIGEST_ONLY_HTTPS_HINT =
  'Auth is set to Basic, but this camera accepts only Digest. Set Auth to Auto or Digest.';

export interface AuthRequest {
  method: string;
  /** Request target as sent (path + query): the Digest `uri`. */
  uri: string;
  body?: string | Buffer;
}

export class AuthState {
  private digest: DigestSession | null = null;
  /** 'auto' learned from a challenge that the camera wants Basic: send it up front from now on. */
  private basicLearned = false;
  /** onSend was called. */
  private warned = false;

  constructor(
    private readonly mode: AuthMode,
    private readonly username: string | undefined,
    private readonly password: string | undefined,
    private readonly cleartextBasic: CleartextBasicPolicy = { cleartext: false, allow: true },
  ) {
    if (mode === 'basic' && cleartextBasic.cleartext && !cleartextBasic.allow && this.hasCredentials) {
      throw new CameraError(ErrorCodes.INVALID_SETTING, 'Auth is Basic over http, but Basic over http is not allowed for this camera', {
        hint: BASIC_OVER_HTTP_HINT,
      });
    }
  }

  private get hasCredentials(): boolean {
    return this.username !== undefined && this.username !== '';
  }

  /** Nonce count sent with the last Digest answer (0 before any); for tests and diagnostics. */
  get digestNonceCount(): number {
    return this.digest?.nonceCount ?? 0;
  }

  /** The Authorization for a first attempt, or undefined to go without. */
  preemptive(req: AuthRequest): string | undefined {
    if (this.mode === 'none' || !this.hasCredentials) return undefined;
    if (this.mode !== 'basic' && this.digest) return this.digestHeader(this.digest, req);
    if (this.mode === 'basic' || this.basicLearned) return this.basicHeader();
    return undefined;
  }

  /**
   * Answers a 401. Returns the Authorization for the next attempt, or throws
   * ERR_AUTH_FAILED. `sent` is what the failed attempt carried; `answered`
   * holds the schemes this request already answered a challenge with (the
   * caller keeps one set per request and this adds to it).
   *
   * The camera's challenge decides the scheme, and AXIS OS picks it by the
   * request's scheme (its default policy: Digest over http, Basic over https).
   * When both are offered, 'auto' takes Digest over http and Basic over https,
   * and a refusal is retried once with the other one: some firmware offers
   * both but accepts only one. Never Basic in clear after a refused Digest: that
   * would hand the password to the network to learn what Digest already said.
   */
  answer(challenges: AuthChallenge[], req: AuthRequest, sent: string | undefined, answered: Set<AuthScheme>, url: string): string {
    const offered = `camera offers ${describeSchemes(challenges)}`;
    const fail = (why: string, hint?: string): never => {
      throw new CameraError(ErrorCodes.AUTH_FAILED, `HTTP 401 (${why}; ${offered}) from ${url}`, {
        statusCode: 401,
        ...(hint ? { hint } : {}),
      });
    };
    if (this.mode === 'none') fail('auth is set to none');
    if (!this.hasCredentials) fail('no user name configured');
    // Basic carries no nonce: the same token again gets the same answer. A
    // preemptive Digest may only have had a stale nonce, so it does not count.
    if (sent !== undefined && /^basic\s/i.test(sent)) answered.add('basic');

    const digestCh = findChallenge(challenges, 'digest');
    const basicCh = findChallenge(challenges, 'basic');
    const { cleartext } = this.cleartextBasic;
    const order: AuthScheme[] =
      this.mode === 'basic' ? ['basic'] : this.mode === 'digest' ? ['digest'] : cleartext ? ['digest', 'basic'] : ['basic', 'digest'];
    let digestProblem: string | undefined;
    let basicForbidden = false;

    for (const scheme of order) {
      if (answered.has(scheme)) continue;
      if (scheme === 'digest' && digestCh) {
        const ch = readDigestChallenge(digestCh);
        if ('problem' in ch) {
          digestProblem = ch.problem;
          continue;
        }
        answered.add('digest');
        this.digest = new DigestSession(ch);
        this.basicLearned = false;
        return this.digestHeader(this.digest, req);
      }
      if (scheme === 'basic' && basicCh) {
        if (cleartext && !this.cleartextBasic.allow) {
          basicForbidden = true;
          continue;
        }
        if (cleartext && answered.has('digest')) continue;
        answered.add('basic');
        if (this.mode === 'auto') {
          this.basicLearned = true;
          this.digest = null;
        }
        return this.basicHeader();
      }
    }
    // A refused scheme the camera does not even offer is a setting mismatch, not a wrong password.
    if ([...answered].some((a) => (a === 'digest' ? digestCh : basicCh))) return fail('user name or password rejected');
    if (basicForbidden) {
      throw new CameraError(
        ErrorCodes.AUTH_FAILED,
        `HTTP 401 (the camera wants Basic auth, which is not allowed over http for this camera; ${offered}) from ${url}`,
        { statusCode: 401, hint: BASIC_OVER_HTTP_HINT },
      );
    }
    if (this.mode === 'digest' && basicCh) return fail('auth is set to Digest', cleartext ? DIGEST_SET_BASIC_ONLY_HTTP_HINT : DIGEST_SET_BASIC_ONLY_HTTPS_HINT);
    if (this.mode === 'basic' && digestCh) return fail('auth is set to Basic', cleartext ? BASIC_SET_DIGEST_ONLY_HTTP_HINT : BASIC_SET_DIGEST_ONLY_HTTPS_HINT);
    return fail(digestProblem ?? (this.mode === 'digest' ? 'auth is set to Digest' : this.mode === 'basic' ? 'auth is set to Basic' : 'no supported auth method'));
  }

  private basicHeader(): string {
    if (this.cleartextBasic.cleartext && !this.warned) {
      this.warned = true;
      this.cleartextBasic.onSend?.();
    }
    return buildBasicAuthorization(this.username ?? '', this.password ?? '');
  }

  private digestHeader(d: DigestSession, req: AuthRequest): string {
    const i: Parameters<DigestSession['authorization']>[0] = {
      username: this.username ?? '',
      password: this.password ?? '',
      method: req.method,
      uri: req.uri,
    };
    if (req.body !== undefined) i.entityBody = req.body;
    return d.authorization(i);
  }
}
