/**
 * axmjpeg-event in Node-RED (node-red-node-test-helper) with the real
 * axmjpeg-camera config node against the simulator.
 */
import assert from 'node:assert/strict';
import { startSimulator, CameraSimulator } from '../../simulator';
import { TOPIC_DAY_NIGHT, TOPIC_MOTION, TOPIC_PTZ_MOVE, TOPIC_VIRTUAL_INPUT } from '../../simulator/events';
import { helper, callsOf, collect, startNodeRed, statusesOf, stopNodeRed } from '../support/node-red';
import { catchAll } from '../support/flow-nodes';
import { waitFor } from '../support/wait';

const cameraNode = require('../../nodes/axmjpeg-camera');
const eventNode = require('../../nodes/axmjpeg-event');

const SECRET = 'Ev3nt-secret';
const WAIT_MS = 5000;

function flow(port: number, ev: Record<string, unknown> = {}): unknown[] {
  return [
    { id: 'cam', type: 'axmjpeg-camera', host: '127.0.0.1', port, protocol: 'http', auth: 'auto', loginRetry: 0.2 },
    { id: 'ev', type: 'axmjpeg-event', camera: 'cam', topics: TOPIC_VIRTUAL_INPUT, wires: [['out']], ...ev },
    { id: 'out', type: 'helper' },
  ];
}

const statusTexts = (n: unknown): string[] => statusesOf(n).map((s) => s?.text as string);
const errors = (n: unknown): any[] => callsOf(n, 'error').map((c) => ({ text: c.args[0], msg: c.args[1] }));

describe('axmjpeg-event node', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;

  beforeEach(startNodeRed);

  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
  });

  it('sends one msg per virtual input change, with topic and payload, over Digest', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load([cameraNode, eventNode], flow(sim.port, { topics: `${TOPIC_VIRTUAL_INPUT}\n${TOPIC_MOTION}` }), {
      cam: { user: 'root', password: SECRET },
    });
    const ev = helper.getNode('ev');
    const msgs = collect('out');
    await waitFor(() => statusTexts(ev).includes('axmjpeg-event.status.connected'), WAIT_MS, 'connected status');
    assert.equal(sim.events.stats.configures, 1);
    await waitFor(() => sim!.events.stats.notifications >= 5, WAIT_MS, 'initial states');

    sim.setVirtualInput(1, true);
    await waitFor(() => msgs.length === 1, WAIT_MS, 'one msg');
    assert.equal(msgs[0].topic, TOPIC_VIRTUAL_INPUT);
    assert.deepEqual(msgs[0].payload.source, { port: '1' });
    assert.deepEqual(msgs[0].payload.data, { active: '1' });
    assert.equal(msgs[0].payload.active, true);
    assert.equal(typeof msgs[0].payload.timestamp, 'number');
    assert.deepEqual(msgs[0].payload.key, {});
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(msgs.length, 1, 'initial states were not sent');
    assert.ok(!JSON.stringify(statusTexts(ev)).includes(SECRET));
  });

  it('day/night and PTZ: msg.payload.active is a boolean from the state item, and only changes are sent', async () => {
    sim = await startSimulator();
    await helper.load([cameraNode, eventNode], flow(sim.port, { topics: `${TOPIC_DAY_NIGHT}\n${TOPIC_PTZ_MOVE}` }));
    const ev = helper.getNode('ev');
    const msgs = collect('out');
    await waitFor(() => statusTexts(ev).includes('axmjpeg-event.status.connected'), WAIT_MS, 'connected status');
    await waitFor(() => sim!.events.stats.notifications >= 2, WAIT_MS, 'initial states');
    sim.events.setDayNight(false);
    sim.events.setPtzMoving(true);
    sim.events.setPtzMoving(false);
    await waitFor(() => msgs.length === 3, WAIT_MS, 'three changes');
    assert.deepEqual(
      msgs.map((m) => [m.topic, m.payload.stateKey, m.payload.active]),
      [
        [TOPIC_DAY_NIGHT, 'day', false],
        [TOPIC_PTZ_MOVE, 'is_moving', true],
        [TOPIC_PTZ_MOVE, 'is_moving', false],
      ],
    );
    assert.deepEqual(msgs[0].payload.data, { day: '0' });
  });

  it('sends current states with the emit-initial option', async () => {
    sim = await startSimulator();
    await helper.load([cameraNode, eventNode], flow(sim.port, { emitInitial: true }));
    const msgs = collect('out');
    await waitFor(() => msgs.length === 4, WAIT_MS, 'four initial virtual input states');
    assert.ok(msgs.every((m) => m.payload.active === false));
  });

  it('close leaves no WebSocket open on the camera', async () => {
    sim = await startSimulator({ auth: 'basic' });
    await helper.load([cameraNode, eventNode], flow(sim.port), { cam: { user: 'root', password: 'pass' } });
    await waitFor(() => sim!.events.stats.wsOpen === 1, WAIT_MS, 'WebSocket open');
    await helper.unload();
    await waitFor(() => sim!.events.stats.wsOpen === 0, WAIT_MS, 'WebSocket closed after unload');
    assert.equal(sim.stats.openConnections, 0, 'no TCP connection left');
  });

  it('a refused subscription shows the camera error code and reaches Catch once', async () => {
    sim = await startSimulator();
    sim.events.configureError = { code: 2104, message: 'Invalid topic filter' };
    await helper.load([cameraNode, eventNode], flow(sim.port));
    const ev = helper.getNode('ev');
    await waitFor(() => statusTexts(ev).includes('axmjpeg-event.status.configError'), WAIT_MS, 'config error status');
    const errs = errors(ev);
    assert.equal(errs.length, 1);
    assert.match(errs[0].text, /2104: Invalid topic filter/);
    assert.equal(errs[0].msg.payload.vapixCode, 2104);
    assert.equal(errs[0].msg.payload.code, 'ERR_INVALID_SETTING');
  });

  it('says when the camera has no event WebSocket, with the MQTT / HTTP alternatives in the hint', async () => {
    sim = await startSimulator();
    sim.events.enabled = false;
    await helper.load([cameraNode, eventNode], flow(sim.port));
    const ev = helper.getNode('ev');
    await waitFor(() => statusTexts(ev).includes('axmjpeg-event.status.unsupported'), WAIT_MS, 'unsupported status');
    const errs = errors(ev);
    assert.equal(errs.length, 1);
    assert.equal(errs[0].msg.payload.code, 'ERR_NOT_FOUND');
    assert.match(errs[0].text, /MQTT/);
  });

  it('reports a connection failure once per distinct failure while retrying', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load([cameraNode, eventNode], flow(sim.port), { cam: { user: 'root', password: 'wrong' } });
    const ev = helper.getNode('ev');
    await waitFor(() => statusTexts(ev).filter((s) => s === 'axmjpeg-event.status.reconnecting').length >= 2, 8000, 'two retries');
    const errs = errors(ev);
    assert.equal(errs.length, 1, 'once per distinct failure');
    assert.equal(errs[0].msg.payload.code, 'ERR_AUTH_FAILED');
    assert.ok(!JSON.stringify(errs).includes('wrong'), 'no password in errors');
  });

  it('validates settings at runtime without throwing', async () => {
    await helper.load([cameraNode, eventNode], [
      { id: 'cam', type: 'axmjpeg-camera', host: '127.0.0.1', port: 1 },
      { id: 'ev', type: 'axmjpeg-event', camera: '', topics: 'x' },
      { id: 'ev2', type: 'axmjpeg-event', camera: 'cam', topics: ' \n ' },
      ...catchAll(),
    ]);
    const caught = collect('caught');
    const end = Date.now() + 3000;
    while (caught.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(caught.map((m) => m.payload.code), ['ERR_INVALID_SETTING', 'ERR_INVALID_SETTING'], 'both reach Catch');
    assert.match(errors(helper.getNode('ev'))[0].text, /axmjpeg-event.errors.noCamera/);
    assert.match(errors(helper.getNode('ev2'))[0].text, /axmjpeg-event.errors.noTopics/);
    assert.ok(statusTexts(helper.getNode('ev2')).includes('axmjpeg-event.status.notConfigured'));
  });

  it('lists the camera topics for the editor picker', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load([cameraNode, eventNode], flow(sim.port), { cam: { user: 'root', password: SECRET } });
    const r = await helper.request().get('/axmjpeg-event/cam/topics').expect(200);
    const topics = r.body.topics.map((t: any) => t.topic);
    assert.ok(topics.includes(TOPIC_VIRTUAL_INPUT));
    assert.ok(topics.includes(TOPIC_MOTION));
    const missing = await helper.request().get('/axmjpeg-event/nope/topics').expect(404);
    assert.equal(missing.body.code, 'ERR_NOT_FOUND');
    sim.setFault({ kind: 'status', status: 503 });
    const busy = await helper.request().get('/axmjpeg-event/cam/topics').expect(502);
    assert.equal(busy.body.code, 'ERR_CAMERA_BUSY');
  });

  it('a hostile 2 MB nested topic list comes back bounded and flagged, and Node-RED stays responsive meanwhile', async () => {
    sim = await startSimulator();
    // One chain of nested topics: each topic string longer than the last (quadratic
    // before: 300 KB blocked the event loop 5.6 s and sent 195 MB of JSON; 2 MB ran out of memory).
    const open = '<tnsaxis:A wstop:topic="true">';
    const close = '</tnsaxis:A>';
    const n = Math.floor((2 * 1024 * 1024 - 4096) / (open.length + close.length));
    sim.events.eventInstancesResponse = `<?xml version="1.0"?><Envelope><Body><wstop:TopicSet>${open.repeat(n)}${close.repeat(n)}</wstop:TopicSet></Body></Envelope>`;
    await helper.load([cameraNode, eventNode], flow(sim.port));
    let maxGapMs = 0;
    let last = Date.now();
    const probe = setInterval(() => {
      const now = Date.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    }, 5);
    try {
      const started = Date.now();
      const [r, other] = await Promise.all([
        helper.request().get('/axmjpeg-event/cam/topics').expect(200),
        // Another admin request while the big one is being fetched and parsed.
        new Promise((res) => setTimeout(res, 20)).then(() => helper.request().get('/axmjpeg-event/nope/topics').expect(404)),
      ]);
      assert.equal(other.body.code, 'ERR_NOT_FOUND');
      assert.equal(r.body.truncated, true);
      assert.equal(r.body.reason, 'too-deep');
      assert.ok(r.body.topics.length <= 32);
      assert.ok(JSON.stringify(r.body).length < 64 * 1024, 'bounded answer to the editor');
      assert.ok(Date.now() - started < 5000, 'answered promptly');
    } finally {
      clearInterval(probe);
    }
    assert.ok(maxGapMs < 1000, `event loop blocked ${maxGapMs} ms`);
  });
});
