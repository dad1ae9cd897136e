import assert from 'node:assert/strict';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, callsOf, startNodeRed, stopNodeRed } from '../support/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');

const SECRET = 'T3st-conn-secret';

async function testConnection(body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await helper.request().post('/axmjpeg-camera/test').send(body).expect(200);
  return res.body;
}

describe('axmjpeg-camera config node', function () {
  let sim: CameraSimulator;

  beforeEach(startNodeRed);

  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
  });

  it('Test connection reports model, firmware and the first frame size', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load(cameraNode, []);
    const r = await testConnection({ host: '127.0.0.1', port: sim.port, protocol: 'http', auth: 'auto', user: 'root', password: SECRET, resolution: '320x240' });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.match(r.model, /AXIS/);
    assert.ok(r.firmware);
    assert.equal(r.width, 320);
    assert.equal(r.height, 240);
    const end = Date.now() + 3000;
    while (sim.stats.activeStreams !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sim.stats.activeStreams, 0, 'test stream closed');
  });

  it('Test connection uses the stored password when the editor sends the placeholder', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load(cameraNode, [{ id: 'cam', type: 'axmjpeg-camera', host: '127.0.0.1', port: sim.port }], { cam: { user: 'root', password: SECRET } });
    const r = await testConnection({ id: 'cam', host: '127.0.0.1', port: sim.port, user: 'root', password: '__PWRD__' });
    assert.equal(r.ok, true, JSON.stringify(r));
  });

  it('Test connection explains each failure with a code and hint and never echoes the password', async () => {
    sim = await startSimulator({ auth: 'digest', password: 'right' });
    await helper.load(cameraNode, []);
    const wrong = await testConnection({ host: '127.0.0.1', port: sim.port, user: 'root', password: SECRET });
    assert.equal(wrong.ok, false);
    assert.equal(wrong.code, 'ERR_AUTH_FAILED');
    assert.match(wrong.hint, /Digest/);
    assert.ok(!JSON.stringify(wrong).includes(SECRET));

    const badCam = await testConnection({ host: '127.0.0.1', port: sim.port, user: 'root', password: 'right', cameraNumber: '9' });
    assert.equal(badCam.code, 'ERR_NOT_MJPEG');
    assert.match(badCam.body, /Camera 9/);

    const port = sim.port;
    await sim.close();
    const refused = await testConnection({ host: '127.0.0.1', port, user: 'root', password: 'right' });
    assert.equal(refused.code, 'ERR_CONN_REFUSED');
    assert.match(refused.hint, /HTTPS/);

    const badHost = await testConnection({ host: 'http://root:x@cam', port });
    assert.equal(badHost.code, 'ERR_INVALID_SETTING');

    const badCa = await testConnection({ host: '127.0.0.1', port, protocol: 'https', ca: '/etc/ssl/camera.pem' });
    assert.equal(badCa.code, 'ERR_INVALID_SETTING');
    assert.match(badCa.message, /PEM/);
  });

  it('a config error is reported at deploy, not thrown', async () => {
    await helper.load(cameraNode, [{ id: 'cam', type: 'axmjpeg-camera', host: 'http://10.0.0.1/', port: 'eighty' }]);
    const n = helper.getNode('cam');
    const errs = callsOf(n, 'error').map((c) => c.args[0]);
    assert.equal(errs.length, 1);
    assert.match(errs[0], /host name or IP address only/);
  });
});
