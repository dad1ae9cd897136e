import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { CameraHttpClient } from '../src/http';
import { normalizeFingerprint, probeCertificate } from '../src/http/tls-pin';
import { CameraError } from '../src/errors';
import { EventStream, type AxisEvent, type EventStateChange } from '../src/events';
import { StreamSession, type Frame } from '../src/session';
import { HttpStreamSource } from '../src/http-source';
import { startSimulator, type CameraSimulator } from '../simulator';
import { TOPIC_VIRTUAL_INPUT } from '../simulator/events';
import { testCerts } from './support/tls-certs';
import { waitFor } from './support/wait';

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;
const FAST_BACKOFF = { initialMs: 50, maxMs: 200, factor: 2, jitter: 0, healthyResetMs: 60_000, credentialRetryMs: 50 };

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

describe('certificate pinning', function () {
  this.timeout(20_000);
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });

  /** A TLS server that counts the bytes clients send after the handshake: a pin refusal must send none. */
  async function countingTlsServer(pair: { cert: string; key: string }): Promise<{ port: number; bytes: () => number; handshakes: () => number }> {
    let bytes = 0;
    let handshakes = 0;
    const srv = tls.createServer(pair, (s) => {
      s.on('data', (d: Buffer) => {
        bytes += d.length;
        s.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      });
      s.on('error', () => {});
    });
    srv.on('tlsClientError', () => {});
    srv.on('connection', () => handshakes++);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
    return { port: (srv.address() as net.AddressInfo).port, bytes: () => bytes, handshakes: () => handshakes };
  }

  function client(port: number, pin: string, extra: Partial<ConstructorParameters<typeof CameraHttpClient>[0]> = {}): CameraHttpClient {
    const c = new CameraHttpClient({ protocol: 'https', host: '127.0.0.1', port, tls: { pinSha256: pin }, ...extra });
    cleanup.push(() => c.close());
    return c;
  }

  it('normalizes fingerprints as typed or pasted, refuses anything else', () => {
    const hex = 'ab'.repeat(32);
    const want = Array(32).fill('AB').join(':');
    assert.equal(normalizeFingerprint(hex), want);
    assert.equal(normalizeFingerprint(want.toLowerCase()), want);
    assert.equal(normalizeFingerprint(`SHA256 Fingerprint=${want}`), want);
    assert.equal(normalizeFingerprint(' ' + want.replace(/:/g, ' ') + ' '), want);
    for (const bad of ['', 'ab'.repeat(31), 'zz'.repeat(32), 42, undefined]) assert.equal(normalizeFingerprint(bad), null);
    assert.throws(
      () => new CameraHttpClient({ protocol: 'https', host: '127.0.0.1', tls: { pinSha256: 'nope' } }),
      (e: unknown) => e instanceof CameraError && e.code === 'ERR_INVALID_SETTING' && /fingerprint/.test(e.message),
    );
  });

  it('the pinned self-signed certificate is trusted without a CA, and for any name', async () => {
    const certs = testCerts();
    const srv = await countingTlsServer(certs.wrongName); // issued for camera.example, reached as 127.0.0.1
    const c = client(srv.port, fingerprint(certs.wrongName.cert));
    assert.equal((await c.fetchBuffer('/')).body.toString(), 'ok');
  });

  it('another certificate → ERR_TLS_PIN_MISMATCH naming both fingerprints, and not one request byte sent', async () => {
    const certs = testCerts();
    const srv = await countingTlsServer(certs.selfSigned);
    const pinned = fingerprint(certs.wrongName.cert);
    const presented = fingerprint(certs.selfSigned.cert);
    const c = client(srv.port, pinned, { username: 'root', password: 'S3cret-pin', auth: 'basic' });
    const e = await rejectsWith(c.request('/axis-cgi/jpg/image.cgi'), 'ERR_TLS_PIN_MISMATCH');
    assert.ok(e.message.includes(pinned) && e.message.includes(presented), e.message);
    assert.match(e.hint, /Test connection/);
    assert.ok(srv.handshakes() >= 1);
    assert.equal(srv.bytes(), 0, 'no request (and no Basic password) reached the impostor');
    // The pin wins over a CA that would otherwise trust the presented certificate, and over allowSelfSigned.
    const d = client(srv.port, pinned, { tls: { pinSha256: pinned, ca: certs.selfSigned.cert, allowSelfSigned: true } });
    await rejectsWith(d.request('/'), 'ERR_TLS_PIN_MISMATCH');
  });

  it('streams, snapshots and the event WebSocket of a pinned HTTPS-only camera', async () => {
    const certs = testCerts();
    const sim: CameraSimulator = await startSimulator({ auth: 'per-scheme', https: certs.selfSigned });
    cleanup.push(() => sim.close());
    const c = client(sim.port, fingerprint(certs.selfSigned.cert), { username: 'root', password: 'pass' });
    const snap = await c.fetchBuffer('/axis-cgi/jpg/image.cgi?resolution=160x120', { expect: 'jpeg' });
    assert.equal(snap.body[0], 0xff);

    const session = new StreamSession({ source: new HttpStreamSource(c, '/axis-cgi/mjpg/video.cgi?resolution=160x120&fps=20'), backoff: FAST_BACKOFF });
    cleanup.push(() => session.stop());
    const frames: Frame[] = [];
    session.on('frame', (f) => frames.push(f));
    session.start();
    await waitFor(() => frames.length >= 3, 8000, 'stream frames');

    const stream = new EventStream({ client: c, topics: [TOPIC_VIRTUAL_INPUT], dispatcher: c.dispatcher, backoff: FAST_BACKOFF });
    cleanup.push(() => stream.stop());
    const got: AxisEvent[] = [];
    stream.on('event', (ev) => got.push(ev));
    stream.start();
    await waitFor(() => stream.state === 'connected', 8000, 'event WebSocket over wss');
    sim.setVirtualInput(3, true);
    await waitFor(() => got.length === 1, 5000, 'event');
  });

  it('the event stream of a camera with a changed certificate fails with the pin error and retries', async () => {
    const certs = testCerts();
    const sim = await startSimulator({ auth: 'per-scheme', https: certs.selfSigned });
    cleanup.push(() => sim.close());
    const c = client(sim.port, fingerprint(certs.wrongName.cert), { username: 'root', password: 'pass' });
    const stream = new EventStream({ client: c, topics: [TOPIC_VIRTUAL_INPUT], dispatcher: c.dispatcher, backoff: FAST_BACKOFF, topicList: false });
    cleanup.push(() => stream.stop());
    const states: EventStateChange[] = [];
    stream.on('state', (s) => states.push(s));
    stream.start();
    await waitFor(() => states.some((s) => s.state === 'backoff'), 5000, 'backoff');
    assert.equal(states.find((s) => s.state === 'backoff')!.error!.code, 'ERR_TLS_PIN_MISMATCH');
    assert.equal(sim.stats.requests, 0, 'the camera never got a request');
  });

  it('probeCertificate: the fingerprint and dates of what a server presents, sending nothing', async () => {
    const certs = testCerts();
    const srv = await countingTlsServer(certs.selfSigned);
    const info = await probeCertificate({ host: '127.0.0.1', port: srv.port, timeoutMs: 3000 });
    assert.equal(info.sha256, fingerprint(certs.selfSigned.cert));
    assert.equal(info.selfSigned, true);
    assert.ok(info.validTo && Date.parse(info.validTo) > Date.now());
    assert.equal(srv.bytes(), 0);

    const plain = http.createServer((_q, r) => r.end('x'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => plain.close(() => r())));
    await rejectsWith(probeCertificate({ host: '127.0.0.1', port: (plain.address() as net.AddressInfo).port, timeoutMs: 3000 }), 'ERR_TLS');
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    await rejectsWith(probeCertificate({ host: '127.0.0.1', port, timeoutMs: 3000 }), 'ERR_CONN_REFUSED');
  });
});
