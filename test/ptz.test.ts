/**
 * PTZ core (src/ptz): capabilities from real cameras' root.PTZ parameter lists
 * and ptz.cgi answers (test/fixtures/axis, Kane610/axis, see SOURCES.md), and
 * the controller against the simulator's moving head and against a bare HTTP
 * server that drops a request, over real sockets on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseParamList } from '../src/device-info';
import { CameraError, ErrorCodes } from '../src/errors';
import { CameraHttpClient } from '../src/http';
import { capabilitiesFromParams, parsePosition, parsePresetList, PtzController, waitForStill, type PtzPosition } from '../src/ptz';
import { startSimulator, type CameraSimulator } from '../simulator';

const KANE = path.join(__dirname, 'fixtures', 'axis', 'kane610-axis');
const params = (name: string): Record<string, string> => parseParamList(readFileSync(path.join(KANE, 'param-cgi', name), 'utf8')).values;
const query = (name: string): string => readFileSync(path.join(KANE, 'ptz-cgi', name), 'utf8');

function clientFor(port: number, extra: Partial<ConstructorParameters<typeof CameraHttpClient>[0]> = {}): CameraHttpClient {
  return new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port, ...extra });
}

async function rejectsWith(p: Promise<unknown>, code: string, re?: RegExp): Promise<CameraError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CameraError, String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('PTZ capabilities from real parameter lists', () => {
  it('a dome with every Support flag: pan/tilt/zoom, limits, a preset named Entrée with its position and home mark', () => {
    const c = capabilitiesFromParams(params('ptz-dome.txt'))!;
    assert.equal(c.available, true);
    assert.equal(c.features.absolutePan, true);
    assert.equal(c.features.continuousZoom, true);
    assert.equal(c.features.serverPreset, true);
    assert.deepEqual([c.limits.minPan, c.limits.maxPan, c.limits.minTilt, c.limits.maxTilt], [-170, 170, -20, 90]);
    assert.deepEqual(c.presets, [{ number: 1, name: 'Entrée', position: { tilt: 0, pan: 0, zoom: 1 }, home: true }]);
  });

  it('zoom-only cameras (Q1798 on 11.9, Q3505 on 6.50): pan and tilt false, zoom true', () => {
    for (const f of ['ptz-Q1798-fw11.9.txt', 'ptz-Q3505-fw6.50.txt']) {
      const c = capabilitiesFromParams(params(f))!;
      assert.equal(c.available, true, f);
      assert.equal(c.features.absolutePan, false, f);
      assert.equal(c.features.continuousTilt, false, f);
      assert.equal(c.features.absoluteZoom, true, f);
    }
  });

  it('cameras without PTZ are told apart by what they list: disabled source (M1054, M3024), no driver (Q1921), all flags false (M3058)', () => {
    const m1054 = capabilitiesFromParams(params('ptz-M1054-fw5.51.txt'))!;
    assert.equal(m1054.available, false);
    assert.match(m1054.reason!, /PTZEnabled=false/);
    assert.equal(capabilitiesFromParams(params('ptz-M3024-fw5.51.txt'))!.available, false);
    const q1921 = capabilitiesFromParams(params('ptz-Q1921-fw5.51.txt'))!;
    assert.equal(q1921.available, false);
    assert.match(q1921.reason!, /Driver1=none/);
    const m3058 = capabilitiesFromParams(params('ptz-M3058-fw10.12.txt'))!;
    assert.equal(m3058.available, false);
    assert.match(m3058.reason!, /every PTZ.Support.S1 flag is false/);
  });

  it('a list without Support flags says nothing (null): the controller then asks ptz.cgi', () => {
    assert.equal(capabilitiesFromParams({ 'root.PTZ.NbrOfCameras': '1', 'root.PTZ.ImageSource.I0.PTZEnabled': 'true' }), null);
  });

  it('parses the position, limits-free, and the preset list of real ptz.cgi answers', () => {
    assert.deepEqual(parsePosition(query('query-position.txt')), { pan: 51.2891, tilt: 46.1914, zoom: 1 });
    assert.deepEqual(parsePresetList(query('query-presetposall.txt')), [{ number: 1, name: 'Home' }]);
    assert.deepEqual(parsePresetList(query('query-presetposcam.txt'), 1), [{ number: 1, name: 'Home' }]);
    assert.deepEqual(parsePresetList('Preset Positions for camera 1\npresetposno1=A\nPreset Positions for camera 2\npresetposno1=B\npresetposno3=C', 2), [
      { number: 1, name: 'B' },
      { number: 3, name: 'C' },
    ]);
  });
});

describe('waitForStill', () => {
  it('does not call a move done before it started; ends when moved then still', async () => {
    const track: PtzPosition[] = [{ pan: 0 }, { pan: 0 }, { pan: 5 }, { pan: 9 }, { pan: 10 }, { pan: 10 }, { pan: 10 }];
    let i = 0;
    const r = await waitForStill(async () => track[Math.min(i++, track.length - 1)]!, { pollMs: 1, settleMs: 10_000 });
    assert.equal(r.moved, true);
    assert.deepEqual(r.position, { pan: 10 });
    assert.equal(r.polls, 7);
  });

  it('ends at a known target as soon as it is there and still once', async () => {
    const track: PtzPosition[] = [{ pan: 0 }, { pan: 30 }, { pan: 59.8 }, { pan: 59.8 }, { pan: 59.8 }];
    let i = 0;
    const r = await waitForStill(async () => track[Math.min(i++, track.length - 1)]!, { pollMs: 1, target: { pan: 60 } });
    assert.equal(r.reached, true);
    assert.equal(r.polls, 4);
  });

  it('a camera that keeps moving: ERR_MOVE_TIMEOUT, bounded', async () => {
    let pan = 0;
    const started = Date.now();
    await rejectsWith(
      waitForStill(async () => ({ pan: (pan += 1) }), { pollMs: 10, timeoutMs: 200 }),
      ErrorCodes.MOVE_TIMEOUT,
      /still moving after 0.2 s/,
    );
    assert.ok(Date.now() - started < 1000);
  });

  it('an abort ends the wait with ERR_ABORTED at once', async () => {
    const ac = new AbortController();
    let pan = 0;
    const p = waitForStill(async () => ({ pan: (pan += 1) }), { pollMs: 5000, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await rejectsWith(p, ErrorCodes.ABORTED);
  });
});

describe('PtzController against the simulator', function () {
  this.timeout(15_000);
  let sim: CameraSimulator | null = null;
  let client: CameraHttpClient | null = null;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    sim = null;
    client = null;
  });

  it('goes to a preset over Digest and arrives: position, preset event state, no moving left', async () => {
    sim = await startSimulator({ ptz: true, auth: 'digest', password: 'Ptz-secret' });
    client = clientFor(sim.port, { username: 'root', password: 'Ptz-secret' });
    const ptz = new PtzController(client);
    const sent = await ptz.send({ action: 'preset', preset: 'Door' });
    assert.deepEqual(sent.target, { tilt: -10, pan: 60, zoom: 4000 });
    assert.equal(sim.ptz!.state.moving, true, 'the head moves at a finite speed');
    const r = await waitForStill((s) => ptz.position(s), { target: sent.target!, pollMs: 50 });
    assert.equal(r.reached, true);
    assert.equal(r.moved, true);
    assert.deepEqual(r.position, { pan: 60, tilt: -10, zoom: 4000 });
    assert.equal(sim.ptz!.state.moving, false);
    assert.equal(sim.ptz!.state.onPreset, 2);
    assert.deepEqual(sim.ptz!.commands.find((c) => c.gotoserverpresetname), { camera: '1', gotoserverpresetname: 'Door' });
  });

  it('lists presets with accents (ISO-8859-1 on the wire) and keeps their stored positions', async () => {
    sim = await startSimulator({ ptz: true });
    client = clientFor(sim.port);
    const presets = await new PtzController(client).presets();
    assert.deepEqual(
      presets.map((p) => p.name),
      ['Home', 'Door', 'Parking', 'Entrée'],
    );
    assert.deepEqual(presets[3]!.position, { tilt: 20, pan: 150, zoom: 2500 });
    assert.equal(presets[0]!.home, true);
    const ptz = new PtzController(client);
    await ptz.send({ action: 'preset', preset: 'Entrée' });
    await waitForStill((s) => ptz.position(s), { pollMs: 50 });
    assert.equal(sim.ptz!.state.onPreset, 4);
  });

  it('absolute, relative, continuous and stop reach the camera as ptz.cgi arguments', async () => {
    sim = await startSimulator({ ptz: { panSpeed: 2000, zoomSpeed: 100_000 } });
    client = clientFor(sim.port);
    const ptz = new PtzController(client);
    await ptz.send({ action: 'absolute', pan: -45.5, tilt: 10, zoom: 2000, speed: 50 });
    await waitForStill((s) => ptz.position(s), { pollMs: 20 });
    assert.deepEqual(await ptz.position(), { pan: -45.5, tilt: 10, zoom: 2000 });
    await ptz.send({ action: 'relative', pan: 10, zoom: -1000 });
    await waitForStill((s) => ptz.position(s), { pollMs: 20 });
    assert.deepEqual(await ptz.position(), { pan: -35.5, tilt: 10, zoom: 1000 });
    await ptz.send({ action: 'continuous', pan: 50, tilt: 0 });
    await new Promise((r) => setTimeout(r, 100));
    await ptz.send({ action: 'stop' });
    assert.equal(sim.ptz!.state.moving, false);
    const cmds = sim.ptz!.commands.filter((c) => !c.query);
    assert.deepEqual(cmds, [
      { camera: '1', pan: '-45.5', tilt: '10', zoom: '2000', speed: '50' },
      { camera: '1', rpan: '10', rzoom: '-1000' },
      { camera: '1', continuouspantiltmove: '50,0' },
      { camera: '1', continuouspantiltmove: '0,0', continuouszoommove: '0' },
    ]);
  });

  it('an unknown preset is the camera refusing: ERR_CAMERA_REFUSED quoting it', async () => {
    sim = await startSimulator({ ptz: true });
    client = clientFor(sim.port);
    await rejectsWith(new PtzController(client).send({ action: 'preset', preset: 'Nowhere' }), ErrorCodes.CAMERA_REFUSED, /preset Nowhere does not exist/);
  });

  it('a fixed camera (no ptz.cgi): ERR_NOT_SUPPORTED, and the command is never sent', async () => {
    sim = await startSimulator();
    client = clientFor(sim.port);
    const seen: string[] = [];
    sim.onRequest = (req) => seen.push(req.url ?? '');
    await rejectsWith(new PtzController(client).send({ action: 'home' }), ErrorCodes.NOT_SUPPORTED, /No PTZ on this camera/);
    assert.ok(!seen.some((u) => u.includes('move=home')), seen.join(' '));
  });

  it('a zoom-only camera: pan is ERR_NOT_SUPPORTED before anything is sent; zoom works', async () => {
    sim = await startSimulator({ ptz: { paramStyle: 'zoom-only' } });
    client = clientFor(sim.port);
    const ptz = new PtzController(client);
    await rejectsWith(ptz.send({ action: 'absolute', pan: 10 }), ErrorCodes.NOT_SUPPORTED, /cannot pan/);
    assert.equal(sim.ptz!.commands.length, 0);
    await ptz.send({ action: 'absolute', zoom: 3000 });
    const r = await waitForStill((s) => ptz.position(s), { pollMs: 50 });
    assert.deepEqual(r.position, { zoom: 3000 });
  });

  it('AXIS OS 13 style lists (no Support/Limit groups): capabilities come from ptz.cgi, commands still work', async () => {
    sim = await startSimulator({ ptz: { paramStyle: 'os13' } });
    client = clientFor(sim.port);
    const ptz = new PtzController(client);
    const caps = await ptz.capabilities();
    assert.equal(caps.source, 'query');
    assert.equal(caps.available, true);
    assert.deepEqual(caps.features, {});
    await ptz.send({ action: 'home' });
    assert.deepEqual(sim.ptz!.commands.at(-1), { camera: '1', move: 'home' });
  });

  it('rejects bad values before sending: ERR_INVALID_SETTING naming the field', async () => {
    sim = await startSimulator({ ptz: true });
    client = clientFor(sim.port);
    const ptz = new PtzController(client);
    await rejectsWith(ptz.send({ action: 'absolute', pan: 400 }), ErrorCodes.INVALID_SETTING, /pan must be a number from -180 to 180/);
    await rejectsWith(ptz.send({ action: 'continuous' }), ErrorCodes.INVALID_SETTING, /needs a pan, tilt or zoom speed/);
    await rejectsWith(ptz.send({ action: 'preset', preset: ' ' }), ErrorCodes.INVALID_SETTING, /preset must be/);
    assert.equal(sim.ptz!.commands.length, 0);
  });
});

describe('PTZ retries', function () {
  this.timeout(10_000);

  /** A camera with the dome's parameters whose first ptz.cgi command is cut off unanswered. */
  async function droppingCamera(): Promise<{ client: CameraHttpClient; commands: string[]; close(): Promise<void> }> {
    const dome = Buffer.from(readFileSync(path.join(KANE, 'param-cgi', 'ptz-dome.txt'), 'utf8'), 'latin1');
    const commands: string[] = [];
    const server = http.createServer((req, res) => {
      const url = req.url ?? '';
      if (url.startsWith('/axis-cgi/param.cgi')) {
        res.writeHead(200, { 'content-type': 'text/plain; charset=iso-8859-1', 'content-length': dome.length });
        res.end(dome);
        return;
      }
      commands.push(url);
      if (commands.length === 1) {
        req.socket.destroy();
        return;
      }
      res.writeHead(204);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = clientFor((server.address() as AddressInfo).port);
    return {
      client,
      commands,
      close: async () => {
        await client.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  }

  it('an absolute move cut off is sent once more (same effect twice)', async () => {
    const cam = await droppingCamera();
    try {
      await new PtzController(cam.client).send({ action: 'absolute', pan: 20 });
      assert.equal(cam.commands.length, 2);
      assert.equal(cam.commands[0], cam.commands[1]);
    } finally {
      await cam.close();
    }
  });

  it('a relative move cut off is never resent: ERR_CONN_RESET reaches the caller', async () => {
    const cam = await droppingCamera();
    try {
      await rejectsWith(new PtzController(cam.client).send({ action: 'relative', pan: 20 }), ErrorCodes.CONN_RESET);
      assert.equal(cam.commands.length, 1);
    } finally {
      await cam.close();
    }
  });
});
