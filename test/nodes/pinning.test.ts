import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, collect, startNodeRed, stopNodeRed } from '../support/node-red';
import { cameraConfig, catchAll, mjpgIn } from '../support/flow-nodes';
import { testCerts } from '../support/tls-certs';
import { waitFor } from '../support/wait';
import { TOPIC_VIRTUAL_INPUT } from '../../simulator/events';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../../nodes/axmjpeg-in');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const eventNode = require('../../nodes/axmjpeg-event');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const snapshotNode = require('../../nodes/axmjpeg-snapshot');

const SECRET = 'Pinned-camera-s3cret';
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

async function testConnection(body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await helper.request().post('/axmjpeg-camera/test').send(body).expect(200);
  return res.body;
}

describe('axmjpeg-camera: a pinned certificate in Node-RED', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;

  beforeEach(startNodeRed);
  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
  });

  it('Test connection shows the fingerprint of a self-signed camera, and succeeds once it is pinned', async () => {
    const certs = testCerts();
    sim = await startSimulator({ auth: 'per-scheme', https: certs.selfSigned, password: SECRET });
    await helper.load(cameraNode, []);
    const base = { host: '127.0.0.1', port: sim.port, protocol: 'https', user: 'root', password: SECRET, resolution: '160x120' };
    const refused = await testConnection(base);
    assert.equal(refused.ok, false);
    assert.equal(refused.code, 'ERR_TLS_SELF_SIGNED');
    assert.equal(refused.certificate.sha256, fingerprint(certs.selfSigned.cert));
    assert.equal(refused.certificate.selfSigned, true);
    assert.equal(refused.certificate.pinned, false);
    assert.equal(sim.stats.requests, 0, 'nothing was sent to the unverified camera');

    const ok = await testConnection({ ...base, pinSha256: refused.certificate.sha256.replace(/:/g, '').toLowerCase() });
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.equal(ok.width, 160);
    assert.equal(ok.certificate.pinned, true);
    assert.ok(!JSON.stringify(ok).includes(SECRET));
  });

  it('Test connection with a pin the camera no longer matches: ERR_TLS_PIN_MISMATCH and the new fingerprint', async () => {
    const certs = testCerts();
    sim = await startSimulator({ auth: 'per-scheme', https: certs.selfSigned });
    await helper.load(cameraNode, []);
    const r = await testConnection({ host: '127.0.0.1', port: sim.port, protocol: 'https', user: 'root', password: 'pass', pinSha256: fingerprint(certs.wrongName.cert) });
    assert.equal(r.code, 'ERR_TLS_PIN_MISMATCH');
    assert.ok(r.message.includes(fingerprint(certs.wrongName.cert)) && r.message.includes(fingerprint(certs.selfSigned.cert)), r.message);
    assert.equal(r.certificate.sha256, fingerprint(certs.selfSigned.cert));
    assert.equal(r.certificate.pinned, false);
  });

  it('a deployed camera with a pin streams; the stored password is not lent to a changed pin', async () => {
    const certs = testCerts();
    sim = await startSimulator({ auth: 'per-scheme', https: certs.selfSigned, password: SECRET });
    const pin = fingerprint(certs.selfSigned.cert);
    const flow = [cameraConfig('cam', sim.port, { protocol: 'https', pinSha256: pin }), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll()];
    await helper.load([cameraNode, mjpgInNode], flow, { cam: { user: 'root', password: SECRET } });
    const got = collect('out');
    await waitFor(() => got.length >= 3, 8000, 'frames over pinned https');
    const common = { id: 'cam', host: '127.0.0.1', port: sim.port, protocol: 'https', user: 'root', password: '__PWRD__' };
    const same = await testConnection({ ...common, pinSha256: pin });
    assert.equal(same.ok, true, JSON.stringify(same));
    const other = await testConnection({ ...common, pinSha256: fingerprint(certs.wrongName.cert) });
    assert.equal(other.reason, 'retype-password');
  });

  it('a deployed camera whose certificate changed: Catch gets ERR_TLS_PIN_MISMATCH, nothing reaches the camera', async () => {
    const certs = testCerts();
    sim = await startSimulator({ auth: 'per-scheme', https: certs.selfSigned, password: SECRET });
    const flow = [cameraConfig('cam', sim.port, { protocol: 'https', pinSha256: fingerprint(certs.wrongName.cert) }), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll()];
    await helper.load([cameraNode, mjpgInNode], flow, { cam: { user: 'root', password: SECRET } });
    const caught = collect('caught');
    await waitFor(() => caught.length >= 1, 8000, 'an error');
    assert.equal(caught[0]!.payload.code, 'ERR_TLS_PIN_MISMATCH');
    assert.match(caught[0]!.error.message, /expected SHA-256/);
    assert.equal(sim.stats.requests, 0);
  });

  it('axmjpeg-event and axmjpeg-snapshot on a pinned HTTPS-only camera: events over wss, a still over https', async () => {
    sim = await startSimulator({ auth: 'per-scheme', httpsOnly: true, password: SECRET });
    const flow = [
      cameraConfig('cam', sim.port, { protocol: 'https', pinSha256: sim.certificate!.sha256 }),
      { id: 'ev', type: 'axmjpeg-event', camera: 'cam', topics: TOPIC_VIRTUAL_INPUT, wires: [['events']] },
      { id: 'events', type: 'helper' },
      { id: 's', type: 'axmjpeg-snapshot', camera: 'cam', maxAge: 0, wires: [['snap']] },
      { id: 'snap', type: 'helper' },
      ...catchAll(),
    ];
    await helper.load([cameraNode, eventNode, snapshotNode], flow, { cam: { user: 'root', password: SECRET } });
    const events = collect('events');
    const snaps = collect('snap');
    const caught = collect('caught');
    await waitFor(() => sim!.events.stats.wsOpen === 1 && sim!.events.stats.notifications >= 1, 8000, 'event WebSocket open');
    const before = events.length;
    sim.setVirtualInput(2, true);
    await waitFor(() => events.length > before, 5000, 'an event');
    assert.equal(events[events.length - 1]!.payload.active, true);
    helper.getNode('s').receive({ payload: 1 });
    await waitFor(() => snaps.length === 1, 5000, 'snapshot');
    assert.equal(snaps[0]!.payload[0], 0xff);
    assert.equal(caught.length, 0, JSON.stringify(caught.map((c) => c.error)));
  });

  it('a malformed pin is a setting error', async () => {
    sim = await startSimulator({ auth: 'none' });
    await helper.load(cameraNode, []);
    const r = await testConnection({ host: '127.0.0.1', port: sim.port, protocol: 'https', pinSha256: 'AB:CD' });
    assert.equal(r.code, 'ERR_INVALID_SETTING');
    assert.match(r.message, /SHA-256 fingerprint/);
  });
});
