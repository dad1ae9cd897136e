/**
 * Relay tree in a real Node-RED: camera → axmjpeg-in → axmjpeg-out /hop1 →
 * (an axmjpeg-camera whose custom path is /hop1) axmjpeg-in → axmjpeg-out
 * /hop2 → axmjpeg-in → helper. Every hop is a real HTTP stream on 127.0.0.1,
 * read exactly as another Node-RED instance would read it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { helper, callsOf, collect, startNodeRed, type Msg } from '../support/node-red';
import { cameraConfig, mjpgIn } from '../support/flow-nodes';
import { labelledJpegs } from '../support/jpeg-samples';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../../nodes/axmjpeg-in');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const relayNode = require('../../nodes/axmjpeg-out');

const BOUNDARY = 'treecam';
const FRAMES = labelledJpegs(40);

/** A camera stand-in that sends FRAMES[i] on send(i); stop() drops its clients and refuses. */
async function startCamera() {
  const clients = new Set<http.ServerResponse>();
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`, Connection: 'close' });
    res.socket?.setNoDelay(true);
    clients.add(res);
    res.on('close', () => clients.delete(res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    get clients() {
      return clients.size;
    },
    send(i: number): void {
      const j = FRAMES[i]!;
      const head = Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${j.length}\r\n\r\n`, 'latin1');
      for (const c of clients) c.write(Buffer.concat([head, j, Buffer.from('\r\n')]));
    },
    async close(): Promise<void> {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('relay tree: Node-RED reading Node-RED', function () {
  this.timeout(30_000);
  let app: http.RequestListener | null = null;
  let server: http.Server;
  let port: number;
  let cam: Awaited<ReturnType<typeof startCamera>>;

  function capture(RED: { httpNode: http.RequestListener }): void {
    app = RED.httpNode;
  }

  /** Hops read their upstream through the custom path; stall 1 s, so a silent upstream makes them reconnect often. */
  async function load(outExtra: Record<string, unknown> = {}): Promise<{ first: Msg[]; last: Msg[] }> {
    const out = (id: string, url: string) => ({ id, type: 'axmjpeg-out', name: '', url, maxViewers: 20, fps: 0, stuckTimeout: 30, offlineAfter: 60, wires: [[]], ...outExtra });
    const flow = [
      cameraConfig('cam', cam.port, { name: 'Front door', customPath: '/video', auth: 'none', resolution: '', fps: '', compression: '' }),
      // The one setting: source "Node-RED / generic MJPEG" with the upstream's path; the VAPIX fields are ignored.
      cameraConfig('up1', port, { name: 'hop1', sourceType: 'mjpeg-url', customPath: '/hop1', auth: 'none', resolution: '1920x1080', fps: '30', stallTimeout: 1 }),
      cameraConfig('up2', port, { name: 'hop2', sourceType: 'mjpeg-url', customPath: '/hop2', auth: 'none', stallTimeout: 1 }),
      mjpgIn('in0', 'cam', { resolution: '', fps: '' }, [['out1', 'first']]),
      out('out1', '/hop1'),
      mjpgIn('in1', 'up1', { resolution: '', fps: '' }, [['out2']]),
      out('out2', '/hop2'),
      mjpgIn('in2', 'up2', { resolution: '', fps: '' }, [['last']]),
      { id: 'first', type: 'helper' },
      { id: 'last', type: 'helper' },
    ];
    await helper.load([capture, cameraNode, mjpgInNode, relayNode], flow);
    return { first: collect('first'), last: collect('last') };
  }

  beforeEach(async function () {
    cam = await startCamera();
    await startNodeRed();
    server = http.createServer((req, res) => (app ? app(req, res) : res.end()));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async function () {
    await helper.unload();
    app = null;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => helper.stopServer(r));
    await cam.close();
  });

  it('two hops: frames byte-identical, capture time / sequence / camera survive in msg.frame.origin; added latency per hop measured', async function () {
    const { first, last } = await load();
    await waitFor(() => cam.clients > 0, 10_000, 'hop 0 connected');
    // Until the chain is up, frames may fall in the gap: keep sending until the last hop has one.
    let i = 0;
    while (last.length === 0 && i < 10) {
      cam.send(i++);
      await sleep(150);
    }
    assert.ok(last.length > 0, 'the last hop got frames');
    const start = i;
    const n = 15;
    for (; i < start + n; i++) {
      cam.send(i);
      await sleep(40);
    }
    await waitFor(() => last.some((m) => m.payload.equals(FRAMES[start + n - 1]!)), 5000, 'the last frame through two hops');
    const byFirst = new Map(first.map((m) => [m.payload.toString('base64'), m]));
    const hopMs: number[] = [];
    for (const m of last.filter((x) => first.indexOf(byFirst.get(x.payload.toString('base64'))!) >= 0)) {
      const origin = byFirst.get(m.payload.toString('base64'));
      assert.ok(origin, 'every frame at the last hop is byte for byte one the first hop got');
      assert.deepEqual(m.frame.origin, { time: origin.frame.time, seq: origin.frame.seq, camera: 'Front door' }, 'origin survives two hops');
      assert.equal(m.frame.camera, 'hop2', 'msg.frame.camera is still this hop\'s camera');
      hopMs.push((m.frame.time - origin.frame.time) / 2);
    }
    const sent = FRAMES.slice(start, start + n);
    const got = last.map((m) => m.payload as Buffer);
    for (const f of sent) assert.ok(got.some((g) => g.equals(f)), 'no frame sent while the chain was up is lost');
    const seqs = last.map((m) => m.frame.origin.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'origin sequence in order');
    hopMs.sort((a, b) => a - b);
    console.log(`      added latency per hop: median ${hopMs[hopMs.length >> 1]!.toFixed(1)} ms, max ${hopMs[hopMs.length - 1]!.toFixed(1)} ms (${hopMs.length} frames)`);
    assert.ok(hopMs[hopMs.length >> 1]! < 100, 'well under 100 ms per hop on loopback');
  });

  it('source "Node-RED / generic MJPEG" without a custom path is refused with a setting error', async function () {
    await helper.load([cameraNode, mjpgInNode], [cameraConfig('bad', port, { sourceType: 'mjpeg-url', customPath: '' }), mjpgIn('in', 'bad', {}, [[]])]);
    const bad = helper.getNode('bad');
    await waitFor(() => callsOf(bad, 'error').some((c) => /needs the custom path/.test(String(c.args[0]))), 5000, 'the config error');
  });

  it('a frame msg as mqtt in gives it (JPEG Buffer + msg.userProperties, no msg.frame): axmjpeg-out serves its origin in the part headers', async function () {
    await helper.load([capture, relayNode], [{ id: 'o', type: 'axmjpeg-out', name: '', url: '/from-mqtt', maxViewers: 5, fps: 0, stuckTimeout: 30, wires: [[]] }]);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`http://127.0.0.1:${port}/from-mqtt`, { agent: false }, resolve).on('error', reject));
    let raw = '';
    res.on('data', (c: Buffer) => (raw += c.toString('latin1')));
    const o = helper.getNode('o');
    o.receive({ topic: 'cam/front', payload: FRAMES[0], contentType: 'image/jpeg', userProperties: { 'x-timestamp': '1700000000.040', 'x-sequence': '77', 'x-camera': 'Front door' } });
    await waitFor(() => raw.includes('X-Sequence'), 5000, 'a part');
    res.destroy();
    assert.match(raw, /X-Timestamp: 1700000000\.040\r\nX-Sequence: 77\r\nX-Camera: Front%20door\r\n/);
  });

  it('axmjpeg-in puts the frame\'s origin into msg.userProperties and msg.contentType, as a core mqtt out (v5) sends them', async function () {
    const { first } = await load();
    await waitFor(() => cam.clients > 0, 10_000, 'connected');
    cam.send(0);
    await waitFor(() => first.length > 0, 5000, 'a frame');
    const m = first[0]!;
    assert.equal(m.contentType, 'image/jpeg');
    assert.deepEqual(m.userProperties, { 'x-timestamp': (m.frame.time / 1000).toFixed(3), 'x-sequence': String(m.frame.seq), 'x-camera': 'Front door', 'x-width': '32', 'x-height': '24' });
  });

  it('source down: a reconnecting downstream hop is not fed the stale latest frame again (X-Resent), nor the offline picture (X-Source-Offline)', async function () {
    const { first, last } = await load({ offlineAfter: 1 });
    await waitFor(() => cam.clients > 0, 10_000, 'hop 0 connected');
    let i = 0;
    while (last.length === 0 && i < 10) {
      cam.send(i++);
      await sleep(150);
    }
    for (let k = 0; k < 3; k++, i++) {
      cam.send(i);
      await sleep(50);
    }
    await waitFor(() => last.some((m) => m.payload.equals(FRAMES[i - 1]!)), 5000, 'the chain is up');
    const before = last.length;
    const firstBefore = first.length;
    // The camera stays silent (connected): hop 1 keeps its stale latest frame; the downstream hops
    // (1 s stall timeout) reconnect about every second and are greeted with it each time, then with
    // the offline picture once 'offline after' (1 s) has passed.
    await sleep(4500);
    assert.equal(first.length, firstBefore, 'no frame from the camera meanwhile');
    assert.equal(last.length, before, `no stale frame re-served as new downstream (got ${last.length - before})`);
    // Frames come back: they go through at once.
    cam.send(i);
    await waitFor(() => last.some((m) => m.payload.equals(FRAMES[i]!)), 5000, 'a new frame after the pause');
  });
});
