/**
 * Per-endpoint authentication state: which `Authorization` to send first,
 * and how to answer a 401. At most one retry per request: a second 401 in a
 * row is a wrong password, not a reason to loop.
 */
import { CameraError, ErrorCodes } from '../errors';
import { buildBasicAuthorization, DigestSession, readDigestChallenge } from './digest';
import { AuthChallenge, describeSchemes, findChallenge } from './www-authenticate';

export type AuthMode = 'auto' | 'basic' | 'digest' | 'none';

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

  constructor(
    private readonly mode: AuthMode,
    private readonly username: string | undefined,
    private readonly password: string | undefined,
  ) {}

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
