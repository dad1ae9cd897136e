/**
 * axmjpeg-out in Node-RED (node-red-node-test-helper): the node's routes on
 * the captured RED.httpNode app, mounted on a real http server on 127.0.0.1,
 * with real http clients.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { helper, collect, startNodeRed, type Msg } from '../support/node-red';
import { catchAndComplete } from '../support/flow-nodes';
import { fakeJpeg } from '../support/jpeg-samples';
import { partsByLength } from '../support/multipart';
import { waitFor } from '../support/wait';
import { frameChannels } from '../../src/relay/frame-channel';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const relayNode = require('../../nodes/axmjpeg-out');

type App = http.RequestListener & { _router?: { stack: unknown[] } };

const WAIT_MS = 5000;

const jpeg = (seq: number, size = 64): Buffer => fakeJpeg(seq, size);

function frameMsg(seq: number, size = 64): Msg {
  return {
    topic: 'cam1',
    payload: jpeg(seq, size),
    frame: { seq, time: 1_700_000_000_000 + seq, size, width: null, height: null, fps: 0, camera: 'c', headers: {} },
  };
}

/** Collects a stream's bytes and splits the JPEG bodies out by Content-Length. */
class StreamClient {
  raw = Buffer.alloc(0);
  ended = false;
  constructor(readonly res: http.IncomingMessage) {
    res.on('data', (c: Buffer) => (this.raw = Buffer.concat([this.raw, c])));
    res.on('end', () => (this.ended = true));
    res.on('close', () => (this.ended = true));
  }
  get boundary(): string {
    return /boundary=(\S+)/.exec(String(this.res.headers['content-type']))![1];
  }
  parts(): Buffer[] {
    return partsByLength(this.raw);
  }
}

describe('axmjpeg-out node', function () {
  this.timeout(10_000);
  let app: App | null = null;
  let server: http.Server;
  let base: string;
  const requests: http.ClientRequest[] = [];

  /** Wraps the node module so the test sees the RED.httpNode app it mounts routes on. */
  function capture(RED: { httpNode: App }): void {
    app = RED.httpNode;
  }

  function get(path: string, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${base}${path}`, { agent: false, headers }, resolve);
      req.on('error', reject);
      requests.push(req);
    });
  }

  async function text(res: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString();
  }

  async function load(cfg: Record<string, unknown>, extra: Record<string, unknown>[] = []): Promise<void> {
    const flow = [
      { id: 'r', type: 'axmjpeg-out', name: '', url: '/cam/live', maxViewers: 20, fps: 0, stuckTimeout: 30, wires: [], ...cfg },
      ...extra,
    ];
    await helper.load([capture, relayNode], flow);
  }

  beforeEach(async function () {
    await startNodeRed();
    server = http.createServer((req, res) => {
      if (app) app(req, res);
      else res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async function () {
    for (const r of requests.splice(0)) r.destroy();
    await helper.unload();
    helper.settings({});
    app = null;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => helper.stopServer(r));
  });

  it('serves received frames as a stream starting with a delimiter, and the latest frame as .jpg / ?snapshot', async function () {
    await load({});
    const node = helper.getNode('r');
    const before = await get('/cam/live.jpg');
    assert.equal(before.statusCode, 503);
    await text(before);

    node.receive(frameMsg(1));
    const res = await get('/cam/live');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^multipart\/x-mixed-replace; boundary=/);
    const c = new StreamClient(res);
    await waitFor(() => c.parts().length === 1, WAIT_MS, 'latest frame on connect');
    assert.ok(c.raw.toString('latin1').startsWith(`--${c.boundary}\r\n`), 'first bytes are a delimiter');
    assert.deepEqual(c.parts()[0], jpeg(1));
    for (let i = 2; i <= 5; i++) {
      node.receive(frameMsg(i));
      await waitFor(() => c.parts().length === i, WAIT_MS, `frame ${i}`);
    }
    assert.deepEqual(c.parts(), [1, 2, 3, 4, 5].map((i) => jpeg(i)));
    assert.match(c.raw.toString('latin1'), /X-Timestamp: 1700000000\.005\r\n/);

    for (const path of ['/cam/live.jpg', '/cam/live?snapshot']) {
      const snap = await get(path);
      assert.equal(snap.statusCode, 200);
      assert.equal(snap.headers['content-type'], 'image/jpeg');
      const chunks: Buffer[] = [];
      for await (const ch of snap) chunks.push(ch as Buffer);
      assert.deepEqual(Buffer.concat(chunks), jpeg(5));
    }
  });

  it('publishes its frames on the in-process frame channel of its path (the dashboard widget reads it) until closed', async function () {
    const got: { seq: number; time: number }[] = [];
    const ups: boolean[] = [];
    const off = frameChannels().subscribe('/cam/live', {
      frame: (f) => got.push({ seq: f.jpeg.readUInt32BE(2), time: f.time }),
      online: (up) => ups.push(up),
    });
    try {
      await load({});
      assert.equal(frameChannels().pathOf('r'), '/cam/live');
      helper.getNode('r').receive(frameMsg(1));
      helper.getNode('r').receive(frameMsg(2));
      await waitFor(() => got.length === 2, WAIT_MS, 'frames on the channel');
      assert.deepEqual(got, [{ seq: 1, time: 1_700_000_000_001 }, { seq: 2, time: 1_700_000_000_002 }]);
      helper.getNode('r').receive({ payload: 'not a frame' });
      await helper.unload();
      assert.deepEqual(ups, [true, false], 'online while deployed, offline once closed');
      assert.equal(frameChannels().pathOf('r'), null);
      assert.equal(got.length, 2, 'a msg that is not a JPEG is not passed on');
    } finally {
      off();
    }
  });

  it('status shows viewers and updates when they leave', async function () {
    await load({});
    const node = helper.getNode('r');
    const statuses: any[] = [];
    node.on('call:status', (call: { args: any[] }) => statuses.push(call.args[0]));
    // The helper's RED._ returns the key, so the viewer count shows in the fill colour only.
    const res = await get('/cam/live');
    await waitFor(() => statuses.some((s) => s.fill === 'green' && s.text === 'axmjpeg-out.status.viewers'), WAIT_MS, 'green status with a viewer');
    res.destroy();
    await waitFor(() => statuses[statuses.length - 1]?.fill === 'grey', WAIT_MS, 'grey status after the viewer left');
  });

  it('max viewers: 503 with Retry-After', async function () {
    await load({ maxViewers: 1 });
    const first = await get('/cam/live');
    assert.equal(first.statusCode, 200);
    const second = await get('/cam/live');
    assert.equal(second.statusCode, 503);
    assert.ok(Number(second.headers['retry-after']) > 0);
    assert.match(await text(second), /Too many viewers/);
  });

  it('viewers per address: the next one from the same address gets 429 + Retry-After', async function () {
    await load({ maxPerAddress: 2 });
    helper.getNode('r').receive(frameMsg(1));
    for (let i = 0; i < 2; i++) assert.equal((await get('/cam/live')).statusCode, 200);
    const third = await get('/cam/live');
    assert.equal(third.statusCode, 429);
    assert.ok(Number(third.headers['retry-after']) > 0);
    assert.match(await text(third), /Too many viewers from your address \(at most 2\)/);
    // The snapshot is not a slot: it still answers.
    const snap = await get('/cam/live.jpg');
    assert.equal(snap.statusCode, 200);
    await text(snap);
  });

  it('viewers per address: a flow saved without the setting gets the default 10; 0 means no limit', async function () {
    await load({ maxPerAddress: undefined });
    for (let i = 0; i < 10; i++) assert.equal((await get('/cam/live')).statusCode, 200, `viewer ${i + 1}`);
    const eleventh = await get('/cam/live');
    assert.equal(eleventh.statusCode, 429);
    await text(eleventh);
    for (const r of requests.splice(0)) r.destroy();

    await helper.setFlows([{ id: 'r4', type: 'axmjpeg-out', url: '/cam/live', maxViewers: 12, maxPerAddress: 0, fps: 0, stuckTimeout: 30, wires: [] }], 'full');
    for (let i = 0; i < 12; i++) assert.equal((await get('/cam/live')).statusCode, 200, `viewer ${i + 1} without a per-address limit`);
    const over = await get('/cam/live');
    assert.equal(over.statusCode, 503, 'only max viewers applies');
    await text(over);
  });

  it('?fps below 0.1 gets 400 with the reason', async function () {
    await load({});
    const res = await get('/cam/live?fps=0.0001');
    assert.equal(res.statusCode, 400);
    assert.match(await text(res), /fps must be at least 0\.1/);
  });

  it('invalid per-address limit or a max rate below 0.1: error logged, no route', async function () {
    for (const [cfg, key] of [
      [{ maxPerAddress: -1 }, 'errors.maxPerAddress'],
      [{ maxPerAddress: 2.5 }, 'errors.maxPerAddress'],
      [{ fps: 0.05 }, 'errors.fps'],
    ] as const) {
      // The helper starts a fresh log spy on each load, so this sees this case's lines only.
      await load(cfg);
      const logged = helper.log().args.some((a: any[]) => a[0]?.level === helper.log().ERROR && String(a[0].msg).includes(key));
      assert.ok(logged, `${JSON.stringify(cfg)}: ${key} logged`);
      const res = await get('/cam/live');
      assert.equal(res.statusCode, 404, JSON.stringify(cfg));
      await text(res);
      await helper.unload();
    }
  });

  it('a msg that is not a JPEG reaches Catch once per kind of problem; done() once per input', async function () {
    await load({}, catchAndComplete('r'));
    const caught = collect('caught');
    const completed = collect('completed');
    const node = helper.getNode('r');
    node.receive({ payload: 'hello' });
    node.receive({ payload: 'again' });
    node.receive({ payload: Buffer.from('not a jpeg') });
    node.receive({});
    node.receive(frameMsg(1));
    await waitFor(() => caught.length === 3 && completed.length === 2, WAIT_MS, 'catch and complete');
    await sleep(50);
    assert.equal(caught.length, 3);
    assert.deepEqual(
      caught.map((m) => m.error.code),
      ['ERR_NOT_JPEG', 'ERR_NOT_JPEG', 'ERR_NOT_JPEG'],
    );
    // The helper's RED._ returns the message key.
    assert.match(caught[0].error.message, /errors\.notBuffer/);
    assert.match(caught[1].error.message, /errors\.notJpeg/);
    assert.match(caught[2].error.message, /errors\.noPayload/);
    // Complete fires for inputs finished without error: the repeated problem and the good frame.
    assert.equal(completed.length, 2);
  });

  it('invalid settings: error logged, no route, inputs still done', async function () {
    await load({ url: 'cam live' });
    const node = helper.getNode('r');
    const logged = helper.log().args.some((a: any[]) => a[0]?.level === helper.log().ERROR && /must start with \//.test(String(a[0].msg)));
    assert.ok(logged, 'error logged');
    node.receive(frameMsg(1));
    const res = await get('/cam%20live');
    assert.equal(res.statusCode, 404);
    await text(res);
  });

  it('redeploy ends viewers and removes the route (404), the new path works', async function () {
    await load({});
    const node = helper.getNode('r');
    node.receive(frameMsg(1));
    const c = new StreamClient(await get('/cam/live'));
    await waitFor(() => c.parts().length === 1, WAIT_MS, 'first frame');
    const stackBefore = app!._router!.stack.length;

    await helper.setFlows([{ id: 'r2', type: 'axmjpeg-out', url: '/cam/other', maxViewers: 5, fps: 0, stuckTimeout: 30, wires: [] }], 'full');
    await waitFor(() => c.ended, WAIT_MS, 'old viewer ended');
    const old = await get('/cam/live');
    assert.equal(old.statusCode, 404);
    await text(old);
    const oldSnap = await get('/cam/live.jpg');
    assert.equal(oldSnap.statusCode, 404);
    await text(oldSnap);
    assert.equal(app!._router!.stack.length, stackBefore, 'two routes removed, two added');

    helper.getNode('r2').receive(frameMsg(9));
    const c2 = new StreamClient(await get('/cam/other'));
    await waitFor(() => c2.parts().length === 1, WAIT_MS, 'frame on the new path');
    assert.deepEqual(c2.parts()[0], jpeg(9));
  });

  it('redeploy on the same path serves the new node, not the closed one', async function () {
    await load({});
    helper.getNode('r').receive(frameMsg(1));
    await helper.setFlows([{ id: 'r3', type: 'axmjpeg-out', url: '/cam/live', maxViewers: 5, fps: 0, stuckTimeout: 30, wires: [] }], 'full');
    helper.getNode('r3').receive(frameMsg(3));
    const c = new StreamClient(await get('/cam/live'));
    await waitFor(() => c.parts().length === 1, WAIT_MS, 'frame from the new node');
    assert.deepEqual(c.parts()[0], jpeg(3));
  });

  it('honours httpNodeCors and httpNodeMiddleware', async function () {
    let seen = 0;
    helper.settings({
      httpNodeCors: { origin: 'http://dash.example' },
      httpNodeMiddleware: (_req: unknown, res: http.ServerResponse, next: () => void) => {
        seen++;
        res.setHeader('X-Mw', 'yes');
        next();
      },
    });
    await load({});
    helper.getNode('r').receive(frameMsg(1));
    const res = await get('/cam/live.jpg', { Origin: 'http://dash.example' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], 'http://dash.example');
    assert.equal(res.headers['x-mw'], 'yes');
    await text(res);
    const stream = await get('/cam/live', { Origin: 'http://evil.example' });
    assert.equal(stream.headers['access-control-allow-origin'], undefined);
    assert.equal(stream.headers['x-mw'], 'yes');
    assert.equal(seen, 2);
  });
});
