/**
 * The "camera offline" picture in Node-RED: a camera stand-in on a real
 * socket → axmjpeg-in → axmjpeg-out (node-red-node-test-helper, routes on a
 * real http server), a camera that goes away and comes back.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { decode } from 'jpeg-js';
import { helper, collect, startNodeRed, statusesOf, type Msg } from '../support/node-red';
import { cameraConfig, mjpgIn } from '../support/flow-nodes';
import { startColourCamera, type ColourCamera } from '../support/colour-camera';
import { partsByLength } from '../support/multipart';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../../nodes/axmjpeg-in');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const relayNode = require('../../nodes/axmjpeg-out');

type App = http.RequestListener;
const W = 320;
const H = 240;
const RED_RGB = [255, 0, 0] as const;

/** The pixel at the centre-left (background, never text) of a JPEG. */
function pixel(jpeg: Buffer): { w: number; h: number; rgb: number[] } {
  const d = decode(jpeg, { useTArray: true });
  const i = (Math.floor(d.height / 2) * d.width + 2) * 4;
  return { w: d.width, h: d.height, rgb: [d.data[i]!, d.data[i + 1]!, d.data[i + 2]!] };
}
const isGrey = (rgb: number[]): boolean => Math.abs(rgb[0]! - rgb[1]!) < 6 && Math.abs(rgb[1]! - rgb[2]!) < 6 && rgb[0]! < 80;

describe('axmjpeg-out: camera offline picture', function () {
  this.timeout(40_000);
  let app: App | null = null;
  let server: http.Server;
  let base: string;
  let cam: ColourCamera;
  let feeding: NodeJS.Timeout | null = null;
  const requests: http.ClientRequest[] = [];

  function capture(RED: { httpNode: App }): void {
    app = RED.httpNode;
  }

  function get(path: string): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${base}${path}`, { agent: false }, resolve);
      req.on('error', reject);
      requests.push(req);
    });
  }

  async function body(res: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async function load(out: Record<string, unknown>, camCfg: Record<string, unknown> = {}): Promise<Msg[]> {
    const flow = [
      cameraConfig('cam', cam.port, { customPath: '/video', auth: 'none', resolution: '', fps: '', compression: '', ...camCfg }),
      mjpgIn('in', 'cam', { resolution: '', fps: '' }, [['out']]),
      { id: 'out', type: 'axmjpeg-out', name: '', url: '/cam/live', maxViewers: 20, fps: 0, stuckTimeout: 30, offlineAfter: 1, wires: [['msgs']], ...out },
      { id: 'msgs', type: 'helper' },
    ];
    await helper.load([capture, cameraNode, mjpgInNode, relayNode], flow);
    return collect('msgs');
  }

  /** The camera sends a red frame every 100 ms while it is up. */
  function feed(): void {
    feeding = setInterval(() => cam.send(RED_RGB), 100);
  }

  beforeEach(async function () {
    cam = await startColourCamera(W, H);
    await startNodeRed();
    server = http.createServer((req, res) => (app ? app(req, res) : res.end()));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    feed();
  });

  afterEach(async function () {
    if (feeding) clearInterval(feeding);
    for (const r of requests.splice(0)) r.destroy();
    await helper.unload();
    app = null;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => helper.stopServer(r));
    await cam.close();
  });

  it('camera gone: viewers stay connected and get the offline picture at the stream size, the snapshot too, a msg and a red status say so; live frames come back on reconnect', async function () {
    const msgs = await load({});
    await waitFor(() => cam.clients > 0, 10_000, 'axmjpeg-in connected');
    const res = await get('/cam/live');
    assert.equal(res.statusCode, 200);
    let raw = Buffer.alloc(0);
    res.on('data', (c: Buffer) => (raw = Buffer.concat([raw, c])));
    await waitFor(() => partsByLength(raw).length >= 3, 10_000, 'live frames');
    assert.ok(!isGrey(pixel(partsByLength(raw)[0]!).rgb), 'a live (red) frame first');

    const downAt = Date.now();
    await cam.stop();
    const livePartsAtStop = partsByLength(raw).length;
    const lastIsPlaceholder = (): boolean => {
      const parts = partsByLength(raw);
      return parts.length > livePartsAtStop && isGrey(pixel(parts[parts.length - 1]!).rgb);
    };
    await waitFor(lastIsPlaceholder, 10_000, 'the offline picture in the stream');
    const tookMs = Date.now() - downAt;
    const ph = pixel(partsByLength(raw).at(-1)!);
    assert.deepEqual([ph.w, ph.h], [W, H], 'same size as the stream');
    assert.ok(!res.destroyed && !res.complete, 'viewer still connected');

    const snap = await get('/cam/live.jpg');
    assert.equal(snap.statusCode, 200);
    assert.equal(snap.headers['x-source-offline'], '1');
    const s = pixel(await body(snap));
    assert.ok(isGrey(s.rgb) && s.w === W && s.h === H, 'snapshot is the offline picture');

    await waitFor(() => msgs.some((m) => m.payload === 'offline'), 3000, 'offline msg');
    const off = msgs.find((m) => m.payload === 'offline')!;
    assert.equal(typeof off.offline.reason, 'string');
    assert.ok(off.offline.reason.length > 0);
    assert.equal(typeof off.offline.lastFrame, 'number');
    assert.equal(off.offline.stopped, false);
    const status = statusesOf(helper.getNode('out')).at(-1)!;
    assert.equal(status.fill, 'red');
    assert.match(String(status.text), /offline/);

    // Sent again slowly while down (a viewer that joins now gets it at once).
    const count = partsByLength(raw).length;
    await waitFor(() => partsByLength(raw).length > count, 5000, 'the picture repeated');

    await cam.resume();
    await waitFor(() => msgs.some((m) => m.payload === 'online'), 15_000, 'online msg after reconnect');
    await waitFor(() => !isGrey(pixel(partsByLength(raw).at(-1)!).rgb), 5000, 'live frames again');
    const snap2 = await get('/cam/live.jpg');
    assert.equal(snap2.headers['x-source-offline'], undefined);
    await body(snap2);
    console.log(`      offline picture ${tookMs} ms after the camera went away (offlineAfter 1 s); reason "${off.offline.reason}"`);
  });

  it('offlineSnapshot 503: the snapshot answers 503 + Retry-After while the source is down', async function () {
    await load({ offlineSnapshot: '503' });
    await waitFor(() => cam.clients > 0, 10_000, 'axmjpeg-in connected');
    await waitFor(() => helper.getNode('out') && statusesOf(helper.getNode('out')).some((st) => st.shape === 'dot'), 10_000, 'frames');
    await cam.stop();
    let snap: http.IncomingMessage;
    const t0 = Date.now();
    for (;;) {
      snap = await get('/cam/live.jpg');
      await body(snap);
      if (snap.statusCode === 503) break;
      assert.ok(Date.now() - t0 < 10_000, 'no 503 within 10 s');
      await sleep(200);
    }
    assert.equal(snap.headers['x-source-offline'], '1');
    assert.ok(Number(snap.headers['retry-after']) > 0);
  });

  it('a source that is up but slow (frames every 3 s, offlineAfter 1 s) is never called offline', async function () {
    clearInterval(feeding!);
    feeding = setInterval(() => cam.send(RED_RGB), 3000);
    // The test camera config's 2 s stall timeout would (rightly) call a 3 s gap a dead stream.
    const msgs = await load({}, { stallTimeout: 10 });
    await waitFor(() => cam.clients > 0, 10_000, 'axmjpeg-in connected');
    cam.send(RED_RGB);
    await sleep(5000);
    assert.deepEqual(msgs.map((m) => m.payload), []);
  });
});
