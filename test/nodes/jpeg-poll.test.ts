import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, collect, startNodeRed, stopNodeRed } from '../support/node-red';
import { cameraConfig, catchAll, mjpgIn } from '../support/flow-nodes';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../../nodes/axmjpeg-in');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const snapshotNode = require('../../nodes/axmjpeg-snapshot');

const CREDS = { cam: { user: 'root', password: 'pass' } };

describe('axmjpeg-camera source "JPEG snapshot URL (polled)" in Node-RED', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;

  beforeEach(startNodeRed);
  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
  });

  it('axmjpeg-in gets a frame stream from a snapshot-only device at the node\'s fps; snapshot uses the same URL', async () => {
    sim = await startSimulator({ auth: 'digest', snapshotOnly: true });
    const flow = [
      cameraConfig('cam', sim.port, { sourceType: 'jpeg-poll', customPath: '/axis-cgi/jpg/image.cgi?resolution=160x120' }),
      mjpgIn('in', 'cam', { fps: '5' }),
      { id: 'out', type: 'helper' },
      { id: 's', type: 'axmjpeg-snapshot', camera: 'cam', maxAge: 0, wires: [['snap']] },
      { id: 'snap', type: 'helper' },
      ...catchAll(),
    ];
    await helper.load([cameraNode, mjpgInNode, snapshotNode], flow, CREDS);
    const got = collect('out');
    const caught = collect('caught');
    await waitFor(() => got.length >= 2, 8000, 'polled frames');
    const n0 = got.length;
    const t0 = Date.now();
    await sleep(1200);
    const rate = ((got.length - n0) * 1000) / (Date.now() - t0);
    assert.ok(rate >= 2 && rate <= 6, `about 5 fps (never more), got ${rate.toFixed(1)}`);
    const m = got[0]!;
    assert.equal(m.payload[0], 0xff);
    assert.equal(m.frame.width, 160);
    assert.equal(m.frame.headers['content-type'], 'image/jpeg');
    assert.equal(sim.stats.streamRequests, 0, 'the MJPEG stream was never asked for');

    const snaps = collect('snap');
    helper.getNode('s').receive({ payload: 1 });
    await waitFor(() => snaps.length === 1, 5000, 'snapshot');
    assert.equal(snaps[0]!.frame.width, 160);
    assert.equal(caught.length, 0, JSON.stringify(caught.map((c) => c.error)));
  });

  it('the plain MJPEG source on the same device: ERR_NOT_FOUND, so the mode matters', async () => {
    sim = await startSimulator({ auth: 'none', snapshotOnly: true });
    await helper.load([cameraNode, mjpgInNode], [cameraConfig('cam', sim.port), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll()], CREDS);
    const caught = collect('caught');
    await waitFor(() => caught.length >= 1, 8000, 'an error');
    assert.equal(caught[0]!.payload.code, 'ERR_NOT_FOUND');
  });

  it('Test connection in polled mode fetches one JPEG and reports its size', async () => {
    sim = await startSimulator({ auth: 'digest', snapshotOnly: true });
    await helper.load(cameraNode, []);
    const res = await helper
      .request()
      .post('/axmjpeg-camera/test')
      .send({ host: '127.0.0.1', port: sim.port, user: 'root', password: 'pass', sourceType: 'jpeg-poll', resolution: '320x240' })
      .expect(200);
    assert.equal(res.body.ok, true, JSON.stringify(res.body));
    assert.equal(res.body.width, 320);
    assert.equal(sim.stats.streamRequests, 0);
  });

  it('an unknown source type is a setting error, not a silent MJPEG source', async () => {
    sim = await startSimulator({ auth: 'none' });
    await helper.load([cameraNode, mjpgInNode], [cameraConfig('cam', sim.port, { sourceType: 'rtsp' }), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll()], CREDS);
    const caught = collect('caught');
    await waitFor(() => caught.length >= 1, 5000, 'an error');
    assert.equal(caught[0]!.payload.code, 'ERR_INVALID_SETTING');
    assert.match(caught[0]!.error.message, /Source must be/);
  });
});
