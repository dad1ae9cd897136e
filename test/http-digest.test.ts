import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { inspect } from 'node:util';
import { CameraError } from '../src/errors';
import {
  buildBasicAuthorization,
  buildDigestAuthorization,
  buildDigestChallenge,
  computeDigestResponse,
  DigestChallenge,
  parseBasicAuthorization,
  readDigestChallenge,
  verifyBasicAuthorization,
  verifyDigestAuthorization,
} from '../src/http/digest';
import { CameraEndpoint, CameraHttpClient } from '../src/http/client';
import { redactUrl } from '../src/http/redact';
import { parseWwwAuthenticate } from '../src/http/www-authenticate';
import { startSimulator } from '../simulator';
import { testCerts } from './support/tls-certs';
import {
  BASIC_SET_DIGEST_ONLY_HTTP_HINT,
  DIGEST_SET_BASIC_ONLY_HTTPS_HINT,
} from '../src/http/auth';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('digest: known vectors', () => {
  it('RFC 2617 §3.5 (MD5, qop=auth)', () => {
    const r = computeDigestResponse({
      username: 'Mufasa',
      password: 'Circle Of Life',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: 1,
      cnonce: '0a4f113b',
    });
    assert.equal(r, '6629fae49393a05397450978507c4ef1');
  });

  it('RFC 7616 §3.9.1 (MD5 and SHA-256, qop=auth)', () => {
    const base = {
      username: 'Mufasa',
      password: 'Circle of Life',
      realm: 'http-auth@example.org',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth' as const,
      nc: 1,
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    assert.equal(computeDigestResponse({ ...base, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
    assert.equal(
      computeDigestResponse({ ...base, algorithm: 'SHA-256' }),
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('MD5-sess and RFC 2069 (no qop) match the formulas', () => {
    const i = { username: 'u', password: 'p', realm: 'r', nonce: 'n', method: 'GET', uri: '/a?b=c' };
    const ha2 = md5('GET:/a?b=c');
    assert.equal(computeDigestResponse(i), md5(`${md5('u:r:p')}:n:${ha2}`));
    const sessHa1 = md5(`${md5('u:r:p')}:n:cn`);
    assert.equal(
      computeDigestResponse({ ...i, algorithm: 'MD5-sess', qop: 'auth', nc: 255, cnonce: 'cn' }),
      md5(`${sessHa1}:n:000000ff:cn:auth:${ha2}`),
    );
  });

  it('builds an Authorization header that parses back and verifies', () => {
    const ch = readDigestChallenge(
      parseWwwAuthenticate('Digest realm="AXIS_ACCC8E000000", nonce="abc", qop="auth,auth-int", opaque="op\\"q", algorithm=MD5-sess')[0]!,
    ) as DigestChallenge;
    assert.equal(ch.qop, 'auth');
    assert.equal(ch.algorithm, 'MD5-sess');
    assert.equal(ch.opaque, 'op"q');
    const header = buildDigestAuthorization(ch, { username: 'ro"ot', password: 'pw', method: 'GET', uri: '/x?a=1,2', nc: 3 });
    const parsed = parseWwwAuthenticate(header)[0]!;
    assert.equal(parsed.scheme, 'Digest');
    assert.equal(parsed.params.username, 'ro"ot');
    assert.equal(parsed.params.uri, '/x?a=1,2');
    assert.equal(parsed.params.nc, '00000003');
    assert.equal(parsed.params.opaque, 'op"q');
    assert.match(parsed.params.cnonce ?? '', /^[0-9a-f]{32}$/);
    const ok = verifyDigestAuthorization(header, { method: 'GET', password: 'pw', realm: 'AXIS_ACCC8E000000', nonce: 'abc', opaque: 'op"q', uri: '/x?a=1,2' });
    assert.deepEqual({ ok: ok.ok, nc: ok.nc, username: ok.username, qop: ok.qop }, { ok: true, nc: 3, username: 'ro"ot', qop: 'auth' });
  });

  it('verifyDigestAuthorization reports why it refuses', () => {
    const ch: DigestChallenge = { realm: 'r', nonce: 'n1', algorithm: 'MD5', qop: 'auth', stale: false };
    const h = buildDigestAuthorization(ch, { username: 'u', password: 'pw', method: 'GET', uri: '/v?x=1', nc: 1 });
    const o = { method: 'GET', password: 'pw', realm: 'r', nonce: 'n1', uri: '/v?x=1' };
    assert.equal(verifyDigestAuthorization(h, o).ok, true);
    assert.equal(verifyDigestAuthorization(h, { ...o, password: 'nope' }).reason, 'wrong-response');
    assert.equal(verifyDigestAuthorization(h, { ...o, nonce: 'n2' }).reason, 'stale-nonce');
    assert.equal(verifyDigestAuthorization(h, { ...o, nonce: (n) => n === 'n1' }).ok, true);
    assert.equal(verifyDigestAuthorization(h, { ...o, uri: '/v' }).reason, 'wrong-uri');
    assert.equal(verifyDigestAuthorization(h, { ...o, method: 'POST' }).reason, 'wrong-response');
    assert.equal(verifyDigestAuthorization(h, { ...o, realm: 'other' }).reason, 'wrong-realm');
    assert.equal(verifyDigestAuthorization(h, { ...o, username: 'admin' }).reason, 'wrong-user');
    assert.equal(verifyDigestAuthorization('Basic dTpw', o).reason, 'not-digest');
    assert.equal(verifyDigestAuthorization('Digest username="u"', o).reason, 'missing-field');
    // RFC 2069 (no qop) round trip
    const legacy = buildDigestAuthorization({ realm: 'r', nonce: 'n1', algorithm: 'MD5', stale: false }, { username: 'u', password: 'pw', method: 'GET', uri: '/', nc: 1 });
    assert.ok(!/qop|cnonce|nc=/.test(legacy));
    assert.equal(verifyDigestAuthorization(legacy, { ...o, uri: '/' }).ok, true);
  });

  it('Basic build / parse / verify', () => {
    const h = buildBasicAuthorization('root', 'pä:ss');
    assert.deepEqual(parseBasicAuthorization(h), { username: 'root', password: 'pä:ss' });
    assert.equal(verifyBasicAuthorization(h, { username: 'root', password: 'pä:ss' }), true);
    assert.equal(verifyBasicAuthorization(h, { username: 'root', password: 'x' }), false);
    assert.equal(parseBasicAuthorization('Digest x'), null);
  });

  it('buildDigestChallenge output parses back', () => {
    const [c] = parseWwwAuthenticate(buildDigestChallenge({ realm: 'R', nonce: 'N', opaque: 'O', algorithm: 'MD5-sess', stale: true }));
    assert.deepEqual(c?.params, { realm: 'R', nonce: 'N', algorithm: 'MD5-sess', qop: 'auth', opaque: 'O', stale: 'true' });
  });
});

describe('parseWwwAuthenticate', () => {
  it('splits two comma-joined challenges with commas inside quoted strings', () => {
    const v = 'Digest realm="AXIS, Inc", nonce="a,b", qop="auth,auth-int", algorithm=MD5, Basic realm="AXIS, Inc"';
    const cs = parseWwwAuthenticate(v);
    assert.deepEqual(cs, [
      { scheme: 'Digest', params: { realm: 'AXIS, Inc', nonce: 'a,b', qop: 'auth,auth-int', algorithm: 'MD5' } },
      { scheme: 'Basic', params: { realm: 'AXIS, Inc' } },
    ]);
  });

  it('accepts the array undici gives for repeated headers, any order, odd spacing and case', () => {
    const cs = parseWwwAuthenticate(['Basic realm="r"', 'DIGEST  Realm = "r" ,NONCE=abc ,  stale=TRUE']);
    assert.equal(cs.length, 2);
    assert.deepEqual(cs[1], { scheme: 'DIGEST', params: { realm: 'r', nonce: 'abc', stale: 'TRUE' } });
  });

  it('handles escapes, empty values, bare schemes, token68 and garbage', () => {
    assert.deepEqual(parseWwwAuthenticate('Digest realm="a\\"b\\\\c", opaque=""')[0]?.params, { realm: 'a"b\\c', opaque: '' });
    assert.deepEqual(
      parseWwwAuthenticate('Negotiate, NTLM abc+/==, Basic realm=x').map((c) => [c.scheme, c.token68 ?? c.params.realm ?? null]),
      [
        ['Negotiate', null],
        ['NTLM', 'abc+/=='],
        ['Basic', 'x'],
      ],
    );
    assert.deepEqual(parseWwwAuthenticate(undefined), []);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.equal(parseWwwAuthenticate('"junk", Basic realm="r"').at(-1)?.scheme, 'Basic');
    assert.deepEqual(parseWwwAuthenticate('Digest realm="unterminated')[0]?.params, { realm: 'unterminated' });
  });
});

describe('redactUrl', () => {
  it('strips userinfo and masks password-like query values', () => {
    assert.equal(redactUrl('http://root:pa@ss/w@10.0.0.1:80/x?a=1'), 'http://10.0.0.1:80/x?a=1');
    assert.equal(redactUrl('https://u@cam/'), 'https://cam/');
    assert.equal(
      redactUrl('http://cam/axis-cgi/mjpg/video.cgi?resolution=640x480&pwd=s3cret&Password=x&api_key=k&user=root#frag'),
      'http://cam/axis-cgi/mjpg/video.cgi?resolution=640x480&pwd=***&Password=***&api_key=***&user=root#frag',
    );
    assert.equal(redactUrl('/path?token=abc'), '/path?token=***');
    assert.equal(redactUrl('not a url'), 'not a url');
  });
});

// ---------------------------------------------------------------------------
// A camera-like server with its own, independent Digest check.

interface LogEntry {
  method: string;
  url: string;
  authorization?: string;
  status: number;
  body: string;
  nc?: string;
}

interface AuthServerOptions {
  schemes: Array<'digest' | 'basic'>;
  /** One comma-joined WWW-Authenticate line instead of one line per scheme. */
  joined?: boolean;
  algorithm?: 'MD5' | 'MD5-sess';
  /** false: legacy RFC 2069 challenge (no qop). */
  qop?: boolean;
  /** A nonce serves this many requests, then 401 stale=true. */
  nonceUses?: number;
  /** Schemes whose right credentials are accepted (default: all offered): firmware that offers both but takes one. */
  accept?: Array<'digest' | 'basic'>;
  /** Serve https with the test certificate. */
  tls?: boolean;
}

const USER = 'root';
const PASS = 'Pw-9!xq"Zr';
const REALM = 'AXIS_ACCC8E012345';

class AuthServer {
  readonly log: LogEntry[] = [];
  readonly server: http.Server | https.Server;
  port = 0;
  private nonces = new Map<string, { uses: number; lastNc: number }>();
  private seq = 0;
  private readonly opaque = 'opaque-" value';

  constructor(readonly o: AuthServerOptions) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString()));
    };
    this.server = o.tls ? https.createServer(testCerts().selfSigned, handler) : http.createServer(handler);
  }

  /** Forget every nonce, as a rebooted camera does. */
  forgetNonces(): void {
    this.nonces.clear();
  }

  get requests(): number {
    return this.log.length;
  }

  private challenges(stale: boolean): string[] {
    const nonce = `n${++this.seq}-${Date.now()}`;
    this.nonces.set(nonce, { uses: 0, lastNc: 0 });
    const out: string[] = [];
    for (const s of this.o.schemes) {
      if (s === 'basic') out.push(`Basic realm="${REALM}"`);
      else {
        const qop = this.o.qop === false ? '' : ', qop="auth"';
        const alg = this.o.algorithm ? `, algorithm=${this.o.algorithm}` : '';
        out.push(`Digest realm="${REALM}", nonce="${nonce}"${qop}${alg}, opaque="opaque-\\" value"${stale ? ', stale=true' : ''}`);
      }
    }
    return this.o.joined ? [out.join(', ')] : out;
  }

  /** Independent check: regex parsing and the RFC formulas written out. Returns '' when OK. */
  private checkDigest(h: string, method: string, url: string, entry: LogEntry): 'ok' | 'stale' | 'bad' {
    const p: Record<string, string> = {};
    for (const m of h.slice(7).matchAll(/([a-z]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/gi)) {
      p[(m[1] as string).toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] as string);
    }
    if (p.uri !== url || p.realm !== REALM || p.username !== USER || p.opaque !== this.opaque) return 'bad';
    const nonce = p.nonce as string;
    let ha1 = md5(`${USER}:${REALM}:${PASS}`);
    if (this.o.algorithm === 'MD5-sess') ha1 = md5(`${ha1}:${nonce}:${p.cnonce}`);
    const ha2 = md5(`${method}:${url}`);
    let expected: string;
    if (this.o.qop === false) {
      if (p.qop !== undefined || p.nc !== undefined) return 'bad';
      expected = md5(`${ha1}:${nonce}:${ha2}`);
    } else {
      if (p.qop !== 'auth' || !/^[0-9a-f]{8}$/.test(p.nc ?? '') || !p.cnonce) return 'bad';
      entry.nc = p.nc;
      expected = md5(`${ha1}:${nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    }
    if (expected !== p.response) return 'bad';
    const state = this.nonces.get(nonce);
    if (!state) return 'stale';
    if (this.o.qop !== false) {
      const nc = parseInt(p.nc as string, 16);
      if (nc <= state.lastNc) return 'bad';
      state.lastNc = nc;
    }
    state.uses++;
    if (this.o.nonceUses !== undefined && state.uses > this.o.nonceUses) {
      this.nonces.delete(nonce);
      return 'stale';
    }
    return 'ok';
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const method = req.method as string;
    const url = req.url as string;
    const authorization = req.headers.authorization;
    const entry: LogEntry = { method, url, status: 0, body, ...(authorization ? { authorization } : {}) };
    this.log.push(entry);
    let verdict: 'ok' | 'stale' | 'bad' | 'none' = 'none';
    if (authorization?.startsWith('Digest ') && this.o.schemes.includes('digest')) {
      verdict = this.checkDigest(authorization, method, url, entry);
    } else if (authorization?.startsWith('Basic ') && this.o.schemes.includes('basic')) {
      verdict = authorization === `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` ? 'ok' : 'bad';
    } else if (authorization) {
      verdict = 'bad';
    }
    const scheme = authorization?.split(' ')[0]?.toLowerCase() as 'digest' | 'basic' | undefined;
    if (verdict === 'ok' && this.o.accept && scheme && !this.o.accept.includes(scheme)) verdict = 'bad';
    if (verdict === 'ok') {
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`ok ${method} ${url} ${body}`);
      return;
    }
    entry.status = 401;
    res.writeHead(401, { 'www-authenticate': this.challenges(verdict === 'stale'), 'content-type': 'text/html' });
    res.end('<html><body>401 Unauthorized</body></html>');
  }
}

const opened: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (opened.length) await (opened.pop() as () => Promise<void>)();
});

async function authServer(o: AuthServerOptions): Promise<AuthServer> {
  const s = new AuthServer(o);
  s.server.listen(0, '127.0.0.1');
  await once(s.server, 'listening');
  s.port = (s.server.address() as net.AddressInfo).port;
  opened.push(async () => {
    s.server.closeAllConnections();
    await new Promise<void>((r) => s.server.close(() => r()));
  });
  return s;
}

function cam(port: number, ep: Partial<CameraEndpoint> = {}): CameraHttpClient {
  const c = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port, username: USER, password: PASS, ...ep });
  opened.push(() => c.close());
  return c;
}

/** An https client trusting the test certificate. */
function tlsCam(port: number, ep: Partial<CameraEndpoint> = {}): CameraHttpClient {
  const c = new CameraHttpClient({
    protocol: 'https', host: '127.0.0.1', port, username: USER, password: PASS, tls: { ca: testCerts().selfSigned.cert }, ...ep,
  });
  opened.push(() => c.close());
  return c;
}

async function text(c: CameraHttpClient, path: string, opts: Parameters<CameraHttpClient['fetchBuffer']>[1] = {}): Promise<string> {
  return (await c.fetchBuffer(path, opts)).body.toString();
}

async function authFailure(p: Promise<unknown>): Promise<CameraError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CameraError, String(e));
    assert.equal(e.code, 'ERR_AUTH_FAILED', e.message);
    assert.equal(e.statusCode, 401);
    return e;
  }
  assert.fail('expected ERR_AUTH_FAILED');
}

const STREAM = '/axis-cgi/mjpg/video.cgi?resolution=640x480&fps=15&camera=1';

describe('CameraHttpClient: Digest and Basic against a camera-like server', () => {
  it('answers a Digest challenge with the query string in uri', async () => {
    const s = await authServer({ schemes: ['digest'] });
    const c = cam(s.port);
    assert.equal(await text(c, STREAM), `ok GET ${STREAM} `);
    assert.deepEqual(
      s.log.map((e) => [e.status, e.authorization ? e.authorization.split(' ')[0] : null, e.nc ?? null]),
      [
        [401, null, null],
        [200, 'Digest', '00000001'],
      ],
    );
  });

  it('counts nc up across requests and sends the last challenge preemptively', async () => {
    const s = await authServer({ schemes: ['digest'] });
    const c = cam(s.port);
    for (let i = 0; i < 4; i++) await text(c, `${STREAM}&i=${i}`);
    assert.equal(s.log.filter((e) => e.status === 401).length, 1);
    assert.deepEqual(
      s.log.filter((e) => e.status === 200).map((e) => e.nc),
      ['00000001', '00000002', '00000003', '00000004'],
    );
    assert.equal(c.digestNonceCount, 4);
  });

  for (const variant of [
    { name: 'two header lines, Digest first', schemes: ['digest', 'basic'] as const, joined: false },
    { name: 'two header lines, Basic first', schemes: ['basic', 'digest'] as const, joined: false },
    { name: 'one comma-joined line', schemes: ['basic', 'digest'] as const, joined: true },
  ]) {
    it(`prefers Digest when a 401 offers both (${variant.name})`, async () => {
      const s = await authServer({ schemes: [...variant.schemes], joined: variant.joined });
      const c = cam(s.port);
      await text(c, STREAM);
      assert.match(s.log[1]?.authorization ?? '', /^Digest /);
    });
  }

  it('uses Basic for a Basic-only camera, then sends it up front', async () => {
    const s = await authServer({ schemes: ['basic'] });
    const c = cam(s.port);
    await text(c, '/a');
    await text(c, '/b');
    assert.deepEqual(
      s.log.map((e) => [e.url, e.status, !!e.authorization]),
      [
        ['/a', 401, false],
        ['/a', 200, true],
        ['/b', 200, true],
      ],
    );
  });

  it('re-challenges on stale=true with the new nonce (nc restarts at 1)', async () => {
    const s = await authServer({ schemes: ['digest'], nonceUses: 2 });
    const c = cam(s.port);
    for (let i = 0; i < 4; i++) await text(c, STREAM);
    assert.deepEqual(
      s.log.map((e) => `${e.status}:${e.nc ?? '-'}`),
      ['401:-', '200:00000001', '200:00000002', '401:00000003', '200:00000001', '200:00000002'],
    );
  });

  it('re-challenges once on a later 401 without stale (camera rebooted)', async () => {
    const s = await authServer({ schemes: ['digest', 'basic'] });
    const c = cam(s.port);
    await text(c, STREAM);
    s.forgetNonces();
    s.log.length = 0;
    await text(c, STREAM);
    assert.deepEqual(
      s.log.map((e) => e.status),
      [401, 200],
    );
  });

  it('wrong password → ERR_AUTH_FAILED naming the offered methods, no retry loop', async () => {
    const s = await authServer({ schemes: ['digest', 'basic'] });
    const c = cam(s.port, { password: 'wrong' });
    const e = await authFailure(c.request(STREAM));
    assert.match(e.message, /camera offers Digest, Basic/);
    assert.match(e.message, /rejected/);
    assert.equal(s.requests, 2);
    await authFailure(c.request(STREAM));
    assert.equal(s.requests, 4, 'the next request: one preemptive try and one fresh challenge');
  });

  it('MD5-sess', async () => {
    const s = await authServer({ schemes: ['digest'], algorithm: 'MD5-sess' });
    const c = cam(s.port);
    await text(c, STREAM);
    await text(c, STREAM);
    assert.deepEqual(
      s.log.map((e) => e.status),
      [401, 200, 200],
    );
    assert.match(s.log[2]?.authorization ?? '', /algorithm=MD5-sess/);
  });

  it('legacy RFC 2069 Digest without qop', async () => {
    const s = await authServer({ schemes: ['digest'], qop: false });
    const c = cam(s.port);
    assert.equal(await text(c, STREAM), `ok GET ${STREAM} `);
    assert.doesNotMatch(s.log[1]?.authorization ?? '', /qop|cnonce/);
  });

  it('re-sends a POST body on the auth retry', async () => {
    const s = await authServer({ schemes: ['digest'] });
    const c = cam(s.port);
    const json = JSON.stringify({ apiVersion: '1.0', method: 'getAllProperties' });
    assert.equal(await text(c, '/axis-cgi/basicdeviceinfo.cgi', { body: json }), `ok POST /axis-cgi/basicdeviceinfo.cgi ${json}`);
    assert.deepEqual(
      s.log.map((e) => [e.method, e.body]),
      [
        ['POST', json],
        ['POST', json],
      ],
    );
    assert.equal(await text(c, '/p', { body: Buffer.from('buf') }), 'ok POST /p buf');
  });

  it("auth 'digest' refuses a Basic-only camera", async () => {
    const s = await authServer({ schemes: ['basic'] });
    const e = await authFailure(cam(s.port, { auth: 'digest' }).request('/'));
    assert.match(e.message, /auth is set to Digest; camera offers Basic/);
    assert.equal(s.requests, 1);
  });

  it("auth 'basic' sends Basic up front and never Digest", async () => {
    const s = await authServer({ schemes: ['digest', 'basic'] });
    await text(cam(s.port, { auth: 'basic' }), '/');
    assert.deepEqual(
      s.log.map((e) => [e.status, e.authorization?.split(' ')[0]]),
      [[200, 'Basic']],
    );
    const d = await authServer({ schemes: ['digest'] });
    const e = await authFailure(cam(d.port, { auth: 'basic' }).request('/'));
    assert.match(e.message, /camera offers Digest/);
    assert.equal(d.requests, 1);
  });

  it("auth 'none', or no user name, never sends credentials", async () => {
    const s = await authServer({ schemes: ['digest'] });
    await authFailure(cam(s.port, { auth: 'none' }).request('/'));
    const e = await authFailure(cam(s.port, { username: '', password: '' }).request('/'));
    assert.match(e.message, /no user name configured/);
    assert.ok(s.log.every((x) => x.authorization === undefined));
  });
});

describe('CameraHttpClient: auth follows the request scheme (AXIS OS policy)', function () {
  this.timeout(15000);
  const schemes = (s: AuthServer): Array<[number, string | undefined]> =>
    s.log.map((e) => [e.status, e.authorization?.split(' ')[0]]);

  it('https, both offered: Basic first (safe inside TLS), then up front', async () => {
    const s = await authServer({ schemes: ['digest', 'basic'], tls: true });
    const c = tlsCam(s.port);
    await text(c, '/a');
    await text(c, '/b');
    assert.deepEqual(schemes(s), [[401, undefined], [200, 'Basic'], [200, 'Basic']]);
  });

  it('https, both offered but Basic refused: retried once with Digest, which then stays', async () => {
    const s = await authServer({ schemes: ['digest', 'basic'], accept: ['digest'], tls: true });
    const c = tlsCam(s.port);
    await text(c, STREAM);
    await text(c, STREAM);
    assert.deepEqual(schemes(s), [[401, undefined], [401, 'Basic'], [200, 'Digest'], [200, 'Digest']]);
  });

  it('https, wrong password with both offered: each scheme once, then ERR_AUTH_FAILED', async () => {
    const s = await authServer({ schemes: ['digest', 'basic'], tls: true });
    const e = await authFailure(tlsCam(s.port, { password: 'wrong' }).request('/'));
    assert.match(e.message, /rejected/);
    assert.deepEqual(schemes(s), [[401, undefined], [401, 'Basic'], [401, 'Digest']]);
  });

  it('http, both offered but Digest refused: no Basic retry (the password would cross the network readable)', async () => {
    const s = await authServer({ schemes: ['digest', 'basic'], accept: ['basic'] });
    const e = await authFailure(cam(s.port).request('/'));
    assert.match(e.message, /rejected/);
    assert.deepEqual(schemes(s), [[401, undefined], [401, 'Digest']]);
  });

  it('http, Basic learned then refused while Digest is offered: retried once with Digest', async () => {
    const s = await authServer({ schemes: ['basic'] });
    const c = cam(s.port);
    await text(c, '/a');
    // The camera's policy changed to Digest-or-Basic, Digest only.
    s.o.schemes = ['digest', 'basic'];
    s.o.accept = ['digest'];
    s.log.length = 0;
    await text(c, '/b');
    assert.deepEqual(schemes(s), [[401, 'Basic'], [200, 'Digest']]);
  });

  it("Auth 'digest' against Basic-only https: ERR_AUTH_FAILED with the policy hint, no credentials sent", async () => {
    const s = await authServer({ schemes: ['basic'], tls: true });
    const e = await authFailure(tlsCam(s.port, { auth: 'digest' }).request('/'));
    assert.equal(e.hint, DIGEST_SET_BASIC_ONLY_HTTPS_HINT);
    assert.match(e.hint, /Set Auth to Auto or Basic/);
    assert.equal(s.requests, 1);
  });

  it("Auth 'basic' against Digest-only http: ERR_AUTH_FAILED with the policy hint", async () => {
    const s = await authServer({ schemes: ['digest'] });
    const e = await authFailure(cam(s.port, { auth: 'basic' }).request('/'));
    assert.equal(e.hint, BASIC_SET_DIGEST_ONLY_HTTP_HINT);
  });

  it("the simulator's per-scheme policy: Digest over http, Basic over https", async () => {
    const plain = await startSimulator({ auth: 'per-scheme', username: USER, password: PASS });
    opened.push(() => plain.close());
    const secure = await startSimulator({ auth: 'per-scheme', username: USER, password: PASS, https: testCerts().selfSigned });
    opened.push(() => secure.close());
    const seen: string[] = [];
    plain.onRequest = (r) => seen.push(`http ${r.headers.authorization?.split(' ')[0] ?? '-'}`);
    secure.onRequest = (r) => seen.push(`https ${r.headers.authorization?.split(' ')[0] ?? '-'}`);
    await cam(plain.port).fetchBuffer('/axis-cgi/jpg/image.cgi', { expect: 'jpeg' });
    await tlsCam(secure.port).fetchBuffer('/axis-cgi/jpg/image.cgi', { expect: 'jpeg' });
    assert.deepEqual(seen, ['http -', 'http Digest', 'https -', 'https Basic']);
    const e = await authFailure(tlsCam(secure.port, { auth: 'digest' }).request('/axis-cgi/jpg/image.cgi'));
    assert.equal(e.hint, DIGEST_SET_BASIC_ONLY_HTTPS_HINT);
  });
});

describe('CameraHttpClient: credentials never leak', () => {
  it('no password, Basic token or userinfo in any error message, JSON, stack or cause', async () => {
    const secret = 'Hunter2-Sekrit';
    const basicToken = Buffer.from(`${USER}:${secret}`).toString('base64');
    const echo = http.createServer((req, res) => {
      const url = req.url ?? '';
      if (url.startsWith('/echo')) {
        // A camera echoing what it was sent must not bring the password into our messages.
        res.writeHead(200, { 'content-type': `text/plain; x=${secret}` });
        res.end(`you sent ${secret} ${req.headers.authorization ?? ''}`);
      } else if (url.startsWith('/basic')) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' });
        res.end();
      } else {
        res.writeHead(404);
        res.end(secret);
      }
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    opened.push(async () => {
      echo.closeAllConnections();
      await new Promise<void>((r) => echo.close(() => r()));
    });
    const port = (echo.address() as net.AddressInfo).port;
    const ds = await authServer({ schemes: ['digest', 'basic'] });

    const errors: unknown[] = [];
    const grab = async (p: Promise<unknown>): Promise<void> => {
      await p.then(
        () => assert.fail('expected an error'),
        (e: unknown) => errors.push(e),
      );
    };
    const c = cam(port, { password: secret, auth: 'basic' });
    await grab(c.request(`/echo?pwd=${secret}`, { expect: 'multipart' }));
    await grab(c.request(`/basic?password=${secret}`));
    await grab(c.request(`/missing?token=${secret}`));
    await grab(cam(ds.port, { password: secret }).request(STREAM));
    const closed = await (async () => {
      const t = net.createServer();
      t.listen(0, '127.0.0.1');
      await once(t, 'listening');
      const p = (t.address() as net.AddressInfo).port;
      await new Promise<void>((r) => t.close(() => r()));
      return p;
    })();
    await grab(cam(closed, { password: secret }).request(`/x?pass=${secret}`));
    await grab(cam(80, { host: 'nonexistent.invalid', password: secret }).request('/'));
    try {
      new CameraHttpClient({ protocol: 'http', host: `${USER}:${secret}@10.0.0.1`, password: secret });
    } catch (e) {
      errors.push(e);
    }
    assert.equal(errors.length, 7);
    assert.deepEqual(
      errors.map((e) => (e as CameraError).code),
      ['ERR_NOT_MJPEG', 'ERR_AUTH_FAILED', 'ERR_NOT_FOUND', 'ERR_AUTH_FAILED', 'ERR_CONN_REFUSED', 'ERR_DNS', 'ERR_INVALID_SETTING'],
    );
    for (const e of errors) {
      const ce = e as CameraError;
      const texts = [ce.message, ce.stack ?? '', JSON.stringify(ce), ce.describe(), inspect(ce, { depth: 10 }), String(ce.body)];
      for (const t of texts) {
        assert.ok(!t.includes(secret), `password leaked (${ce.code}): ${t}`);
        assert.ok(!t.includes(basicToken), `Basic token leaked (${ce.code})`);
      }
    }
    // The echo body is kept, with the password masked.
    assert.match((errors[0] as CameraError).body ?? '', /^you sent \*\*\* Basic /);
  });
});

describe('CameraHttpClient against the camera simulator', function () {
  this.timeout(30000);

  for (const algorithm of ['MD5', 'MD5-sess'] as const) {
    it(`streams and snapshots through ${algorithm} Digest (auth both)`, async () => {
      const sim = await startSimulator({ auth: 'both', username: USER, password: PASS, digestAlgorithm: algorithm });
      opened.push(() => sim.close());
      const c = cam(sim.port);
      const res = await c.request('/axis-cgi/mjpg/video.cgi?resolution=320x240&fps=5', { expect: 'multipart' });
      for await (const chunk of res.body) {
        assert.ok(chunk.length > 0);
        break;
      }
      const snap = await c.fetchBuffer('/axis-cgi/jpg/image.cgi?resolution=320x240', { expect: 'jpeg' });
      assert.equal(snap.body[0], 0xff);
      assert.equal(snap.body[1], 0xd8);
      assert.equal(sim.lastAuthFailure, null);
      assert.equal(sim.stats.authFailures <= 1, true, `one challenge expected, ${sim.stats.authFailures} failures`);
    });
  }

  it('survives nonce expiry (stale=true) on the simulator', async () => {
    const sim = await startSimulator({ auth: 'digest', username: USER, password: PASS, nonceLifetimeMs: 100 });
    opened.push(() => sim.close());
    const c = cam(sim.port);
    await c.fetchBuffer('/axis-cgi/jpg/image.cgi', { expect: 'jpeg' });
    await new Promise((r) => setTimeout(r, 250)); // let the nonce expire
    await c.fetchBuffer('/axis-cgi/jpg/image.cgi', { expect: 'jpeg' });
    assert.match(sim.lastAuthFailure ?? '', /nonce expired/);
  });
});
