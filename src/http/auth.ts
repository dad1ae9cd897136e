/**
 * Per-endpoint authentication state: which `Authorization` to send first,
 * and how to answer a 401. At most one retry per request: a second 401 in a
 * row is a wrong password, not a reason to loop.
 */
import { CameraError, ErrorCodes } from '../errors';
import { buildBasicAuthorization, DigestSession, readDigestChallenge } from './digest';
import { AuthChallenge, describeSchemes, findChallenge } from './www-authenticate';

export type AuthMode = 'auto' | 'basic' | 'digest' | 'none';

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
   * Answers a 401. Returns the Authorization for the one retry, or throws
   * ERR_AUTH_FAILED. `sent` is what the failed attempt carried; `isRetry`
   * is true when that attempt already answered a challenge.
   */
  answer(challenges: AuthChallenge[], req: AuthRequest, sent: string | undefined, isRetry: boolean, url: string): string {
    const offered = `camera offers ${describeSchemes(challenges)}`;
    const fail = (why: string): never => {
      throw new CameraError(ErrorCodes.AUTH_FAILED, `HTTP 401 (${why}; ${offered}) from ${url}`, { statusCode: 401 });
    };
    if (this.mode === 'none') fail('auth is set to none');
    if (!this.hasCredentials) fail('no user name configured');
    if (isRetry) fail('user name or password rejected');

    const digestCh = findChallenge(challenges, 'digest');
    const basicCh = findChallenge(challenges, 'basic');
    let digestProblem: string | undefined;

    if (this.mode !== 'basic' && digestCh) {
      const ch = readDigestChallenge(digestCh);
      if ('problem' in ch) {
        digestProblem = ch.problem;
      } else {
        this.digest = new DigestSession(ch);
        this.basicLearned = false;
        return this.digestHeader(this.digest, req);
      }
    }
    if (this.mode === 'digest') fail(digestProblem ?? 'auth is set to Digest');
    if (basicCh) {
      if (this.cleartextBasic.cleartext && !this.cleartextBasic.allow) {
        throw new CameraError(
          ErrorCodes.AUTH_FAILED,
          `HTTP 401 (the camera wants Basic auth, which is not allowed over http for this camera; ${offered}) from ${url}`,
          { statusCode: 401, hint: BASIC_OVER_HTTP_HINT },
        );
      }
      const header = this.basicHeader();
      // Same Basic credentials again would get the same answer.
      if (sent === header) fail('user name or password rejected');
      if (this.mode === 'auto') {
        this.basicLearned = true;
        this.digest = null;
      }
      return header;
    }
    return fail(digestProblem ?? (this.mode === 'basic' ? 'auth is set to Basic' : 'no supported auth method'));
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
