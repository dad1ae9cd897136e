/**
 * I/O core (src/io): real cameras' getPorts and root.IOPort answers
 * (test/fixtures/axis, Kane610/axis) and the Axis virtual input XML from the
 * VAPIX page, then the controller against the simulator over real sockets:
 * port management and the virtual input API, the old port.cgi / manual
 * trigger fallback, and which commands are resent after a dropped connection.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseParamList } from '../src/device-info';
import { CameraError, ErrorCodes } from '../src/errors';
import { CameraHttpClient } from '../src/http';
import { IoController, parseGetPorts, parseVirtualInputResponse, portsFromParams } from '../src/io';
import { startSimulator, type CameraSimulator } from '../simulator';
import { TOPIC_IO_PORT, TOPIC_RELAY } from '../simulator/events';
import { waitFor } from './support/wait';

const KANE = path.join(__dirname, 'fixtures', 'axis', 'kane610-axis');
const json = (name: string): unknown => JSON.parse(readFileSync(path.join(KANE, 'port-management', name), 'utf8'));

async function rejectsWith(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CameraError, String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return;
  }
  assert.fail(`expected ${code}`);
}

// The success answer as the VAPIX "Input and outputs" page shows it (see SOURCES.md); the error in the page's GeneralError shape.
const VI_OK = readFileSync(path.join(__dirname, 'fixtures', 'axis', 'vapix-docs', 'virtualinput-activate-ok.xml'), 'utf8');
const VI_ERR = (code: number, d: string): string =>
  `<?xml version="1.0" encoding="utf-8" ?><VirtualInputResponse xmlns="http://www.axis.com/vapix/http_cgi/virtualinput1" SchemaVersion="1.1"><Error><GeneralError><ErrorCode>${code}</ErrorCode><ErrorDescription>${d}</ErrorDescription></GeneralError></Error></VirtualInputResponse>`;

describe('I/O answers of real cameras', () => {
  it('getPorts: a PIR input, and a device without ports (no items at all)', () => {
    assert.deepEqual(parseGetPorts(json('getPorts-PIR.json')), [
      { port: '0', name: 'PIR sensor', direction: 'input', state: 'open', normalState: 'open', active: false, configurable: false },
    ]);
    assert.deepEqual(parseGetPorts(json('getPorts-empty.json')), []);
  });

  it('getPorts with an error object is the camera refusing', () => {
    assert.throws(() => parseGetPorts({ apiVersion: '1.0', error: { code: 2004, message: 'Method not supported' } }), /refused getPorts: error 2004/);
  });

  it('root.IOPort parameters: direction, name, and which circuit state is active', () => {
    const values = parseParamList(readFileSync(path.join(KANE, 'param-cgi', 'ioport-PIR.txt'), 'utf8')).values;
    assert.deepEqual(portsFromParams(values), [{ port: '0', name: 'PIR sensor', direction: 'input', configurable: false, normalState: 'open' }]);
  });

  it('virtual input XML: StateChanged read through whitespace; error 20 is a missing input, others are refusals', () => {
    assert.deepEqual(parseVirtualInputResponse(VI_OK, 'x'), { stateChanged: true });
    assert.throws(() => parseVirtualInputResponse(VI_ERR(20, 'The specified virtual input does not exist.'), 'virtual input 99'), (e: CameraError) => e.code === ErrorCodes.NOT_SUPPORTED && /error 20/.test(e.message));
    assert.throws(() => parseVirtualInputResponse(VI_ERR(30, 'The specified schema version is not supported.'), 'v'), (e: CameraError) => e.code === ErrorCodes.CAMERA_REFUSED);
    assert.throws(() => parseVirtualInputResponse('<html>login</html>', 'v'), (e: CameraError) => e.code === ErrorCodes.CAMERA_REFUSED && /unexpected answer/.test(e.message));
  });
});

describe('IoController against the simulator', function () {
  this.timeout(15_000);
  let sim: CameraSimulator | null = null;
  let client: CameraHttpClient | null = null;
  const connect = (s: CameraSimulator, auth?: { username: string; password: string }): CameraHttpClient =>
    (client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: s.port, ...(auth ?? {}) }));

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    sim = client = null;
  });

  it('port management over Digest: lists, sets and pulses outputs; the camera\'s port events follow', async () => {
    sim = await startSimulator({ io: { inputs: 2, outputs: 2 }, auth: 'digest', password: 'Io-secret' });
    const io = new IoController(connect(sim, { username: 'root', password: 'Io-secret' }));
    assert.equal(await io.whichApi(), 'portmanagement');
    const ports = await io.ports();
    assert.deepEqual(
      ports.map((p) => [p.port, p.direction, p.name, p.active]),
      [
        ['0', 'input', 'Input 1', false],
        ['1', 'input', 'Input 2', false],
        ['2', 'output', 'Output 1', false],
        ['3', 'output', 'Output 2', false],
      ],
    );
    const seen: string[] = [];
    const orig = sim.events.setState.bind(sim.events);
    sim.events.setState = (topic, source, data) => {
      seen.push(`${topic} ${JSON.stringify(source)} ${JSON.stringify(data)}`);
      orig(topic, source, data);
    };
    const set = await io.setOutput('2', true);
    assert.equal(set.active, true);
    assert.equal(sim.io.isActive('2'), true);
    assert.deepEqual(seen, [`${TOPIC_IO_PORT} {"port":"2"} {"state":"1"}`, `${TOPIC_RELAY} {"RelayToken":"2"} {"LogicalState":"active"}`]);
    await io.setOutput('2', false);
    assert.equal(sim.io.isActive('2'), false);

    const t0 = Date.now();
    await io.pulse('3', 150);
    assert.equal(sim.io.isActive('3'), true, 'on at once');
    await waitFor(() => !sim!.io.isActive('3'), 2000, 'pulse end');
    assert.ok(Date.now() - t0 >= 140, 'the camera holds the pulse for its length');
    sim.io.setInput('1', true);
    assert.equal((await io.port('1')).active, true);
  });

  it('no such port, an input as output, bad pulse length: refused before anything is set', async () => {
    sim = await startSimulator({ io: { inputs: 1, outputs: 1 } });
    const io = new IoController(connect(sim));
    await rejectsWith(io.setOutput('7', true), ErrorCodes.NOT_SUPPORTED, /no I\/O port 7; its ports: 0 \(input "Input 1"\), 1 \(output "Output 1"\)/);
    await rejectsWith(io.pulse('0', 100), ErrorCodes.NOT_SUPPORTED, /is an input/);
    await rejectsWith(io.pulse('1', 0), ErrorCodes.INVALID_SETTING, /pulse length/);
    assert.deepEqual(sim.io.requests.filter((r) => !r.endsWith('getPorts')), []);
  });

  it('virtual inputs: activate with a duration the camera keeps, deactivate, StateChanged; a missing input is ERR_NOT_SUPPORTED', async () => {
    sim = await startSimulator();
    const io = new IoController(connect(sim));
    const on = await io.virtualInput(2, true, 1);
    assert.deepEqual(on, { port: 2, active: true, stateChanged: true, api: 'virtualinput' });
    assert.equal(sim.events.virtualInputActive(2), true);
    assert.equal((await io.virtualInput(2, true)).stateChanged, false, 'already active');
    assert.ok(sim.io.requests.includes('virtualinput/activate?schemaversion=1&port=2&duration=1'));
    await io.virtualInput(3, true, 1);
    await waitFor(() => !sim!.events.virtualInputActive(3), 3000, 'camera deactivates after the duration');
    const off = await io.virtualInput(2, false);
    assert.deepEqual(off, { port: 2, active: false, stateChanged: true, api: 'virtualinput' });
    await rejectsWith(io.virtualInput(40, true), ErrorCodes.NOT_SUPPORTED, /error 20/);
  });

  it('old firmware (404 on port management and virtualinput/): port.cgi with param.cgi names, and the manual trigger', async () => {
    sim = await startSimulator({ io: { inputs: 1, outputs: 1, legacy: true } });
    const io = new IoController(connect(sim));
    assert.equal(await io.whichApi(), 'port.cgi');
    assert.deepEqual(await io.ports(), [
      { port: '0', name: 'Input 1', direction: 'input', configurable: false, normalState: 'open', active: false, state: 'open' },
      { port: '1', name: 'Output 1', direction: 'output', configurable: false, normalState: 'open', active: false, state: 'open' },
    ]);
    await io.setOutput('1', true);
    assert.equal(sim.io.isActive('1'), true);
    assert.ok(sim.io.requests.includes('port.cgi?action=2%3A%2F'), sim.io.requests.join(' '));
    await io.setOutput('1', false);
    await io.pulse('1', 100);
    assert.ok(sim.io.requests.includes('port.cgi?action=2%3A%2F100%5C'));
    await waitFor(() => !sim!.io.isActive('1'), 2000, 'pulse end');
    const vi = await io.virtualInput(1, true, 1);
    assert.equal(vi.api, 'manual-trigger');
    assert.equal(sim.events.virtualInputActive(1), true);
    await waitFor(() => !sim!.events.virtualInputActive(1), 3000, 'manual trigger ends');
  });
});

describe('I/O retries', function () {
  this.timeout(10_000);

  /** Port management with one output, whose first command after getPorts is cut off unanswered. */
  async function droppingCamera(): Promise<{ client: CameraHttpClient; methods: string[]; close(): Promise<void> }> {
    const methods: string[] = [];
    let dropped = false;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const m = (JSON.parse(body) as { method: string }).method;
        methods.push(m);
        if (m !== 'getPorts' && !dropped) {
          dropped = true;
          req.socket.destroy();
          return;
        }
        const data = m === 'getPorts' ? { numberOfPorts: 1, items: [{ port: '0', name: 'Siren', direction: 'output', state: 'open', normalState: 'open' }] } : {};
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: '1.0', method: m, data }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    return {
      client,
      methods,
      close: async () => {
        await client.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  }

  it('setting an output cut off is sent once more', async () => {
    const cam = await droppingCamera();
    try {
      await new IoController(cam.client).setOutput('0', true);
      assert.deepEqual(cam.methods.filter((m) => m === 'setPorts').length, 2);
    } finally {
      await cam.close();
    }
  });

  it('a pulse cut off is never resent: ERR_CONN_RESET, one setStateSequence', async () => {
    const cam = await droppingCamera();
    try {
      await rejectsWith(new IoController(cam.client).pulse('0', 500), ErrorCodes.CONN_RESET);
      assert.deepEqual(cam.methods.filter((m) => m === 'setStateSequence').length, 1);
    } finally {
      await cam.close();
    }
  });
});
