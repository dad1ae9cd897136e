import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import jpeg from 'jpeg-js';
import { startSimulator, CameraSimulator } from '../../simulator';
import type { AxisCameraApi, CameraSubscription } from '../../nodes/lib/types';
import { helper, callsOf, collect, startNodeRed, statusesOf, stopNodeRed } from '../support/node-red';
import { catchAndComplete } from '../support/flow-nodes';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const snapshotNode = require('../../nodes/axmjpeg-snapshot');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../../nodes/axmjpeg-in');

const USER = 'root';
const PASSWORD = 'pass';
/** Distinctive, so a leak anywhere is easy to spot. */
const WRONG_PASSWORD = 'Wr0ng-S3cret-xyzzy';
const FILENAME_RE = /^Front_door_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}-\d{3}\.jpg$/;

function flow(port: number, snapshotCfg: Record<string, unknown> = {}, cameraCfg: Record<string, unknown> = {}) {
  return [
    { id: 's', type: 'axmjpeg-snapshot', name: '', camera: 'cam', wires: [['out']], ...snapshotCfg },
    { id: 'out', type: 'helper' },
    ...catchAndComplete('s'),
    { id: 'cam', type: 'axmjpeg-camera', name: 'Front door', host: '127.0.0.1', port, protocol: 'http', auth: 'auto', ...cameraCfg },
  ];
}

/** Every request to image.cgi, Digest challenge rounds included. */
function imageCgiRequests(sim: CameraSimulator): { readonly count: number } {
  let n = 0;
  sim.onRequest = (req) => {
    if ((req.url ?? '').startsWith('/axis-cgi/jpg/image.cgi')) n++;
  };
  return {
    get count() {
      return n;
    },
  };
}

function creds(password = PASSWORD) {
  return { cam: { user: USER, password } };
}

function lastStatus(node: unknown): { fill?: string; shape?: string; text?: string } {
  const statuses = statusesOf(node);
  assert.ok(statuses.length > 0, 'no status yet');
  return statuses[statuses.length - 1]!;
}

describe('snapshot node', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;
  let sub: CameraSubscription | null = null;
  let dead: net.Server | null = null;
  const deadSockets = new Set<net.Socket>();

  /** Accepts connections, reads requests, never answers: a camera that hangs. */
  async function startSilentServer(): Promise<number> {
    dead = net.createServer((s) => {
      deadSockets.add(s);
      // Read what comes in: a paused socket never sees the peer's FIN, so 'close' would not fire.
      s.resume();
      s.on('close', () => deadSockets.delete(s));
    });
    await new Promise<void>((r) => dead!.listen(0, '127.0.0.1', () => r()));
    return (dead.address() as net.AddressInfo).port;
  }

  beforeEach(startNodeRed);
  afterEach(async () => {
    sub?.unsubscribe();
    sub = null;
    await stopNodeRed();
    await sim?.close();
    sim = null;
    for (const s of deadSockets) s.destroy();
    deadSockets.clear();
    await new Promise<void>((r) => (dead ? dead.close(() => r()) : r()));
    dead = null;
  });

  it('fresh still from image.cgi: decodable JPEG, frame meta, filename, input props kept, done once', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 0, resolution: '320x240' }), creds());
    const out = collect('out');
    const completed = collect('completed');
    const caught = collect('caught');
    const before = Date.now();
    helper.getNode('s').receive({ topic: 'motion/front', payload: 'ON', extra: { zone: 2 } });
    await waitFor(() => out.length === 1 && completed.length === 1, 8000, 'snapshot');
    const m = out[0]!;
    assert.ok(Buffer.isBuffer(m.payload));
    const img = jpeg.decode(m.payload, { useTArray: true });
    assert.equal(img.width, 320);
    assert.equal(img.height, 240);
    assert.equal(m.topic, 'motion/front');
    assert.deepEqual(m.extra, { zone: 2 });
    assert.equal(m.frame.seq, 0);
    assert.equal(m.frame.fps, 0);
    assert.equal(m.frame.width, 320);
    assert.equal(m.frame.height, 240);
    assert.equal(m.frame.size, m.payload.length);
    assert.equal(m.frame.camera, 'Front door');
    assert.deepEqual(m.frame.headers, {});
    assert.ok(m.frame.time >= before && m.frame.time <= Date.now());
    assert.match(m.filename, FILENAME_RE);
    assert.equal(m.snapshot.source, 'camera');
    assert.ok(m.snapshot.age >= 0 && m.snapshot.age < 5000);
    assert.equal(caught.length, 0);
    const status = lastStatus(helper.getNode('s'));
    assert.equal(status.fill, 'green');
  });

  it('uses the running live stream when its newest frame is fresh, without asking the camera', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 2000 }), creds());
    const cam = helper.getNode('cam') as AxisCameraApi;
    let frames = 0;
    sub = cam.subscribe(undefined, { onFrame: () => void frames++ });
    await waitFor(() => frames >= 2 && cam.latestFrame() !== null, 8000, 'live frames');
    const image = imageCgiRequests(sim);
    const out = collect('out');
    const completed = collect('completed');
    helper.getNode('s').receive({ payload: 1 });
    await waitFor(() => out.length === 1 && completed.length === 1, 5000, 'snapshot');
    const m = out[0]!;
    assert.equal(m.snapshot.source, 'stream');
    assert.ok(m.snapshot.age <= 2000, `age ${m.snapshot.age}`);
    assert.ok(m.frame.seq >= 1);
    const img = jpeg.decode(m.payload, { useTArray: true });
    assert.equal(m.frame.width, img.width);
    assert.equal(m.frame.height, img.height);
    assert.equal(image.count, 0, 'no image.cgi request');
  });

  it('an axmjpeg-in node with the same settings keeps a stream running: its frames are used', async () => {
    sim = await startSimulator({ auth: 'digest' });
    const nodes = [
      ...flow(sim.port, { maxAge: 2000, resolution: '320x240' }),
      { id: 'in', type: 'axmjpeg-in', source: 'camera', camera: 'cam', resolution: '320x240', fps: '', compression: '', cameraNumber: '', startOnDeploy: true, wires: [['frames']] },
      { id: 'frames', type: 'helper' },
    ];
    await helper.load([cameraNode, mjpgInNode, snapshotNode], nodes, creds());
    const frames = collect('frames');
    await waitFor(() => frames.length >= 2, 8000, 'axmjpeg-in frames');
    const image = imageCgiRequests(sim);
    const out = collect('out');
    helper.getNode('s').receive({ payload: 1 });
    await waitFor(() => out.length === 1, 5000, 'snapshot');
    assert.equal(out[0]!.snapshot.source, 'stream');
    assert.equal(out[0]!.frame.width, 320);
    assert.equal(image.count, 0, 'no image.cgi request');
    assert.equal(sim.stats.streamRequests, 1, 'still one camera connection');
  });

  it('asks the camera when max age is 0 even though a stream is running', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 0 }), creds());
    const cam = helper.getNode('cam') as AxisCameraApi;
    sub = cam.subscribe(undefined, { onFrame: () => undefined });
    await waitFor(() => cam.latestFrame() !== null, 8000, 'live frames');
    const image = imageCgiRequests(sim);
    const out = collect('out');
    helper.getNode('s').receive({ payload: 1 });
    await waitFor(() => out.length === 1, 8000, 'snapshot');
    assert.equal(out[0]!.snapshot.source, 'camera');
    assert.ok(image.count >= 1);
  });

  it('concurrent triggers share one camera request; every input gets its own msg and one done', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 0 }), creds());
    const image = imageCgiRequests(sim);
    const out = collect('out');
    const completed = collect('completed');
    const node = helper.getNode('s');
    // Warm up (Digest challenge), then measure what one snapshot costs.
    node.receive({ payload: 'warm' });
    await waitFor(() => out.length === 1, 8000, 'warm-up');
    const r0 = image.count;
    node.receive({ payload: 'one' });
    await waitFor(() => out.length === 2, 8000, 'single');
    const single = image.count - r0;
    assert.ok(single >= 1);

    const N = 8;
    const r1 = image.count;
    const served = sim.stats.snapshots;
    for (let i = 0; i < N; i++) node.receive({ topic: `t${i}`, payload: i });
    await waitFor(() => out.length === 2 + N && completed.length === 2 + N, 8000, 'burst');
    assert.equal(image.count - r1, single, 'the burst cost as many requests as one snapshot');
    assert.equal(sim.stats.snapshots - served, 1, 'the camera served one image for the burst');
    const burst = out.slice(2);
    assert.deepEqual(
      burst.map((m) => m.topic).sort(),
      Array.from({ length: N }, (_, i) => `t${i}`).sort(),
    );
    for (const m of burst) {
      assert.equal(m.snapshot.source, 'camera');
      assert.ok(m.payload.equals(burst[0]!.payload));
    }
    await sleep(100);
    assert.equal(completed.length, 2 + N, 'done() exactly once per input');
  });

  it('wrong password: Catch gets ERR_AUTH_FAILED with a hint, status red, no password anywhere', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 0 }), creds(WRONG_PASSWORD));
    const out = collect('out');
    const caught = collect('caught');
    const completed = collect('completed');
    const node = helper.getNode('s');
    node.receive({ topic: 'door', payload: 'x' });
    await waitFor(() => caught.length === 1 && completed.length === 1, 8000, 'error');
    const e = caught[0]!;
    assert.equal(e.error.code, 'ERR_AUTH_FAILED');
    assert.match(e.error.message, /Digest/, 'the hint is in the message');
    assert.equal(e.error.source.id, 's');
    assert.equal(e.topic, 'door', 'the original msg reaches Catch');
    assert.equal(out.length, 0);
    const status = lastStatus(node);
    assert.equal(status.fill, 'red');

    const said = JSON.stringify({
      caught,
      status: callsOf(node, 'status').map((c) => c.args),
      errors: callsOf(node, 'error').map((c) => String(c.args[0])),
      log: helper.log().getCalls().map((c: { args: unknown[] }) => c.args),
    });
    assert.ok(!said.includes(WRONG_PASSWORD), 'password leaked');
  });

  it('an HTML page instead of a JPEG is ERR_NOT_JPEG; the next good answer turns the status green again', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 0 }), creds());
    const out = collect('out');
    const caught = collect('caught');
    const completed = collect('completed');
    const node = helper.getNode('s');
    sim.setFault({ kind: 'html' });
    node.receive({ payload: 'x' });
    await waitFor(() => caught.length === 1 && completed.length === 1, 8000, 'error');
    assert.equal(caught[0]!.error.code, 'ERR_NOT_JPEG');
    assert.equal(lastStatus(node).fill, 'red');
    assert.equal(out.length, 0);

    sim.setFault(null);
    node.receive({ payload: 'y' });
    await waitFor(() => out.length === 1 && completed.length === 2, 8000, 'recovery');
    assert.equal(lastStatus(node).fill, 'green');
    assert.equal(caught.length, 1);
  });

  it('msg overrides: valid ones reach the camera, invalid ones are reported without a request', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 0, resolution: '320x240' }), creds());
    const image = imageCgiRequests(sim);
    const out = collect('out');
    const caught = collect('caught');
    const completed = collect('completed');
    const node = helper.getNode('s');
    node.receive({ payload: 1, resolution: '160x120', compression: 50 });
    await waitFor(() => out.length === 1, 8000, 'snapshot');
    assert.equal(jpeg.decode(out[0]!.payload).width, 160);

    const r0 = image.count;
    node.receive({ payload: 2, resolution: 'huge' });
    node.receive({ payload: 3, compression: 101 });
    node.receive({ payload: 4, camera: 'front' });
    await waitFor(() => caught.length === 3 && completed.length === 4, 5000, 'errors');
    for (const e of caught) assert.equal(e.error.code, 'ERR_INVALID_SETTING');
    assert.match(caught[0]!.error.message, /msg\.resolution/);
    assert.equal(image.count, r0, 'no request for an invalid override');
  });

  it('a camera that never answers: timeout reaches Catch as ERR_RESPONSE_TIMEOUT, status red', async () => {
    sim = await startSimulator({ auth: 'digest' });
    sim.setFault({ kind: 'stall' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 0, timeout: 0.5 }), creds());
    const caught = collect('caught');
    const completed = collect('completed');
    const node = helper.getNode('s');
    node.receive({ payload: 'x' });
    await waitFor(() => caught.length === 1 && completed.length === 1, 5000, 'timeout');
    assert.equal(caught[0]!.error.code, 'ERR_RESPONSE_TIMEOUT');
    assert.equal(lastStatus(node).fill, 'red');
  });

  it('a timed-out request is aborted: the camera sees its socket closed', async () => {
    const port = await startSilentServer();
    await helper.load([cameraNode, snapshotNode], flow(port, { maxAge: 0, timeout: 0.3 }), creds());
    const caught = collect('caught');
    helper.getNode('s').receive({ payload: 'x' });
    await waitFor(() => caught.length === 1, 5000, 'timeout');
    assert.equal(caught[0]!.error.code, 'ERR_RESPONSE_TIMEOUT');
    await waitFor(() => deadSockets.size === 0, 3000, 'socket closed');
  });

  it('close aborts in-flight fetches and reports nothing', async () => {
    const port = await startSilentServer();
    await helper.load([cameraNode, snapshotNode], flow(port, { maxAge: 0, timeout: 30 }), creds());
    const caught = collect('caught');
    helper.getNode('s').receive({ payload: 'x' });
    await waitFor(() => deadSockets.size === 1, 3000, 'request sent');
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 5000, 'close did not wait for the 30 s timeout');
    await waitFor(() => deadSockets.size === 0, 3000, 'socket closed');
    assert.equal(caught.length, 0);
  });

  /** The simulator's stamp in a JPEG: `axis-sim seq=N`. */
  const simSeq = (b: Buffer): number => Number(/axis-sim seq=(\d+)/.exec(b.toString('latin1'))?.[1] ?? NaN);

  it('fresh: the next frame of a running live stream, captured after the trigger, without asking the camera', async () => {
    sim = await startSimulator({ auth: 'digest', defaultFps: 10 });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { freshness: 'fresh', maxAge: 60000 }), creds());
    const cam = helper.getNode('cam') as AxisCameraApi;
    sub = cam.subscribe(undefined, { onFrame: () => undefined });
    await waitFor(() => (cam.latestFrame()?.seq ?? 0) >= 2, 8000, 'live frames');
    const image = imageCgiRequests(sim);
    const out = collect('out');
    const before = cam.latestFrame()!;
    const t0 = Date.now();
    helper.getNode('s').receive({ payload: 1 });
    await waitFor(() => out.length === 1, 5000, 'snapshot');
    const m = out[0]!;
    assert.equal(m.snapshot.source, 'stream');
    assert.ok(m.frame.seq > before.seq, `seq ${m.frame.seq} after ${before.seq}`);
    assert.ok(m.frame.time >= t0, 'captured after the trigger');
    assert.equal(image.count, 0, 'no image.cgi request');
  });

  it('fresh without a stream: a camera request already under way is not shared, triggers arriving together are', async () => {
    sim = await startSimulator({ auth: 'none' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { freshness: 'fresh', resolution: '320x240' }), creds());
    const out = collect('out');
    const completed = collect('completed');
    const node = helper.getNode('s');
    node.receive({ payload: 'warm' });
    await waitFor(() => out.length === 1, 8000, 'warm-up');
    const served = sim.stats.snapshots;
    // Slow answers: the first request is surely still under way when the next triggers come.
    sim.setFault({ kind: 'slow', bytesPerSec: 20_000 });
    node.receive({ topic: 'first' });
    await waitFor(() => sim!.stats.snapshots === served + 1, 5000, 'first request under way');
    node.receive({ topic: 'second' });
    node.receive({ topic: 'third' });
    await waitFor(() => out.length === 4 && completed.length === 4, 10_000, 'all three');
    assert.equal(sim.stats.snapshots - served, 2, 'one request for the first, one shared by the two later triggers');
    const byTopic = new Map(out.slice(1).map((m) => [m.topic, simSeq(m.payload)]));
    assert.ok(byTopic.get('second')! > byTopic.get('first')!, 'the later triggers got a later image');
    assert.equal(byTopic.get('second'), byTopic.get('third'));
  });

  it('skip frames on a stream the snapshot opens (custom path): the first N frames are dropped', async () => {
    sim = await startSimulator({ auth: 'digest', defaultFps: 25 });
    await helper.load(
      [cameraNode, snapshotNode],
      flow(sim.port, { maxAge: 0, skipFrames: 3 }, { customPath: '/axis-cgi/mjpg/video.cgi?resolution=320x240&fps=25' }),
      creds(),
    );
    const out = collect('out');
    helper.getNode('s').receive({ payload: 1 });
    await waitFor(() => out.length === 1, 8000, 'snapshot');
    assert.equal(simSeq(out[0]!.payload), 4, 'the fourth frame of the stream');
    assert.equal(out[0]!.snapshot.source, 'camera');
  });

  it('skip frames on a still endpoint: N more requests, one at a time, the last kept', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 0, skipFrames: 2 }), creds());
    const out = collect('out');
    helper.getNode('s').receive({ payload: 1 });
    await waitFor(() => out.length === 1, 8000, 'snapshot');
    assert.equal(sim.stats.snapshots, 3);
    assert.equal(simSeq(out[0]!.payload), 3);
  });

  it('skip frames: a live stream that has just started is not used before frame N+1', async () => {
    sim = await startSimulator({ auth: 'digest', defaultFps: 5 });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: 60000, skipFrames: 50 }), creds());
    const cam = helper.getNode('cam') as AxisCameraApi;
    sub = cam.subscribe(undefined, { onFrame: () => undefined });
    await waitFor(() => cam.latestFrame() !== null, 8000, 'first live frame');
    const out = collect('out');
    helper.getNode('s').receive({ payload: 1 });
    await waitFor(() => out.length === 1, 8000, 'snapshot');
    assert.equal(out[0]!.snapshot.source, 'camera');
  });

  for (const [cfg, re] of [
    [{ freshness: 'newest' }, /freshness/],
    [{ skipFrames: 2.5 }, /skip frames/],
    [{ skipFrames: 101 }, /skip frames/],
  ] as const) {
    it(`invalid ${JSON.stringify(cfg)} → ERR_INVALID_SETTING naming the field`, async () => {
      sim = await startSimulator({ auth: 'digest' });
      await helper.load([cameraNode, snapshotNode], flow(sim.port, cfg), creds());
      const caught = collect('caught');
      helper.getNode('s').receive({ payload: 1 });
      await waitFor(() => caught.length === 1, 3000, 'error');
      assert.equal(caught[0]!.error.code, 'ERR_INVALID_SETTING');
      assert.match(caught[0]!.error.message, re);
    });
  }

  it('invalid settings: red status at start, every input reported, no throw', async () => {
    sim = await startSimulator({ auth: 'digest' });
    await helper.load([cameraNode, snapshotNode], flow(sim.port, { maxAge: -5 }), creds());
    const node = helper.getNode('s');
    await waitFor(() => callsOf(node, 'status').length > 0, 2000, 'status');
    assert.equal(lastStatus(node).fill, 'red');
    const caught = collect('caught');
    const completed = collect('completed');
    node.receive({ payload: 1 });
    await waitFor(() => caught.length === 1 && completed.length === 1, 3000, 'error');
    assert.equal(caught[0]!.error.code, 'ERR_INVALID_SETTING');
    assert.match(caught[0]!.error.message, /max age/);
  });
});
