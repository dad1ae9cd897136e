/**
 * What the camera tells about the commands, seen through axmjpeg-event in the
 * same Node-RED: a PTZ move gives is_moving true/false and on_preset for the
 * preset left and the one reached; an output pulse gives the port's state
 * going on and off (tns1:Device/tnsaxis:IO/Port), as real firmware sends them.
 */
import assert from 'node:assert/strict';
import { startSimulator, CameraSimulator } from '../../simulator';
import { TOPIC_IO_PORT, TOPIC_PTZ_MOVE, TOPIC_PTZ_PRESET } from '../../simulator/events';
import { helper, collect, startNodeRed, statusesOf, stopNodeRed } from '../support/node-red';
import { waitFor } from '../support/wait';

const cameraNode = require('../../nodes/axmjpeg-camera');
const eventNode = require('../../nodes/axmjpeg-event');
const ptzNode = require('../../nodes/axmjpeg-ptz');
const ioNode = require('../../nodes/axmjpeg-io');

const WAIT_MS = 8000;

describe('PTZ and I/O commands as camera events', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;

  beforeEach(startNodeRed);

  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
  });

  it('a preset move: is_moving on then off, on_preset 0 for Home and 1 for Door; a pulse: port 1 on then off', async () => {
    sim = await startSimulator({ ptz: true, io: { inputs: 1, outputs: 1 } });
    await helper.load(
      [cameraNode, eventNode, ptzNode, ioNode],
      [
        { id: 'cam', type: 'axmjpeg-camera', host: '127.0.0.1', port: sim.port, protocol: 'http', auth: 'auto' },
        { id: 'ev', type: 'axmjpeg-event', camera: 'cam', topics: `${TOPIC_PTZ_MOVE}\n${TOPIC_PTZ_PRESET}\n${TOPIC_IO_PORT}`, wires: [['events']] },
        { id: 'events', type: 'helper' },
        { id: 'p', type: 'axmjpeg-ptz', camera: 'cam', action: 'preset', preset: 'Door', wait: true, wires: [['moved']] },
        { id: 'moved', type: 'helper' },
        { id: 'io', type: 'axmjpeg-io', camera: 'cam', action: 'pulse', port: '1', ms: '300', wires: [['pulsed']] },
        { id: 'pulsed', type: 'helper' },
      ],
    );
    const ev = helper.getNode('ev');
    const events = collect('events');
    const moved = collect('moved');
    await waitFor(() => statusesOf(ev).some((s) => s.text === 'axmjpeg-event.status.connected'), WAIT_MS, 'event node connected');
    helper.getNode('p').receive({ payload: 1 });
    await waitFor(() => moved.length === 1, WAIT_MS, 'ptz done');
    await waitFor(() => events.filter((e) => e.topic === TOPIC_PTZ_PRESET).length === 2, WAIT_MS, 'preset events');
    const ptzEvents = events.filter((e) => e.topic !== TOPIC_IO_PORT).map((e) => [e.topic, JSON.stringify(e.payload.source), e.payload.stateKey, e.payload.active]);
    assert.deepEqual(ptzEvents, [
      [TOPIC_PTZ_PRESET, '{"PresetToken":"1"}', 'on_preset', false],
      [TOPIC_PTZ_MOVE, '{"PTZConfigurationToken":"1"}', 'is_moving', true],
      [TOPIC_PTZ_MOVE, '{"PTZConfigurationToken":"1"}', 'is_moving', false],
      [TOPIC_PTZ_PRESET, '{"PresetToken":"2"}', 'on_preset', true],
    ]);

    helper.getNode('io').receive({ payload: 1 });
    await waitFor(() => events.filter((e) => e.topic === TOPIC_IO_PORT).length === 2, WAIT_MS, 'port on and off');
    assert.deepEqual(
      events.filter((e) => e.topic === TOPIC_IO_PORT).map((e) => [e.payload.source.port, e.payload.stateKey, e.payload.active]),
      [
        ['1', 'state', true],
        ['1', 'state', false],
      ],
    );
  });
});
