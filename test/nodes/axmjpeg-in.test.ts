import assert from 'node:assert/strict';
import { waitFor, within } from '../support/wait';
import { makeFifo, threadpoolAnswers } from '../support/recording';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, collect, startNodeRed, statusesOf, stopNodeRed } from '../support/node-red';
import { cameraConfig, catchAll, mjpgIn } from '../support/flow-nodes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../../nodes/axmjpeg-in');

const SECRET = 'S3cret-pw-for-leak-check';

/** Named, so the tests can see the config node's name in msg.topic and msg.frame.camera. */
const cam = (port: number) => cameraConfig('cam', port, { name: 'Gate' });
const inNode = (id: string, extra: Record<string, unknown> = {}, wires = [['out']]) => mjpgIn(id, 'cam', extra, wires);

/** Sockets the camera sees open right now: a leak shows up here. */
function openStreams(sim: CameraSimulator): number {
  return sim.stats.activeStreams;
}

describe('axmjpeg-in node', function () {
  let sim: CameraSimulator;

  beforeEach(startNodeRed);

  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
  });

  it('emits one msg per frame with the JPEG and its metadata, through Digest', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load([cameraNode, mjpgInNode], [cam(sim.port), inNode('in'), { id: 'out', type: 'helper' }], {
      cam: { user: 'root', password: SECRET },
    });
    const got = collect('out');
    await waitFor(() => got.length >= 5, 10000, 'five frames');
    const m = got[0]!;
    assert.ok(Buffer.isBuffer(m.payload));
    assert.equal(m.payload[0], 0xff);
    assert.equal(m.payload[1], 0xd8);
    assert.equal(m.topic, 'Gate');
    assert.equal(m.frame.width, 160);
    assert.equal(m.frame.height, 120);
    assert.equal(m.frame.size, m.payload.length);
    assert.equal(m.frame.camera, 'Gate');
    assert.equal(m.frame.headers['content-type'], 'image/jpeg');
    assert.deepEqual(
      got.slice(0, 5).map((x) => x.frame.seq),
      [1, 2, 3, 4, 5],
    );
    assert.ok(!JSON.stringify(got.map((x) => ({ ...x, payload: null }))).includes(SECRET));
  });

  it('shares one camera connection between nodes with the same settings', async () => {
    sim = await startSimulator({ auth: 'none' });
    await helper.load(
      [cameraNode, mjpgInNode],
      [cam(sim.port), inNode('a', {}, [['outA']]), inNode('b', {}, [['outB']]), inNode('c2', { fps: '5' }, [['outC']]),
        { id: 'outA', type: 'helper' }, { id: 'outB', type: 'helper' }, { id: 'outC', type: 'helper' }],
    );
    const a = collect('outA');
    const b = collect('outB');
    const c = collect('outC');
    await waitFor(() => a.length >= 3 && b.length >= 3 && c.length >= 2, 10000, 'frames on all');
    assert.equal(sim.stats.streamRequests, 2, 'one stream per distinct settings');
  });

  it('reports wrong credentials once to Catch with code and hint, never the password, and retries', async () => {
    sim = await startSimulator({ auth: 'digest', password: 'right' });
    await helper.load([cameraNode, mjpgInNode], [cam(sim.port), inNode('in'), { id: 'out', type: 'helper' }, ...catchAll()], {
      cam: { user: 'root', password: SECRET },
    });
    const caught = collect('caught');
    await waitFor(() => sim.stats.authFailures >= 3, 10000, 'three failed attempts');
    assert.equal(caught.length, 1, 'one report per distinct failure');
    assert.equal(caught[0]!.payload.code, 'ERR_AUTH_FAILED');
    assert.match(caught[0]!.error.message, /Digest/);
    const statuses = statusesOf(helper.getNode('in'));
    // The test helper does not translate: the key shows which text a user gets.
    assert.ok(statuses.some((s: any) => s.fill === 'red' && /status\.retry/.test(s.text)), JSON.stringify(statuses));
    const texts = statuses.map((s: any) => s.text);
    const everything = JSON.stringify({ caught, texts, log: helper.log().args });
    assert.ok(!everything.includes(SECRET), 'password leaked');
  });

  it("waits the camera's 'retry refused login after' time (default 60 s) before asking again", async () => {
    sim = await startSimulator({ auth: 'digest', password: 'right' });
    await helper.load([cameraNode, mjpgInNode], [cameraConfig('cam', sim.port, { loginRetry: '' }), inNode('in'), { id: 'out', type: 'helper' }], {
      cam: { user: 'root', password: SECRET },
    });
    await waitFor(() => sim.stats.authFailures >= 1, 5000, 'the first refused attempt');
    // With the old 1 s backoff a second attempt came within about a second.
    await sleep(2500);
    assert.equal(sim.stats.authFailures, 1, 'no second attempt within 2.5 s');
  });

  it('stops, starts and restarts with new settings on input', async () => {
    sim = await startSimulator({ auth: 'none' });
    await helper.load([cameraNode, mjpgInNode], [cam(sim.port), inNode('in', { startOnDeploy: false }), { id: 'out', type: 'helper' }]);
    const got = collect('out');
    const n = helper.getNode('in');
    await sleep(300);
    assert.equal(got.length, 0, 'not started on deploy');
    n.receive({ payload: 'start' });
    await waitFor(() => got.length >= 2, 8000, 'frames after start');
    n.receive({ payload: 'stop' });
    await waitFor(() => openStreams(sim) === 0, 3000, 'camera connection closed');
    const stoppedAt = got.length;
    await sleep(300);
    assert.ok(got.length <= stoppedAt + 1);
    n.receive({ settings: { resolution: '320x240' } });
    await waitFor(() => got.some((m) => m.frame.width === 320), 8000, '320x240 frames');
  });

  it('rejects invalid settings with a clear error to Catch and no connection', async () => {
    sim = await startSimulator({ auth: 'none' });
    await helper.load([cameraNode, mjpgInNode], [cam(sim.port), inNode('in', { resolution: '640*480' }), { id: 'out', type: 'helper' }, ...catchAll()]);
    const caught = collect('caught');
    await waitFor(() => caught.length === 1, 3000, 'a caught error');
    assert.equal(caught[0]!.payload.code, 'ERR_INVALID_SETTING');
    assert.match(caught[0]!.error.message, /resolution must look like 640x480/);
    const n = helper.getNode('in');
    n.receive({ payload: 'start' });
    await waitFor(() => caught.length === 2, 3000, 'start refused');
    assert.match(caught[1]!.error.message, /resolution/);
    n.receive({ settings: { fps: -3 } });
    await waitFor(() => caught.length === 3, 3000, 'bad msg.settings refused');
    assert.match(caught[2]!.error.message, /fps/);
    assert.equal(sim.stats.streamRequests, 0, 'never connected with other settings than asked');
  });

  it('recovers by itself after a camera reboot', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, mjpgInNode], [cam(sim.port), inNode('in'), { id: 'out', type: 'helper' }], {
      cam: { user: 'root', password: 'pass' },
    });
    const got = collect('out');
    await waitFor(() => got.length >= 2, 8000, 'frames');
    sim.setFault({ kind: 'reboot', ms: 500 });
    await sleep(200);
    const n = got.length;
    await waitFor(() => got.length >= n + 3, 15000, 'frames after reboot');
  });

  it('plays a recorded .mjpg file', async () => {
    sim = await startSimulator({ auth: 'none' });
    // Record three frames from the simulator as a plain multipart body, like `curl > file.mjpg`.
    const body = await new Promise<Buffer>((resolve, reject) => {
      http.get(`${sim.url}/axis-cgi/mjpg/video.cgi?resolution=160x120&nbrofframes=3&fps=25`, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve(Buffer.concat(parts)));
        res.on('error', reject);
      }).on('error', reject);
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axmjpeg-in-'));
    const file = path.join(dir, 'clip.mjpg');
    fs.writeFileSync(file, body);
    try {
      await helper.load([mjpgInNode], [{ id: 'in', type: 'axmjpeg-in', source: 'file', file, fileFps: '50', loop: false, startOnDeploy: true, wires: [['out']] }, { id: 'out', type: 'helper' }]);
      const got = collect('out');
      await waitFor(() => got.length >= 3, 5000, 'three frames from the file');
      await sleep(200);
      assert.equal(got.length, 3);
      assert.equal(got[0]!.frame.width, 160);
      assert.equal(got[0]!.frame.camera, 'clip.mjpg');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a FIFO as the playback file: ERR_NOT_REGULAR_FILE in status and Catch; close is quick, so redeploys keep working', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axmjpeg-in-fifo-'));
    const fifo = path.join(dir, 'pipe.mjpg');
    try {
      if (!makeFifo(fifo)) this.skip();
      // Five deploys: before the fix each left a libuv thread blocked in open(2); after four, Node-RED hung.
      for (let deploy = 0; deploy < 5; deploy++) {
        await helper.load([mjpgInNode], [{ id: 'in', type: 'axmjpeg-in', source: 'file', file: fifo, fileFps: '', loop: true, startOnDeploy: true, wires: [['out']] }, { id: 'out', type: 'helper' }, ...catchAll()]);
        const caught = collect('caught');
        await waitFor(() => caught.length === 1, 2000, `the error of deploy ${deploy}`);
        assert.equal(caught[0]!.payload.code, 'ERR_NOT_REGULAR_FILE');
        assert.match(caught[0]!.payload.message, /pipe\.mjpg" is a FIFO/);
        const n = helper.getNode('in');
        await waitFor(() => statusesOf(n).some((st) => st.fill === 'red' && st.text === 'ERR_NOT_REGULAR_FILE'), 2000, 'a red status');
        await within(helper.unload(), 1000, `close of deploy ${deploy}`);
      }
      await threadpoolAnswers(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an invalid playback fps instead of playing at some other pace', async () => {
    await helper.load([mjpgInNode], [{ id: 'in', type: 'axmjpeg-in', source: 'file', file: '/tmp/x.mjpg', fileFps: 'fast', startOnDeploy: true, wires: [[]] }, ...catchAll()]);
    const caught = collect('caught');
    await waitFor(() => caught.length === 1, 3000, 'a caught error');
    assert.equal(caught[0]!.payload.code, 'ERR_INVALID_SETTING');
  });

  it('leaves no camera connection behind after 30 redeploys while streaming', async function () {
    this.timeout(60000);
    sim = await startSimulator({ auth: 'digest' });
    const flow = [cam(sim.port), inNode('in'), { id: 'out', type: 'helper' }];
    for (let i = 0; i < 30; i++) {
      await helper.load([cameraNode, mjpgInNode], flow, { cam: { user: 'root', password: 'pass' } });
      if (i % 10 === 0) {
        const got = collect('out');
        await waitFor(() => got.length >= 1, 8000, 'a frame');
      } else await sleep(20);
      await helper.unload();
    }
    await waitFor(() => openStreams(sim) === 0, 5000, 'every camera stream closed');
  });
});
