/**
 * axmjpeg-ptz in Node-RED (node-red-node-test-helper) with the real
 * axmjpeg-camera config node against the simulator's moving PTZ head.
 */
import assert from 'node:assert/strict';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, collect, startNodeRed, statusesOf, stopNodeRed } from '../support/node-red';
import { catchAndComplete } from '../support/flow-nodes';
import { waitFor } from '../support/wait';

const cameraNode = require('../../nodes/axmjpeg-camera');
const ptzNode = require('../../nodes/axmjpeg-ptz');

const SECRET = 'Ptz-n0de-secret';
const WAIT_MS = 8000;

function flow(port: number, ptz: Record<string, unknown> = {}): unknown[] {
  return [
    { id: 'cam', type: 'axmjpeg-camera', host: '127.0.0.1', port, protocol: 'http', auth: 'auto', loginRetry: 0.2 },
    { id: 'p', type: 'axmjpeg-ptz', camera: 'cam', action: 'preset', preset: 'Door', wait: true, timeout: '10', wires: [['out']], ...ptz },
    { id: 'out', type: 'helper' },
    ...catchAndComplete('p'),
  ];
}

const statusTexts = (n: unknown): string[] => statusesOf(n).map((s) => s?.text as string);

describe('axmjpeg-ptz node', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;

  beforeEach(startNodeRed);

  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
  });

  it('goes to the configured preset over Digest and passes the msg on when the camera is still', async () => {
    sim = await startSimulator({ ptz: true, auth: 'digest', password: SECRET });
    await helper.load([cameraNode, ptzNode], flow(sim.port), { cam: { user: 'root', password: SECRET } });
    const p = helper.getNode('p');
    const out = collect('out');
    const started = Date.now();
    p.receive({ payload: 'motion', topic: 'tns1:VideoSource/MotionAlarm', keep: 42 });
    await waitFor(() => out.length === 1, WAIT_MS, 'output');
    assert.equal(sim.ptz!.state.moving, false, 'msg sent only once the head is still');
    assert.equal(sim.ptz!.state.onPreset, 2);
    const m = out[0]!;
    assert.equal(m.keep, 42, 'the rest of the msg passes through');
    assert.equal(m.topic, 'tns1:VideoSource/MotionAlarm');
    assert.equal(m.payload.action, 'preset');
    assert.equal(m.payload.preset, 'Door');
    assert.deepEqual(m.payload.position, { pan: 60, tilt: -10, zoom: 4000 });
    assert.equal(m.payload.reached, true);
    assert.equal(m.payload.moved, true);
    assert.equal(m.payload.waited, true);
    assert.ok(m.payload.ms >= 400 && m.payload.ms <= Date.now() - started + 5, String(m.payload.ms));
    assert.ok(statusTexts(p).includes('axmjpeg-ptz.status.moving'));
    assert.ok(statusTexts(p).includes('axmjpeg-ptz.status.still'));
    assert.ok(!JSON.stringify(statusTexts(p)).includes(SECRET));
  });

  it('msg.ptz overrides the settings: absolute move, then home', async () => {
    sim = await startSimulator({ ptz: { panSpeed: 1000, zoomSpeed: 50_000 } });
    await helper.load([cameraNode, ptzNode], flow(sim.port));
    const p = helper.getNode('p');
    const out = collect('out');
    p.receive({ ptz: { action: 'absolute', pan: -30, tilt: 45, zoom: 9000 } });
    await waitFor(() => out.length === 1, WAIT_MS, 'absolute done');
    assert.deepEqual(out[0]!.payload.position, { pan: -30, tilt: 45, zoom: 9000 });
    p.receive({ ptz: { action: 'home' } });
    await waitFor(() => out.length === 2, WAIT_MS, 'home done');
    assert.deepEqual(out[1]!.payload.position, { pan: 0, tilt: 0, zoom: 1 });
    assert.equal(out[1]!.payload.reached, true);
  });

  it('a continuous move with a run time: the node stops the camera itself, then reports where it ended', async () => {
    sim = await startSimulator({ ptz: true });
    await helper.load([cameraNode, ptzNode], flow(sim.port, { action: 'continuous', pan: '50', tilt: '', zoom: '', duration: '0.3' }));
    const p = helper.getNode('p');
    const out = collect('out');
    p.receive({ payload: 1 });
    await waitFor(() => out.length === 1, WAIT_MS, 'continuous done');
    assert.equal(sim.ptz!.state.moving, false);
    const pan = out[0]!.payload.position.pan;
    // 50 % of 120°/s for about 0.3 s (plus request time).
    assert.ok(pan > 10 && pan < 40, String(pan));
    const stop = sim.ptz!.commands.filter((c) => c.continuouspantiltmove === '0,0');
    assert.equal(stop.length, 1);
  });

  it('a newer msg takes over: the older wait ends without output, done() once each', async () => {
    sim = await startSimulator({ ptz: true });
    await helper.load([cameraNode, ptzNode], flow(sim.port));
    const p = helper.getNode('p');
    const out = collect('out');
    const completed = collect('completed');
    p.receive({ n: 1, ptz: { preset: 'Entrée' } });
    await waitFor(() => sim!.ptz!.state.moving, WAIT_MS, 'first move');
    p.receive({ n: 2, ptz: { preset: 'Parking' } });
    await waitFor(() => out.length === 1, WAIT_MS, 'second done');
    await waitFor(() => completed.length === 2, WAIT_MS, 'both complete');
    assert.equal(out[0]!.n, 2);
    assert.equal(out[0]!.payload.preset, 'Parking');
    assert.equal(sim.ptz!.state.onPreset, 3);
  });

  it('two msgs at once, before the capabilities are known: the first is superseded, the second goes through, no error', async () => {
    sim = await startSimulator({ ptz: true });
    await helper.load([cameraNode, ptzNode], flow(sim.port));
    const p = helper.getNode('p');
    const out = collect('out');
    const caught = collect('caught');
    const completed = collect('completed');
    p.receive({ n: 1, ptz: { preset: 'Door' } });
    p.receive({ n: 2, ptz: { preset: 'Parking' } });
    await waitFor(() => completed.length === 2, WAIT_MS, 'both done');
    assert.deepEqual(caught.map((c) => c.error.code), []);
    assert.deepEqual(out.map((m) => m.n), [2]);
    assert.equal(sim.ptz!.state.onPreset, 3);
  });

  it('presets and position: read at once, with positions, while a move goes on undisturbed', async () => {
    sim = await startSimulator({ ptz: true });
    await helper.load([cameraNode, ptzNode], flow(sim.port, { action: 'presets', preset: '' }));
    const p = helper.getNode('p');
    const out = collect('out');
    p.receive({ n: 'list' });
    await waitFor(() => out.length === 1, WAIT_MS, 'presets');
    assert.deepEqual(out[0]!.payload.presets[1], { number: 2, name: 'Door', position: { tilt: -10, pan: 60, zoom: 4000 } });
    assert.equal(out[0]!.payload.presets.length, 4);
    p.receive({ n: 'move', ptz: { action: 'preset', preset: 'Door' } });
    await waitFor(() => sim!.ptz!.state.moving, WAIT_MS, 'moving');
    p.receive({ n: 'where', ptz: { action: 'position' } });
    await waitFor(() => out.length === 3, WAIT_MS, 'position and move done');
    assert.deepEqual(out.map((m) => m.n), ['list', 'where', 'move']);
    assert.ok(out[1]!.payload.position.pan > 0 && out[1]!.payload.position.pan <= 60, JSON.stringify(out[1]!.payload));
    assert.deepEqual(out[2]!.payload.position, { pan: 60, tilt: -10, zoom: 4000 });
  });

  it('a camera without PTZ: Catch gets ERR_NOT_SUPPORTED with a hint, status red, no msg out', async () => {
    sim = await startSimulator();
    await helper.load([cameraNode, ptzNode], flow(sim.port));
    const p = helper.getNode('p');
    const out = collect('out');
    const caught = collect('caught');
    p.receive({ payload: 1 });
    await waitFor(() => caught.length === 1, WAIT_MS, 'caught');
    assert.equal(caught[0]!.error.code, 'ERR_NOT_SUPPORTED');
    assert.match(caught[0]!.error.message, /No PTZ on this camera.*does not offer this/);
    assert.equal(out.length, 0);
    assert.equal(statusesOf(p).at(-1)?.fill, 'red');
  });

  it('bad msg.ptz values and an unknown preset: ERR_INVALID_SETTING and ERR_CAMERA_REFUSED', async () => {
    sim = await startSimulator({ ptz: true });
    await helper.load([cameraNode, ptzNode], flow(sim.port));
    const p = helper.getNode('p');
    const caught = collect('caught');
    p.receive({ ptz: { action: 'absolute', pan: 'left' } });
    p.receive({ ptz: { action: 'spin' } });
    await waitFor(() => caught.length === 2, WAIT_MS, 'two invalid');
    assert.deepEqual(
      caught.map((c) => c.error.code),
      ['ERR_INVALID_SETTING', 'ERR_INVALID_SETTING'],
    );
    assert.match(caught[0]!.error.message, /msg\.ptz\.pan must be a number/);
    assert.match(caught[1]!.error.message, /msg\.ptz\.action must be one of/);
    p.receive({ ptz: { preset: 'Nowhere' } });
    await waitFor(() => caught.length === 3, WAIT_MS, 'refused');
    assert.equal(caught[2]!.error.code, 'ERR_CAMERA_REFUSED');
    assert.equal(sim.ptz!.commands.filter((c) => c.pan !== undefined).length, 0);
  });

  it('the editor endpoint lists the deployed camera\'s presets; unknown cameras 404; a camera without PTZ 502', async () => {
    sim = await startSimulator({ ptz: true });
    await helper.load([cameraNode, ptzNode], flow(sim.port));
    const r = await helper.request().get('/axmjpeg-ptz/cam/presets').expect(200);
    assert.deepEqual(r.body.presets, [
      { number: 1, name: 'Home', home: true },
      { number: 2, name: 'Door' },
      { number: 3, name: 'Parking' },
      { number: 4, name: 'Entrée' },
    ]);
    await helper.request().get('/axmjpeg-ptz/nope/presets').expect(404);
    await sim.close();
    sim = await startSimulator({ port: 0 });
    await helper.unload();
    await helper.load([cameraNode, ptzNode], flow(sim.port));
    const bad = await helper.request().get('/axmjpeg-ptz/cam/presets').expect(502);
    assert.equal(bad.body.code, 'ERR_NOT_SUPPORTED');
    assert.ok(bad.body.hint);
  });

  it('closing while the camera moves ends the wait at once, without an error', async () => {
    sim = await startSimulator({ ptz: { panSpeed: 5 } });
    await helper.load([cameraNode, ptzNode], flow(sim.port));
    const p = helper.getNode('p');
    const caught = collect('caught');
    p.receive({ payload: 1 });
    await waitFor(() => sim!.ptz!.state.moving, WAIT_MS, 'moving');
    const t = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t < 2000, 'close did not wait for the move');
    assert.equal(caught.length, 0);
  });
});
