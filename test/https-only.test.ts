import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { CameraHttpClient } from '../src/http';
import { CameraError } from '../src/errors';
import { startSimulator, type CameraSimulator } from '../simulator';
import { selfSignedCertificate } from '../simulator/self-signed';

async function rejectsWith(p: Promise<unknown>, code: string): Promise<CameraError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CameraError, String(e));
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('HTTPS-only camera (simulator, AXIS OS 13 style)', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;
  const clients: CameraHttpClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await sim?.close();
    sim = null;
  });
  const client = (o: ConstructorParameters<typeof CameraHttpClient>[0]): CameraHttpClient => {
    const c = new CameraHttpClient(o);
    clients.push(c);
    return c;
  };

  it('the generated certificate is a valid self-signed X.509 for the simulator address, different every start', () => {
    const a = selfSignedCertificate();
    const b = selfSignedCertificate();
    const x = new X509Certificate(a.cert);
    assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(x.checkHost('localhost'), 'localhost');
    assert.ok(x.verify(x.publicKey), 'self-signed: its own key verifies it');
    assert.ok(Date.parse(x.validTo) > Date.now() && Date.parse(x.validFrom) < Date.now());
    assert.equal(x.fingerprint256, a.sha256);
    assert.notEqual(a.sha256, b.sha256);
  });

  it('serves HTTPS with a certificate made at start-up: refused unverified, trusted by pin or as CA', async () => {
    sim = await startSimulator({ httpsOnly: true, auth: 'per-scheme' });
    assert.match(sim.url, /^https:/);
    assert.ok(sim.certificate);
    const base = { protocol: 'https' as const, host: '127.0.0.1', port: sim.port, username: 'root', password: 'pass' };
    await rejectsWith(client(base).request('/axis-cgi/jpg/image.cgi'), 'ERR_TLS_SELF_SIGNED');
    const pinned = await client({ ...base, tls: { pinSha256: sim.certificate.sha256 } }).fetchBuffer('/axis-cgi/jpg/image.cgi', { expect: 'jpeg' });
    assert.equal(pinned.body[0], 0xff);
    const viaCa = await client({ ...base, tls: { ca: sim.certificate.cert } }).fetchBuffer('/axis-cgi/jpg/image.cgi', { expect: 'jpeg' });
    assert.equal(viaCa.body[0], 0xff);
  });

  it('plain http to its http port: ERR_HTTPS_REQUIRED naming the https port, no credentials sent', async () => {
    sim = await startSimulator({ httpsOnly: true, auth: 'per-scheme' });
    assert.ok(sim.httpPort > 0 && sim.httpPort !== sim.port);
    const c = client({ protocol: 'http', host: '127.0.0.1', port: sim.httpPort, username: 'root', password: 'pass', auth: 'basic' });
    const seen: string[] = [];
    sim.onRequest = (r) => seen.push(String(r.headers.authorization));
    const e = await rejectsWith(c.request('/axis-cgi/mjpg/video.cgi'), 'ERR_HTTPS_REQUIRED');
    assert.match(e.message, new RegExp(`port ${sim.port}\\)`));
    assert.match(e.hint, /set Protocol to https/);
    assert.deepEqual(seen, [], 'the https camera never saw the request');
  });

  it('plain http to the https port itself fails with a typed error, never a hang', async () => {
    sim = await startSimulator({ httpsOnly: true });
    const c = client({ protocol: 'http', host: '127.0.0.1', port: sim.port, responseTimeoutMs: 3000 });
    const t = Date.now();
    await assert.rejects(c.request('/'), (e: unknown) => e instanceof CameraError && ['ERR_CONN_RESET', 'ERR_BAD_HTTP'].includes(e.code));
    assert.ok(Date.now() - t < 3000);
  });
});
