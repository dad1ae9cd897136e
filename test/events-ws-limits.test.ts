/**
 * The event WebSocket's message limit against a real WebSocket server on
 * 127.0.0.1:0 that sends what a broken or hostile camera could: one message
 * declaring 120 MB (undici's own default limit is 128 MB, so this used to be
 * buffered: 132 -> 507 MB), a message split into many frames, and more
 * fragments than allowed. The stream must report ERR_MESSAGE_TOO_LARGE, the
 * server must see a close frame (1009 / 1008), and memory must stay flat.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CameraHttpClient } from '../src/http';
import { DEFAULT_MAX_MESSAGE_BYTES, EventStream, MAX_MESSAGE_FRAGMENTS, type AxisEvent, type EventStateChange } from '../src/events';
import { exposeGc } from './support/gc';
import { waitFor } from './support/wait';

const TOPIC = 'tns1:Device/tnsaxis:IO/VirtualInput';
const FAST_BACKOFF = { initialMs: 5000, maxMs: 5000, factor: 1, jitter: 0, healthyResetMs: 60_000, credentialRetryMs: 5000 };

function frameHead(opcode: number, fin: boolean, len: number): Buffer {
  const b0 = (fin ? 0x80 : 0) | opcode;
  if (len < 126) return Buffer.from([b0, len]);
  if (len < 65536) {
    const h = Buffer.from([b0, 126, 0, 0]);
    h.writeUInt16BE(len, 2);
    return h;
  }
  const h = Buffer.alloc(10);
  h[0] = b0;
  h[1] = 127;
  h.writeBigUInt64BE(BigInt(len), 2);
  return h;
}
const textFrame = (s: string): Buffer => Buffer.concat([frameHead(0x1, true, Buffer.byteLength(s)), Buffer.from(s)]);

function notify(data: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: '1.0',
    method: 'events:notify',
    params: { notification: { topic: TOPIC, timestamp: 1700000000000, message: { source: { port: '1' }, key: {}, data } } },
  });
}

/** Writes `total` bytes of filler, honouring backpressure, until done or the peer is gone. */
async function pump(socket: Socket, total: number): Promise<number> {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  let sent = 0;
  while (sent < total && !socket.destroyed && socket.writable) {
    const n = Math.min(chunk.length, total - sent);
    sent += n;
    if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
      await new Promise<void>((r) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          r();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }
  return sent;
}

interface FakeCamera {
  port: number;
  /** Close codes the client sent. */
  closeCodes: number[];
  /** Sec-WebSocket-Extensions the client offered. */
  offeredExtensions: (string | undefined)[];
  bytesSent: number;
  close(): Promise<void>;
}

/**
 * wssession.cgi without login, a WebSocket that answers configure and then runs
 * `scenario`. Client frames are parsed only far enough to read close codes.
 */
async function fakeCamera(scenario: (socket: Socket, cam: FakeCamera) => Promise<void>): Promise<FakeCamera> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: '1.0', method: 'wssession', data: { wssession: 'tok123' } }));
  });
  const cam: FakeCamera = {
    port: 0,
    closeCodes: [],
    offeredExtensions: [],
    bytesSent: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket: Socket) => {
    cam.offeredExtensions.push(req.headers['sec-websocket-extensions'] as string | undefined);
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    let configured = false;
    socket.on('error', () => socket.destroy());
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 6) {
        // Client frames here are small: 7-bit or 16-bit lengths, always masked.
        const ext = (buf[1] & 0x7f) === 126;
        const off = ext ? 4 : 2;
        if (buf.length < off + 4) return;
        const len = ext ? buf.readUInt16BE(2) : buf[1] & 0x7f;
        if (buf.length < off + 4 + len) return;
        const mask = buf.subarray(off, off + 4);
        const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len)).map((b, i) => b ^ mask[i & 3]);
        const opcode = buf[0] & 0x0f;
        buf = buf.subarray(off + 4 + len);
        if (opcode === 0x8 && payload.length >= 2) cam.closeCodes.push(Buffer.from(payload).readUInt16BE(0));
        if (opcode === 0x1 && !configured) {
          configured = true;
          socket.write(textFrame('{"apiVersion":"1.0","method":"events:configure","data":{}}'));
          void scenario(socket, cam);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cam.port = (server.address() as AddressInfo).port;
  return cam;
}

describe('event WebSocket message limit', function () {
  this.timeout(30_000);
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function run(
    scenario: (socket: Socket, cam: FakeCamera) => Promise<void>,
    maxMessageBytes?: number,
  ): Promise<{ cam: FakeCamera; stream: EventStream; states: EventStateChange[]; events: AxisEvent[] }> {
    const cam = await fakeCamera(scenario);
    cleanup.push(() => cam.close());
    const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: cam.port });
    cleanup.push(() => client.close());
    const stream = new EventStream({ client, topics: [TOPIC], emitInitial: true, backoff: FAST_BACKOFF, ...(maxMessageBytes ? { maxMessageBytes } : {}) });
    cleanup.push(() => stream.stop());
    const states: EventStateChange[] = [];
    const events: AxisEvent[] = [];
    stream.on('state', (s) => states.push(s));
    stream.on('event', (e) => events.push(e));
    stream.start();
    return { cam, stream, states, events };
  }

  const tooLarge = (states: EventStateChange[]): EventStateChange | undefined => states.find((s) => s.error?.code === 'ERR_MESSAGE_TOO_LARGE');

  it('one message declaring 120 MB: typed error, close 1009, memory stays flat', async () => {
    const gc = exposeGc();
    gc();
    const before = process.memoryUsage();
    let peak = 0;
    const sample = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - before.heapUsed - before.arrayBuffers);
    }, 5);
    cleanup.push(async () => clearInterval(sample));
    const total = 120 * 1024 * 1024;
    const t = await run(async (socket, cam) => {
      socket.write(frameHead(0x1, true, total));
      cam.bytesSent = await pump(socket, total);
    });
    await waitFor(() => !!tooLarge(t.states), 10_000, 'ERR_MESSAGE_TOO_LARGE');
    const s = tooLarge(t.states)!;
    assert.equal(s.state, 'backoff', 'retried later, like any other link failure');
    assert.match(s.error!.message, /event message of at least 125829120 bytes \(limit 1048576\)/);
    assert.match(s.error!.hint, /larger than any event/);
    await waitFor(() => t.cam.closeCodes.includes(1009), 5000, 'close 1009 at the server');
    clearInterval(sample);
    assert.ok(t.cam.bytesSent < total, `the client hung up early (${t.cam.bytesSent} of ${total} bytes taken)`);
    if (process.env.SHOW_MEM) console.log("peak growth MB", (peak / 1048576).toFixed(1), "bytes taken", t.cam.bytesSent);
    assert.ok(peak < 48 * 1024 * 1024, `memory grew by ${(peak / 1048576).toFixed(1)} MB`);
    assert.deepEqual(t.cam.offeredExtensions, [undefined], 'no permessage-deflate offer');
    assert.equal(t.events.length, 0);
  });

  it('a message split into frames that together pass the limit: typed error, close 1009', async () => {
    const t = await run(async (socket) => {
      const part = Buffer.alloc(64 * 1024, 0x20);
      const n = Math.ceil((DEFAULT_MAX_MESSAGE_BYTES + 1) / part.length) + 1;
      for (let i = 0; i < n && !socket.destroyed; i++) socket.write(Buffer.concat([frameHead(i === 0 ? 0x1 : 0x0, i === n - 1, part.length), part]));
    });
    await waitFor(() => !!tooLarge(t.states), 10_000, 'ERR_MESSAGE_TOO_LARGE');
    assert.match(tooLarge(t.states)!.error!.message, /limit 1048576/);
    await waitFor(() => t.cam.closeCodes.includes(1009), 5000, 'close 1009 at the server');
  });

  it('more fragments than allowed: typed error, close 1008', async () => {
    const t = await run(async (socket) => {
      const frames: Buffer[] = [];
      for (let i = 0; i <= MAX_MESSAGE_FRAGMENTS; i++) frames.push(frameHead(i === 0 ? 0x1 : 0x0, false, 1), Buffer.from(' '));
      socket.write(Buffer.concat(frames));
    });
    await waitFor(() => !!tooLarge(t.states), 10_000, 'ERR_MESSAGE_TOO_LARGE');
    assert.match(tooLarge(t.states)!.error!.message, /more than 1024 fragments/);
    await waitFor(() => t.cam.closeCodes.includes(1008), 5000, 'close 1008 at the server');
  });

  it('a message at the limit is delivered, one byte more is refused (limit set per stream)', async () => {
    const limit = 64 * 1024;
    const fill = (size: number): string => {
      const base = notify({ active: '1', pad: '' });
      return notify({ active: '1', pad: 'p'.repeat(size - base.length) });
    };
    const atLimit = fill(limit);
    assert.equal(Buffer.byteLength(atLimit), limit);
    const t = await run(async (socket) => {
      // Split across frames and TCP writes: the watch must follow headers across chunk edges.
      const b = Buffer.from(atLimit);
      const f1 = Buffer.concat([frameHead(0x1, false, 1000), b.subarray(0, 1000)]);
      const f2 = Buffer.concat([frameHead(0x0, true, b.length - 1000), b.subarray(1000)]);
      const all = Buffer.concat([f1, f2]);
      for (let i = 0; i < all.length; i += 777) socket.write(all.subarray(i, i + 777));
      await new Promise((r) => setTimeout(r, 100));
      socket.write(textFrame(fill(limit + 1).replace('"active":"1"', '"active":"0"')));
    }, limit);
    await waitFor(() => !!tooLarge(t.states), 10_000, 'ERR_MESSAGE_TOO_LARGE');
    assert.equal(t.events.length, 1, 'the message at the limit arrived');
    assert.equal(t.events[0].data.pad.length, limit - Buffer.byteLength(notify({ active: '1', pad: '' })));
    assert.match(tooLarge(t.states)!.error!.message, /at least 65537 bytes \(limit 65536\)/);
  });

  it('rejects a limit that is not a positive number', () => {
    const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: 1 });
    cleanup.push(() => client.close());
    assert.throws(() => new EventStream({ client, topics: [TOPIC], maxMessageBytes: 0 }), /maxMessageBytes must be a positive number/);
  });
});
