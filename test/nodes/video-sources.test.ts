import assert from 'node:assert/strict';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, collect, startNodeRed, stopNodeRed } from '../support/node-red';
import { cameraConfig, catchAll, mjpgIn } from '../support/flow-nodes';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../../nodes/axmjpeg-in');

const SECRET = 'Multi-sensor-s3cret';

describe('video sources of a multi-sensor camera in Node-RED', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;

  beforeEach(startNodeRed);
  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
  });

  it('Test connection lists the sources and view areas with names and resolutions', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET, cameras: 2, viewAreas: 1, defaultResolution: '320x240' });
    await helper.load(cameraNode, []);
    const res = await helper
      .request()
      .post('/axmjpeg-camera/test')
      .send({ host: '127.0.0.1', port: sim.port, user: 'root', password: SECRET })
      .expect(200);
    assert.equal(res.body.ok, true, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.sources.map((s: { camera: string; name: string; resolution: string | null }) => `${s.camera} ${s.name} ${s.resolution}`),
      ['1 Camera 1 320x240', '2 Camera 2 320x240', '3 View Area 1 800x600', 'quad Quad view null'],
    );
  });

  it('GET /axmjpeg-camera/<id>/sources: the deployed camera with its stored password; unknown ids are 404', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET, cameras: 4 });
    await helper.load(cameraNode, [cameraConfig('cam', sim.port)], { cam: { user: 'root', password: SECRET } });
    const res = await helper.request().get('/axmjpeg-camera/cam/sources').expect(200);
    assert.equal(res.body.ok, true, JSON.stringify(res.body));
    assert.deepEqual(res.body.sources.map((s: { camera: string }) => s.camera), ['1', '2', '3', '4', 'quad']);
    assert.ok(!JSON.stringify(res.body).includes(SECRET));
    await helper.request().get('/axmjpeg-camera/nope/sources').expect(404);
  });

  it('a wrong stored password: our words and the code, not the camera\'s page', async () => {
    sim = await startSimulator({ auth: 'digest', password: 'right', cameras: 2 });
    await helper.load(cameraNode, [cameraConfig('cam', sim.port)], { cam: { user: 'root', password: SECRET } });
    const res = await helper.request().get('/axmjpeg-camera/cam/sources').expect(200);
    assert.equal(res.body.ok, false);
    assert.equal(res.body.code, 'ERR_AUTH_FAILED');
    assert.doesNotMatch(JSON.stringify(res.body), /<HTML|SECRET/i);
  });

  it('a stream node picking view area 3 gets that view area', async () => {
    sim = await startSimulator({ auth: 'none', cameras: 2, viewAreas: 1 });
    await helper.load(
      [cameraNode, mjpgInNode],
      [cameraConfig('cam', sim.port), mjpgIn('in', 'cam', { cameraNumber: '3' }), { id: 'out', type: 'helper' }, ...catchAll()],
    );
    const got = collect('out');
    await waitFor(() => got.length >= 2, 8000, 'frames');
    assert.match(got[0]!.payload.toString('latin1'), /axis-sim seq=\d+ t=\d+ cam=3/);
  });
});
