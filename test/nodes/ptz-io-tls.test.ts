/**
 * axmjpeg-ptz and axmjpeg-io go through the camera config node's client: an
 * HTTPS camera with a pinned self-signed certificate (and the per-scheme auth
 * AXIS OS uses: Basic over HTTPS) takes their commands; with a pin it does
 * not match, not one command reaches it and Catch gets the TLS error.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, collect, startNodeRed, stopNodeRed } from '../support/node-red';
import { cameraConfig, catchAll } from '../support/flow-nodes';
import { testCerts } from '../support/tls-certs';
import { waitFor } from '../support/wait';

const cameraNode = require('../../nodes/axmjpeg-camera');
const ptzNode = require('../../nodes/axmjpeg-ptz');
const ioNode = require('../../nodes/axmjpeg-io');

const SECRET = 'Pinned-ptz-s3cret';
const WAIT_MS = 8000;
const pinOf = (pem: string): string => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

function flow(port: number, pin: string): unknown[] {
  return [
    cameraConfig('cam', port, { protocol: 'https', pinSha256: pin }),
    { id: 'p', type: 'axmjpeg-ptz', camera: 'cam', action: 'preset', preset: 'Door', wait: true, wires: [['out']] },
    { id: 'io', type: 'axmjpeg-io', camera: 'cam', action: 'pulse', port: '1', ms: '200', wires: [['out']] },
    { id: 'out', type: 'helper' },
    ...catchAll(),
  ];
}

describe('axmjpeg-ptz / axmjpeg-io on a pinned HTTPS camera', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;

  beforeEach(startNodeRed);
  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
  });

  it('the pinned certificate: the preset move and the pulse go through, Basic over TLS', async () => {
    const certs = testCerts();
    sim = await startSimulator({ auth: 'per-scheme', https: certs.selfSigned, password: SECRET, ptz: true, io: { inputs: 1, outputs: 1 } });
    const basic: string[] = [];
    sim.onRequest = (req) => {
      if (String(req.headers.authorization ?? '').startsWith('Basic ')) basic.push(req.url ?? '');
    };
    await helper.load([cameraNode, ptzNode, ioNode], flow(sim.port, pinOf(certs.selfSigned.cert)), { cam: { user: 'root', password: SECRET } });
    const out = collect('out');
    const caught = collect('caught');
    helper.getNode('p').receive({ payload: 1 });
    helper.getNode('io').receive({ payload: 1 });
    await waitFor(() => out.length === 2, WAIT_MS, 'both done');
    assert.deepEqual(caught, []);
    assert.equal(sim.ptz!.state.onPreset, 2);
    assert.ok(basic.some((u) => u.includes('gotoserverpresetname=Door')));
    assert.ok(sim.io.requests.includes('portmanagement:setStateSequence'));
  });

  it('a pin the camera does not match: no command reaches it, Catch gets the TLS error for each msg', async () => {
    const certs = testCerts();
    sim = await startSimulator({ auth: 'per-scheme', https: certs.selfSigned, password: SECRET, ptz: true, io: { inputs: 1, outputs: 1 } });
    await helper.load([cameraNode, ptzNode, ioNode], flow(sim.port, 'ab'.repeat(32)), { cam: { user: 'root', password: SECRET } });
    const caught = collect('caught');
    helper.getNode('p').receive({ payload: 1 });
    helper.getNode('io').receive({ payload: 1 });
    await waitFor(() => caught.length === 2, WAIT_MS, 'two errors');
    for (const c of caught) {
      assert.match(c.error.code, /^ERR_TLS/);
      assert.ok(!JSON.stringify(c).includes(SECRET));
    }
    assert.equal(sim.stats.requests, 0);
    assert.equal(sim.ptz!.commands.length, 0);
  });
});
