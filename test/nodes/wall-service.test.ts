/**
 * The camera wall service in Node-RED (node-red-node-test-helper): real
 * axmjpeg-out and axmjpeg-camera nodes, the simulator as the camera, the
 * routes on the captured RED.httpNode app behind a real http server on
 * 127.0.0.1, and a real WebSocket client (ws) standing in for the page.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { helper, startNodeRed, type Msg } from '../support/node-red';
import { cameraConfig } from '../support/flow-nodes';
import { fakeJpeg } from '../support/jpeg-samples';
import { waitFor } from '../support/wait';
import { startSimulator, type CameraSimulator } from '../../simulator';
import { parseFrameMessage } from '../../src/wall/protocol';
import type { CameraWallApi, WallWidgetHandle } from '../../nodes/lib/wall-service';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const outNode = require('../../nodes/axmjpeg-out');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');

type App = http.RequestListener;
const WAIT_MS = 8000;

const wall = (): CameraWallApi => (globalThis as unknown as Record<symbol, CameraWallApi>)[Symbol.for('@axmjpeg/camera-wall/v1')];

function frameMsg(seq: number): Msg {
  return { payload: fakeJpeg(seq, 64), frame: { seq, time: 1_700_000_000_000 + seq } };
}

/** The page's side of the socket: frames per tile, states, acks on demand. */
class Page {
  frames = new Map<number, number[]>();
  states: Record<string, unknown>[] = [];
  hello: Record<string, unknown> | null = null;
  constructor(
    readonly ws: WebSocket,
    private readonly autoAck: boolean,
  ) {
    // ws 7: text arrives as a string, binary as a Buffer.
    ws.on('message', (data) => {
      if (typeof data !== 'string') {
        const f = parseFrameMessage(data as Buffer)!;
        const list = this.frames.get(f.tile) ?? [];
        list.push(f.jpeg.readUInt32BE(2));
        this.frames.set(f.tile, list);
        if (this.autoAck) this.send({ t: 'ack', tile: f.tile });
      } else {
        const m = JSON.parse(String(data));
        if (m.t === 'hello') this.hello = m;
        else this.states.push(m);
      }
    });
  }
  send(m: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(m));
  }
  count(tile: number): number {
    return this.frames.get(tile)?.length ?? 0;
  }
}

describe('camera wall service (dashboard widget backend)', function () {
  this.timeout(20_000);
  let app: App | null = null;
  let red: { server: http.Server } | null = null;
  let server: http.Server;
  let base: string;
  let sim: CameraSimulator | null = null;
  const sockets: WebSocket[] = [];
  const handles: WallWidgetHandle[] = [];

  function capture(RED: { httpNode: App; server: http.Server }): void {
    app = RED.httpNode;
    red = RED;
  }

  async function getJson(path: string): Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders; raw: Buffer }> {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${base}${path}`, { agent: false }, resolve).on('error', reject));
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    let body: unknown = null;
    try {
      body = JSON.parse(raw.toString());
    } catch { /* not JSON */ }
    return { status: res.statusCode!, body, headers: res.headers, raw };
  }

  async function openPage(autoAck = true): Promise<Page> {
    const t = await getJson('/axmjpeg-wall/ticket');
    assert.equal(t.status, 200);
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}${t.body.ws}?ticket=${t.body.ticket}`);
    sockets.push(ws);
    const page = new Page(ws, autoAck);
    await once(ws, 'open');
    await waitFor(() => page.hello !== null, WAIT_MS, 'hello');
    return page;
  }

  async function load(flow: Record<string, unknown>[], creds: Record<string, unknown> = {}): Promise<void> {
    await helper.load([capture, outNode, cameraNode], flow, creds);
  }

  const outs = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `out${i}`, type: 'axmjpeg-out', name: `Cam ${i}`, url: `/cam/${i}`, maxViewers: 20, fps: 0, stuckTimeout: 30, wires: [] }));

  beforeEach(async function () {
    await startNodeRed();
    server = http.createServer((req, res) => (app ? app(req, res) : res.end()));
    // The service listens on RED.server; this server stands in for it.
    server.on('upgrade', (req, socket, head) => red?.server.emit('upgrade', req, socket, head));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async function () {
    for (const h of handles.splice(0)) h.detach();
    for (const ws of sockets.splice(0)) {
      // A refused handshake's socket reports its abort as an 'error'; nobody else listens by now.
      ws.on('error', () => undefined);
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    }
    await helper.unload();
    app = null;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => helper.stopServer(r));
    await sim?.close();
    sim = null;
  });

  it('16 tiles of one page share one socket and each gets its own output\'s frames', async function () {
    await load(outs(16));
    for (let i = 0; i < 16; i++) handles.push(wall().attach(`w${i}`, { source: { id: `out${i}` } }));
    const page = await openPage();
    for (let i = 0; i < 16; i++) page.send({ t: 'sub', tile: i, w: `w${i}`, fps: 0 });
    await waitFor(() => wall().stats().tiles === 16, WAIT_MS, '16 tiles bound');
    for (let seq = 1; seq <= 5; seq++) {
      for (let i = 0; i < 16; i++) helper.getNode(`out${i}`).receive(frameMsg(i * 100 + seq));
      await sleep(20);
    }
    await waitFor(() => [...Array(16).keys()].every((i) => page.count(i) >= 5), WAIT_MS, 'five frames on every tile');
    for (let i = 0; i < 16; i++) assert.deepEqual(page.frames.get(i)!.slice(-5), [1, 2, 3, 4, 5].map((s) => i * 100 + s), `tile ${i}`);
    assert.equal(wall().stats().connections, 1);
    const live = page.states.filter((s) => s.state === 'live');
    assert.equal(live.length, 16);
    assert.equal(live.find((s) => s.tile === 3)!.label, 'Cam 3');
  });

  it('a page that acks nothing gets `window` frames per tile, then only the newest once it acks', async function () {
    await load(outs(1));
    handles.push(wall().attach('w', { source: { id: 'out0' } }));
    const page = await openPage(false);
    page.send({ t: 'sub', tile: 1, w: 'w', fps: 0 });
    await waitFor(() => wall().stats().tiles === 1, WAIT_MS, 'tile bound');
    for (let seq = 1; seq <= 50; seq++) helper.getNode('out0').receive(frameMsg(seq));
    await sleep(200);
    assert.deepEqual(page.frames.get(1), [1, 2], 'two in flight, nothing queued');
    page.send({ t: 'ack', tile: 1 });
    await waitFor(() => page.count(1) === 3, WAIT_MS, 'the newest after the ack');
    assert.deepEqual(page.frames.get(1), [1, 2, 50]);
    assert.equal(wall().stats().dropped, 47);
  });

  it('a camera source runs only while a tile watches it (the camera is released after unsub)', async function () {
    sim = await startSimulator({ auth: 'digest', password: 'pw' });
    await load([cameraConfig('cam', sim.port, { name: 'Gate', resolution: '160x120', fps: '10' })], { cam: { user: 'root', password: 'pw' } });
    handles.push(wall().attach('w', { source: { id: 'cam' } }));
    const page = await openPage();
    await sleep(300);
    assert.equal(sim.stats.activeStreams, 0, 'nobody watches: no stream');
    page.send({ t: 'sub', tile: 7, w: 'w', fps: 0 });
    await waitFor(() => page.count(7) >= 3, WAIT_MS, 'camera frames');
    assert.equal(sim.stats.activeStreams, 1);
    assert.ok(page.states.some((s) => s.tile === 7 && s.state === 'live' && s.label === 'Gate'));
    page.send({ t: 'unsub', tile: 7 });
    await waitFor(() => sim!.stats.activeStreams === 0, WAIT_MS, 'camera stream closed (linger 0)');
  });

  it('the socket needs a fresh ticket from the httpNode route; bad messages get an error', async function () {
    await load(outs(1));
    const port = (server.address() as AddressInfo).port;
    const refused = async (url: string): Promise<number> => {
      const ws = new WebSocket(url);
      sockets.push(ws);
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, http.IncomingMessage];
      return res.statusCode!;
    };
    assert.equal(await refused(`ws://127.0.0.1:${port}/axmjpeg-wall/ws`), 401);
    const t = await getJson('/axmjpeg-wall/ticket');
    assert.match(String(t.headers['cache-control']), /no-store/);
    const page = await openPage();
    assert.equal(await refused(`ws://127.0.0.1:${port}${t.body.ws}?ticket=${t.body.ticket}x`), 401);
    page.ws.send('{"t":"sub","tile":"one"}');
    await waitFor(() => page.states.some((s) => s.t === 'error'), WAIT_MS, 'error reply');
    assert.match(String(page.states.find((s) => s.t === 'error')!.message), /tile must be/);
  });

  it('stills for the polling fallback: newest JPEG, 204 when nothing newer, 404 for an unknown widget', async function () {
    await load(outs(1));
    handles.push(wall().attach('w', { source: '/cam/0' }));
    helper.getNode('out0').receive(frameMsg(4));
    const a = await getJson('/axmjpeg-wall/still/w');
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-type'], 'image/jpeg');
    assert.deepEqual(a.raw, fakeJpeg(4, 64));
    assert.equal(a.headers['x-frame-time'], String(1_700_000_000_004));
    const t0 = Date.now();
    const none = await getJson(`/axmjpeg-wall/still/w?after=${1_700_000_000_004}`);
    assert.equal(none.status, 204);
    assert.ok(Date.now() - t0 >= 1500, 'waited for a newer frame first');
    const later = getJson(`/axmjpeg-wall/still/w?after=${1_700_000_000_004}`);
    await sleep(100);
    helper.getNode('out0').receive(frameMsg(5));
    assert.deepEqual((await later).raw, fakeJpeg(5, 64));
    assert.equal((await getJson('/axmjpeg-wall/still/nope')).status, 404);
  });

  it('msg-style controls: switching by path, pausing, and a snapshot of the source', async function () {
    await load(outs(2));
    const h = wall().attach('w', { source: { id: 'out0' } });
    handles.push(h);
    const page = await openPage();
    page.send({ t: 'sub', tile: 0, w: 'w', fps: 0 });
    await waitFor(() => wall().stats().tiles === 1, WAIT_MS, 'tile bound');
    helper.getNode('out0').receive(frameMsg(1));
    await waitFor(() => page.count(0) === 1, WAIT_MS, 'first frame');
    assert.equal(h.setSource('/cam/1'), null);
    helper.getNode('out0').receive(frameMsg(2));
    helper.getNode('out1').receive(frameMsg(3));
    await waitFor(() => page.count(0) === 2, WAIT_MS, 'frame of the new source');
    assert.deepEqual(page.frames.get(0), [1, 3]);
    assert.match(String(h.setSource('no such thing')), /no axmjpeg-out or axmjpeg-camera node/);
    h.setPaused(true);
    await waitFor(() => page.states.at(-1)?.state === 'paused', WAIT_MS, 'paused state');
    helper.getNode('out1').receive(frameMsg(4));
    const snap = await h.snapshot();
    assert.deepEqual(snap?.jpeg, fakeJpeg(4, 64), 'a snapshot works while paused');
    await sleep(100);
    assert.equal(page.count(0), 2, 'no frames while paused');
    h.setPaused(false);
    helper.getNode('out1').receive(frameMsg(5));
    // A resumed tile gets the newest frame at once (4, taken while paused), then the live ones.
    await waitFor(() => page.frames.get(0)!.includes(5), WAIT_MS, 'frames again');
    assert.deepEqual(page.frames.get(0)!.slice(0, 4), [1, 3, 4, 5]);
  });
});
