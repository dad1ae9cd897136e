import assert from 'node:assert/strict';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, collect, startNodeRed, stopNodeRed } from '../support/node-red';
import { cameraConfig, catchAll, mjpgIn } from '../support/flow-nodes';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../../nodes/axmjpeg-in');

async function testConnection(body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await helper.request().post('/axmjpeg-camera/test').send(body).expect(200);
  return res.body;
}

describe('an http config against an HTTPS-only camera (Node-RED)', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;

  beforeEach(startNodeRed);
  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
  });

  it('Test connection on the redirecting http port offers https on the camera port, with its certificate', async () => {
    sim = await startSimulator({ httpsOnly: true, auth: 'per-scheme' });
    await helper.load(cameraNode, []);
    const r = await testConnection({ host: '127.0.0.1', port: sim.httpPort, protocol: 'http', user: 'root', password: 'pass' });
    assert.equal(r.ok, false);
    assert.equal(r.code, 'ERR_HTTPS_REQUIRED');
    assert.deepEqual({ protocol: r.suggest.protocol, port: r.suggest.port }, { protocol: 'https', port: sim.port });
    assert.equal(r.suggest.certificate.sha256, sim.certificate!.sha256);
    assert.match(r.hint, /accepts only HTTPS/);

    // What the editor does next: https on that port, the offered certificate pinned.
    const ok = await testConnection({ host: '127.0.0.1', port: sim.port, protocol: 'https', user: 'root', password: 'pass', pinSha256: r.suggest.certificate.sha256 });
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.equal(ok.certificate.pinned, true);
  });

  it('Test connection with http on the https port itself also finds TLS there and offers it', async () => {
    sim = await startSimulator({ httpsOnly: true });
    await helper.load(cameraNode, []);
    const r = await testConnection({ host: '127.0.0.1', port: sim.port, protocol: 'http', auth: 'none' });
    assert.equal(r.ok, false);
    assert.equal(r.suggest?.port, sim.port, JSON.stringify(r));
  });

  it('no suggestion for an http camera that is simply down', async () => {
    sim = await startSimulator({ auth: 'none' });
    const port = sim.port;
    await sim.close();
    sim = null;
    await helper.load(cameraNode, []);
    const r = await testConnection({ host: '127.0.0.1', port, protocol: 'http', auth: 'none' });
    assert.equal(r.code, 'ERR_CONN_REFUSED');
    assert.equal(r.suggest, undefined);
  });

  it('a deployed http camera node against it: Catch gets ERR_HTTPS_REQUIRED with the hint to switch', async () => {
    sim = await startSimulator({ httpsOnly: true, auth: 'per-scheme' });
    await helper.load([cameraNode, mjpgInNode], [cameraConfig('cam', sim.httpPort), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll()], {
      cam: { user: 'root', password: 'pass' },
    });
    const caught = collect('caught');
    await waitFor(() => caught.length >= 1, 8000, 'an error');
    assert.equal(caught[0]!.payload.code, 'ERR_HTTPS_REQUIRED');
    assert.match(caught[0]!.error.message, /set Protocol to https/);
  });
});
