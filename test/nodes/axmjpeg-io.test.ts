/**
 * axmjpeg-io in Node-RED (node-red-node-test-helper) with the real
 * axmjpeg-camera config node against the simulator's ports and virtual inputs.
 */
import assert from 'node:assert/strict';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, collect, startNodeRed, statusesOf, stopNodeRed } from '../support/node-red';
import { catchAndComplete } from '../support/flow-nodes';
import { waitFor } from '../support/wait';

const cameraNode = require('../../nodes/axmjpeg-camera');
const ioNode = require('../../nodes/axmjpeg-io');

const SECRET = 'I0-n0de-secret';
const WAIT_MS = 8000;

function flow(port: number, io: Record<string, unknown> = {}): unknown[] {
  return [
    { id: 'cam', type: 'axmjpeg-camera', host: '127.0.0.1', port, protocol: 'http', auth: 'auto', loginRetry: 0.2 },
    { id: 'io', type: 'axmjpeg-io', camera: 'cam', action: 'pulse', port: '1', value: 'on', ms: '200', duration: '', wires: [['out']], ...io },
    { id: 'out', type: 'helper' },
    ...catchAndComplete('io'),
  ];
}

describe('axmjpeg-io node', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;

  beforeEach(startNodeRed);

  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
  });

  it('pulses the configured output over Digest: on at once, off after the pulse, msg passed on', async () => {
    sim = await startSimulator({ io: { inputs: 1, outputs: 1 }, auth: 'digest', password: SECRET });
    await helper.load([cameraNode, ioNode], flow(sim.port), { cam: { user: 'root', password: SECRET } });
    const n = helper.getNode('io');
    const out = collect('out');
    n.receive({ payload: 'button', keep: 1 });
    await waitFor(() => out.length === 1, WAIT_MS, 'output');
    assert.equal(sim.io.isActive('1'), true);
    assert.equal(out[0]!.keep, 1);
    assert.deepEqual(out[0]!.payload, { port: '1', name: 'Output 1', direction: 'output', state: 'open', normalState: 'open', active: false, configurable: false, ms: 200 });
    await waitFor(() => !sim!.io.isActive('1'), 2000, 'pulse end');
    assert.equal(statusesOf(n).at(-1)?.text, 'axmjpeg-io.status.pulse');
    assert.ok(!JSON.stringify(statusesOf(n)).includes(SECRET));
  });

  it('set with msg.payload true/false, read one port and all ports, msg.io overrides', async () => {
    sim = await startSimulator({ io: { inputs: 1, outputs: 1 } });
    await helper.load([cameraNode, ioNode], flow(sim.port, { action: 'set' }));
    const n = helper.getNode('io');
    const out = collect('out');
    n.receive({ payload: true });
    await waitFor(() => out.length === 1, WAIT_MS, 'set on');
    assert.equal(sim.io.isActive('1'), true);
    assert.equal(out[0]!.payload.active, true);
    n.receive({ payload: false });
    await waitFor(() => out.length === 2, WAIT_MS, 'set off');
    assert.equal(sim.io.isActive('1'), false);
    sim.io.setInput('0', true);
    n.receive({ io: { action: 'read', port: 0 } });
    await waitFor(() => out.length === 3, WAIT_MS, 'read one');
    assert.equal(out[2]!.payload.port, '0');
    assert.equal(out[2]!.payload.active, true);
    n.receive({ io: { action: 'read', port: 'all' } });
    await waitFor(() => out.length === 4, WAIT_MS, 'read all');
    assert.deepEqual(
      out[3]!.payload.ports.map((p: any) => [p.port, p.direction, p.active]),
      [
        ['0', 'input', true],
        ['1', 'output', false],
      ],
    );
  });

  it('a virtual input with a duration fires the camera rule and the camera ends it', async () => {
    sim = await startSimulator();
    await helper.load([cameraNode, ioNode], flow(sim.port, { action: 'virtual', port: '3', duration: '1' }));
    const n = helper.getNode('io');
    const out = collect('out');
    n.receive({ payload: 'record' });
    await waitFor(() => out.length === 1, WAIT_MS, 'activated');
    assert.deepEqual(out[0]!.payload, { port: 3, active: true, stateChanged: true, api: 'virtualinput', duration: 1 });
    assert.equal(sim.events.virtualInputActive(3), true);
    await waitFor(() => !sim!.events.virtualInputActive(3), 3000, 'camera deactivated it');
    n.receive({ payload: false });
    await waitFor(() => out.length === 2, WAIT_MS, 'deactivate');
    assert.equal(out[1]!.payload.stateChanged, false);
  });

  it('errors reach Catch with codes: no such port, an input as output, bad msg.io, a missing virtual input', async () => {
    sim = await startSimulator({ io: { inputs: 1, outputs: 1 } });
    await helper.load([cameraNode, ioNode], flow(sim.port));
    const n = helper.getNode('io');
    const caught = collect('caught');
    const completed = collect('completed');
    n.receive({ io: { port: 5 } });
    await waitFor(() => caught.length === 1, WAIT_MS, 'no port');
    n.receive({ io: { port: 0 } });
    await waitFor(() => caught.length === 2, WAIT_MS, 'input');
    n.receive({ io: { ms: 'long' } });
    n.receive({ io: { action: 'virtual', port: 60 } });
    await waitFor(() => caught.length === 4, WAIT_MS, 'all four');
    const byMsg = caught.map((c) => [c.error.code, c.error.message]);
    assert.deepEqual(
      byMsg.map((c) => c[0]).sort(),
      ['ERR_INVALID_SETTING', 'ERR_NOT_SUPPORTED', 'ERR_NOT_SUPPORTED', 'ERR_NOT_SUPPORTED'],
    );
    assert.ok(byMsg.some((c) => /no I\/O port 5/.test(c[1])));
    assert.ok(byMsg.some((c) => /is an input/.test(c[1])));
    assert.ok(byMsg.some((c) => /msg\.io\.ms must be a number/.test(c[1])));
    await waitFor(() => completed.length === 4, WAIT_MS, 'done() once per msg');
    assert.equal(statusesOf(n).at(-1)?.fill, 'red');
  });

  it('a refused password: one login attempt, then msgs fail at once without asking the camera until "retry refused login after" is over', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET, io: { inputs: 1, outputs: 1 } });
    const f = flow(sim.port);
    (f[0] as Record<string, unknown>).loginRetry = 1;
    await helper.load([cameraNode, ioNode], f, { cam: { user: 'root', password: 'wrong' } });
    const n = helper.getNode('io');
    const caught = collect('caught');
    n.receive({ payload: 1 });
    await waitFor(() => caught.length === 1, WAIT_MS, 'refused');
    assert.equal(sim.stats.authFailures, 1);
    const requests = sim.stats.requests;
    for (let i = 0; i < 4; i++) n.receive({ payload: 1 });
    await waitFor(() => caught.length === 5, WAIT_MS, 'four more, at once');
    assert.ok(caught.every((c) => c.error.code === 'ERR_AUTH_FAILED'));
    assert.match(caught[4]!.error.message, /not asking it again for 1 s/);
    assert.equal(sim.stats.requests, requests, 'the camera was not asked again');
    await new Promise((r) => setTimeout(r, 1100));
    n.receive({ payload: 1 });
    await waitFor(() => caught.length === 6, WAIT_MS, 'asked again after the wait');
    // Asked again (the client may send the remembered Digest answer first, then answer the fresh challenge).
    assert.ok(sim.stats.requests > requests && sim.stats.authFailures >= 2, `${sim.stats.authFailures} refused logins`);
    assert.ok(!JSON.stringify(caught).includes(SECRET));
  });

  it('the editor endpoint lists the deployed camera\'s ports; unknown camera 404', async () => {
    sim = await startSimulator({ io: { inputs: 1, outputs: 2 } });
    await helper.load([cameraNode, ioNode], flow(sim.port));
    const r = await helper.request().get('/axmjpeg-io/cam/ports').expect(200);
    assert.deepEqual(r.body, {
      api: 'portmanagement',
      ports: [
        { port: '0', name: 'Input 1', direction: 'input', active: false },
        { port: '1', name: 'Output 1', direction: 'output', active: false },
        { port: '2', name: 'Output 2', direction: 'output', active: false },
      ],
    });
    await helper.request().get('/axmjpeg-io/nope/ports').expect(404);
  });
});
