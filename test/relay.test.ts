/**
 * MjpegBroadcaster over real sockets: a plain node http server on 127.0.0.1
 * port 0 and node http clients that parse the multipart stream strictly.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { encode } from 'jpeg-js';
import { MjpegBroadcaster, BroadcasterOptions, parseViewerQuery } from '../src/relay/broadcaster';
import { validateRelayPath } from '../src/relay/path';
import { corsHeaders } from '../src/relay/cors';
import { isCameraError } from '../src/errors';
import { fakeJpeg } from './support/jpeg-samples';

const jpegCache = new Map<string, Buffer>();

/** A real, decodable JPEG of a flat colour (cached: jpeg-js takes ~60 ms per encode). */
function colourJpeg(i: number, width = 64, height = 48): Buffer {
  const key = `${i}:${width}x${height}`;
  let jpeg = jpegCache.get(key);
  if (!jpeg) {
    jpeg = encodeColour(i, width, height);
    jpegCache.set(key, jpeg);
  }
  return jpeg;
}

function encodeColour(i: number, width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    data[p * 4] = (i * 53) & 0xff;
    data[p * 4 + 1] = (i * 101) & 0xff;
    data[p * 4 + 2] = (i * 197) & 0xff;
    data[p * 4 + 3] = 0xff;
  }
  return encode({ data, width, height }, 80).data;
}

/** Strict reader of our stream layout; throws on anything unexpected. */
class PartReader {
  private buf = Buffer.alloc(0);
  private expectDelimiter = true;
  readonly parts: { headers: Record<string, string>; body: Buffer }[] = [];
  firstBytes: Buffer | null = null;
  bytes = 0;
  constructor(
    private readonly boundary: string,
    private readonly onPart?: (body: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    if (!this.firstBytes) this.firstBytes = chunk.subarray(0, 64);
    this.bytes += chunk.length;
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.expectDelimiter) {
        const delim = Buffer.from(`--${this.boundary}\r\n`);
        if (this.buf.length < delim.length) return;
        assert.deepEqual(this.buf.subarray(0, delim.length), delim, 'expected a delimiter line');
        this.buf = this.buf.subarray(delim.length);
        this.expectDelimiter = false;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers: Record<string, string> = {};
      for (const line of this.buf.subarray(0, end).toString('latin1').split('\r\n')) {
        const c = line.indexOf(':');
        assert.ok(c > 0, `bad header line ${JSON.stringify(line)}`);
        headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
      }
      const len = Number(headers['content-length']);
      assert.ok(Number.isInteger(len) && len > 0, 'Content-Length required');
      if (this.buf.length < end + 4 + len + 2) return;
      const body = Buffer.from(this.buf.subarray(end + 4, end + 4 + len));
      assert.equal(this.buf.subarray(end + 4 + len, end + 6 + len).toString('latin1'), '\r\n', 'CRLF after the body');
      this.buf = this.buf.subarray(end + 6 + len);
      this.expectDelimiter = true;
      this.parts.push({ headers, body });
      this.onPart?.(body);
    }
  }
}

interface Viewer {
  res: http.IncomingMessage;
  reader: PartReader;
  req: http.ClientRequest;
  /** Resolves when `n` parts have arrived. */
  waitParts(n: number, timeoutMs?: number): Promise<void>;
}

describe('relay: MjpegBroadcaster over real sockets', function () {
  let server: http.Server;
  let bc: MjpegBroadcaster;
  let base: string;
  const clients: http.ClientRequest[] = [];
  const rawClients: Socket[] = [];
  let serverSockets: Socket[] = [];

  /** The server's end of a client's connection: a paused client never sees its socket close. */
  function serverSide(v: Viewer): Socket {
    const port = v.req.socket!.localPort;
    const s = serverSockets.find((x) => x.remotePort === port);
    assert.ok(s, 'server socket');
    return s;
  }

  async function start(opts: BroadcasterOptions = {}): Promise<void> {
    bc = new MjpegBroadcaster(opts);
    serverSockets = [];
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/live.jpg')) bc.serveSnapshot(req, res);
      else if (req.url?.startsWith('/live')) bc.handle(req, res);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    server.on('connection', (s: Socket) => serverSockets.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function get(path: string, method = 'GET', localAddress?: string): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${base}${path}`, { method, agent: false, localAddress }, resolve);
      req.on('error', reject);
      clients.push(req);
      req.end();
    });
  }

  async function body(res: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async function view(path = '/live', opts: { paused?: boolean } = {}): Promise<Viewer> {
    const res = await get(path);
    assert.equal(res.statusCode, 200);
    const req = clients[clients.length - 1];
    const waiters: { n: number; resolve: () => void }[] = [];
    const reader = new PartReader(bc.boundary, () => {
      for (const w of [...waiters]) if (reader.parts.length >= w.n) w.resolve();
    });
    if (!opts.paused) res.on('data', (c: Buffer) => reader.push(c));
    else res.pause();
    return {
      res,
      reader,
      req,
      waitParts: async (n, timeoutMs = 5000) => {
        if (reader.parts.length >= n) return;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => waiters.push({ n, resolve })),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`only ${reader.parts.length} of ${n} parts arrived`)), timeoutMs);
          }),
        ]).finally(() => clearTimeout(timer));
      },
    };
  }

  /**
   * The attacker's client: a raw socket that sends the request and never
   * reads a byte. Resolves once the relay counts it as a viewer.
   */
  async function neverReading(path: string): Promise<Socket> {
    const before = bc.stats.accepted;
    const port = (server.address() as AddressInfo).port;
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.pause();
    rawClients.push(sock);
    await once(sock, 'connect');
    sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await until(() => bc.stats.accepted > before, 'the never-reading viewer to be accepted');
    return sock;
  }

  /** Polls a condition on the server side, bounded in time. */
  async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }

  afterEach(async function () {
    for (const c of clients.splice(0)) c.destroy();
    for (const s of rawClients.splice(0)) s.destroy();
    bc?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('starts with a delimiter, sends proper headers, and parts parse back into the exact JPEGs', async function () {
    await start();
    const v = await view();
    assert.equal(v.res.headers['content-type'], `multipart/x-mixed-replace; boundary=${bc.boundary}`);
    assert.match(String(v.res.headers['cache-control']), /no-store/);
    assert.equal(v.res.headers.pragma, 'no-cache');
    assert.equal(v.res.headers.connection, 'close');
    assert.equal(v.res.headers['x-content-type-options'], 'nosniff');
    assert.equal(v.res.headers['transfer-encoding'], undefined, 'close-delimited, not chunked');
    await until(() => v.reader.firstBytes !== null, 'opening delimiter');
    assert.equal(v.reader.firstBytes!.toString('latin1'), `--${bc.boundary}\r\n`);

    const frames = [1, 2, 3, 4, 5].map((i) => colourJpeg(i));
    for (const [i, f] of frames.entries()) {
      bc.publish(f, { time: 1_700_000_000_000 + i * 40 });
      await v.waitParts(i + 1);
    }
    assert.deepEqual(v.reader.parts.map((p) => p.body), frames);
    assert.equal(v.reader.parts[0].headers['content-type'], 'image/jpeg');
    assert.equal(v.reader.parts[1].headers['x-timestamp'], '1700000000.040');
    assert.equal(bc.stats.framesIn, 5);
    assert.equal(bc.stats.perViewer[0].sent, 5);
  });

  it('a middleware that wraps res.write (compression, a byte counter) sees every byte: frames go through it, not around it', async function () {
    await start();
    let wrapped = 0;
    server.removeAllListeners('request');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const write = res.write;
      res.write = function (this: http.ServerResponse, chunk: unknown, ...rest: unknown[]) {
        wrapped += Buffer.byteLength(chunk as Buffer);
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof res.write;
      bc.handle(req, res);
    });
    const v = await view();
    const frames = [1, 2, 3].map((i) => colourJpeg(i));
    for (const [i, f] of frames.entries()) {
      bc.publish(f);
      await v.waitParts(i + 1);
    }
    assert.deepEqual(v.reader.parts.map((p) => p.body), frames);
    const jpegBytes = frames.reduce((n, f) => n + f.length, 0);
    assert.ok(wrapped > jpegBytes, `the wrapper saw ${wrapped} bytes, the JPEGs alone are ${jpegBytes}`);
  });

  it('sends the latest frame at once to a viewer that connects later', async function () {
    await start();
    const a = colourJpeg(7);
    const b = colourJpeg(8);
    bc.publish(a);
    bc.publish(b);
    const v = await view();
    await v.waitParts(1);
    assert.deepEqual(v.reader.parts[0].body, b);
    const c = colourJpeg(9);
    bc.publish(c);
    await v.waitParts(2);
    assert.deepEqual(v.reader.parts[1].body, c);
  });

  it('a viewer that never reads gets frames dropped, bounded memory, while another gets every frame', async function () {
    this.timeout(30_000);
    const FRAME = 256 * 1024;
    const N = 160; // 40 MB in all: far more than the loopback socket buffers hold
    await start({ stuckTimeoutMs: 0 });
    const stalled = await view('/live', { paused: true });
    const reader = await view();
    await until(() => bc.viewerCount === 2, 'two viewers');
    let maxBuffered = 0;
    const stalledStats = () => bc.stats.perViewer.find((p) => p.id === 1)!;
    for (let i = 0; i < N; i++) {
      bc.publish(fakeJpeg(i, FRAME));
      await reader.waitParts(i + 1, 10_000);
      maxBuffered = Math.max(maxBuffered, stalledStats().buffered);
    }
    // The reading viewer got every frame, in order, byte for byte.
    assert.equal(reader.reader.parts.length, N);
    for (let i = 0; i < N; i++) assert.equal(reader.reader.parts[i].body.readUInt32BE(2), i);
    const s = stalledStats();
    assert.ok(s.dropped > 0, 'the stalled viewer had frames dropped');
    assert.ok(s.sent < N, `the stalled viewer was not sent every frame (sent ${s.sent})`);
    // Never more than one frame (plus part header/trailer) held per viewer.
    assert.ok(maxBuffered <= 2 * FRAME, `stalled viewer buffered ${maxBuffered} bytes`);
    assert.ok(maxBuffered > 0, 'the stalled viewer did fill its socket');
    // The stalled viewer resumes with the newest frame when it reads again.
    const resumed = new PartReader(bc.boundary);
    stalled.res.on('data', (c: Buffer) => resumed.push(c));
    stalled.res.resume();
    bc.publish(fakeJpeg(N, FRAME));
    await until(() => resumed.parts.some((p) => p.body.readUInt32BE(2) === N), 'newest frame at the stalled viewer', 10_000);
    const ids = resumed.parts.map((p) => p.body.readUInt32BE(2));
    assert.deepEqual([...ids].sort((x, y) => x - y), ids, 'frames stay in order');
  });

  it('evicts a viewer that accepts nothing for stuckTimeoutMs', async function () {
    this.timeout(20_000);
    await start({ stuckTimeoutMs: 300 });
    const stalled = await view('/live', { paused: true });
    const closed = once(serverSide(stalled), 'close');
    const evicted = once(bc, 'evicted');
    let i = 0;
    const t0 = Date.now();
    while (bc.stats.evicted === 0) {
      assert.ok(Date.now() - t0 < 15_000, 'no eviction');
      bc.publish(fakeJpeg(i++, 256 * 1024));
      await sleep(5);
    }
    const [info] = await evicted;
    assert.equal(info.id, 1);
    await closed;
    assert.equal(bc.viewerCount, 0);
  });

  it('evicts a never-reading viewer whose socket holds unsent bytes even though write() never said busy', async function () {
    this.timeout(20_000);
    // Small frames: once the OS buffers are full one frame waits in Node, far
    // below the 16 KB at which write() returns false, so "busy" alone never fires.
    await start({ stuckTimeoutMs: 300 });
    const sock = await neverReading('/live');
    const t0 = Date.now();
    let i = 0;
    while (bc.stats.perViewer[0]!.buffered === 0) {
      assert.ok(Date.now() - t0 < 10_000, 'the OS buffers never filled');
      for (let k = 0; k < 100 && bc.stats.perViewer[0]!.buffered === 0; k++) bc.publish(fakeJpeg(i++, 1024));
      await sleep(1);
    }
    assert.ok(bc.stats.perViewer[0]!.buffered < 16 * 1024, 'below the write() high-water mark');
    const stoppedAt = Date.now();
    await until(() => bc.stats.evicted === 1, 'eviction without further frames', 5000);
    const took = Date.now() - stoppedAt;
    assert.ok(took >= 250, `evicted only after the stuck time (${took} ms)`);
    assert.equal(bc.viewerCount, 0);
    await until(() => sock.destroyed || serverSockets.every((s) => s.destroyed), 'server side closed');
  });

  it('attack: never-reading viewers lose their slots once their socket buffers are full, then others get in', async function () {
    this.timeout(30_000);
    await start({ maxViewers: 5, stuckTimeoutMs: 300 });
    const attackers = await Promise.all([1, 2, 3, 4, 5].map(() => neverReading('/live')));
    const refused = await get('/live');
    assert.equal(refused.statusCode, 503);
    await body(refused);
    // 32 KB every 5 ms fills loopback's ~4 MB of socket buffers in under a second; a real slow
    // stream takes longer to get there (see the class comment), the eviction path is the same.
    const t0 = Date.now();
    let i = 0;
    while (bc.stats.evicted < attackers.length) {
      assert.ok(Date.now() - t0 < 20_000, `only ${bc.stats.evicted} of 5 evicted`);
      bc.publish(fakeJpeg(i++, 32 * 1024));
      await sleep(5);
    }
    const v = await view();
    bc.publish(colourJpeg(1));
    await v.waitParts(2);
    assert.equal(bc.viewerCount, 1);
  });

  it('rejects ?fps below 0.1 with 400 and says why: such a viewer would hold a slot with almost no writes', async function () {
    await start();
    for (const fps of ['0.0001', '0.09', '1e-9']) {
      const res = await get(`/live?fps=${fps}`);
      assert.equal(res.statusCode, 400, fps);
      assert.match((await body(res)).toString(), /fps must be at least 0\.1 \(one frame every 10 s\), or 0 for every frame/);
    }
    assert.equal(bc.viewerCount, 0);
    const slowest = await view('/live?fps=0.1');
    assert.equal(slowest.res.statusCode, 200);
  });

  it('every viewer gets a frame at least every refreshMs: the latest again while no new frame comes', async function () {
    await start({ refreshMs: 100 });
    const f = colourJpeg(5);
    bc.publish(f, { time: 1_700_000_000_000 });
    const v = await view('/live?fps=0.1');
    await v.waitParts(3, 3000);
    for (const p of v.reader.parts) {
      assert.deepEqual(p.body, f);
      assert.equal(p.headers['x-timestamp'], '1700000000.000', 'a repeat keeps its capture time');
    }
  });

  it('attack: ?fps=0.1 viewers that never read are evicted in bounded time (refresh keeps writing to them)', async function () {
    this.timeout(30_000);
    // The probe's case with the slowest rate still allowed and no new frames at all:
    // without the refresh nothing would be written to them and they would stay for ever.
    await start({ maxViewers: 5, stuckTimeoutMs: 300, refreshMs: 20 });
    bc.publish(fakeJpeg(1, 256 * 1024));
    const attackers = await Promise.all([1, 2, 3, 4, 5].map(() => neverReading('/live?fps=0.1')));
    const t0 = Date.now();
    let status = 0;
    while (status !== 200) {
      assert.ok(Date.now() - t0 < 20_000, `still refused after 20 s (${bc.stats.evicted} of 5 evicted)`);
      const res = await get('/live');
      status = res.statusCode!;
      if (status !== 200) {
        assert.equal(status, 503);
        await body(res);
        await sleep(50);
      }
    }
    assert.equal(bc.stats.evicted, attackers.length);
    assert.equal(bc.viewerCount, 1);
  });

  it('limits viewers per client address: 429 + Retry-After; the slot frees when one leaves', async function () {
    await start({ maxViewersPerAddress: 2, maxViewers: 10 });
    const a = await view();
    await view();
    const res = await get('/live');
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['retry-after'], '10');
    assert.match((await body(res)).toString(), /Too many viewers from your address \(at most 2\)/);
    assert.equal(bc.stats.rejectedPerAddress, 1);
    assert.equal(bc.stats.rejected, 0);
    assert.equal(bc.viewerCount, 2);
    a.req.destroy();
    await until(() => bc.viewerCount === 1, 'first viewer gone');
    const again = await view();
    assert.equal(again.res.statusCode, 200);
  });

  it('the per-address limit does not hold back another address (client bound to 127.0.0.2)', async function () {
    await start({ maxViewersPerAddress: 1 });
    await view();
    const same = await get('/live');
    assert.equal(same.statusCode, 429);
    await body(same);
    let other: http.IncomingMessage;
    try {
      other = await get('/live', 'GET', '127.0.0.2');
    } catch (e) {
      // 127.0.0.2 is on loopback on Linux but not on every OS.
      if ((e as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') this.skip();
      throw e;
    }
    assert.equal(other.statusCode, 200);
    assert.equal(bc.viewerCount, 2);
  });

  it('maxViewersPerAddress 0 means no per-address limit', async function () {
    await start({ maxViewersPerAddress: 0, maxViewers: 12 });
    for (let i = 0; i < 12; i++) await view();
    assert.equal(bc.viewerCount, 12);
    const res = await get('/live');
    assert.equal(res.statusCode, 503, 'only the total limit applies');
    await body(res);
  });

  it('?fps=N limits the rate for that viewer only (injected clock)', async function () {
    let now = 1_000_000;
    await start({ now: () => now });
    const slow = await view('/live?fps=5');
    const full = await view('/live');
    await until(() => bc.viewerCount === 2, 'two viewers');
    // 100 frames, 10 ms apart on the broadcaster's clock = 1 s.
    for (let i = 0; i < 100; i++) {
      bc.publish(colourJpeg(i % 4, 16, 16), { time: now });
      await full.waitParts(i + 1);
      now += 10;
    }
    await sleep(50);
    assert.equal(full.reader.parts.length, 100);
    assert.equal(slow.reader.parts.length, 5);
    const perSlow = bc.stats.perViewer.find((p) => p.fps === 5)!;
    assert.equal(perSlow.skipped, 95);
  });

  it('maxFps caps every viewer; ?fps can only lower it', async function () {
    let now = 0;
    await start({ now: () => now, maxFps: 10 });
    const capped = await view('/live');
    const lower = await view('/live?fps=2');
    const higher = await view('/live?fps=50');
    await until(() => bc.viewerCount === 3, 'three viewers');
    for (let i = 0; i < 100; i++) {
      bc.publish(colourJpeg(1, 16, 16));
      now += 10;
      await sleep(1);
    }
    await sleep(50);
    assert.equal(capped.reader.parts.length, 10);
    assert.equal(lower.reader.parts.length, 2);
    assert.equal(higher.reader.parts.length, 10);
  });

  it('rejects a malformed ?fps with 400', async function () {
    await start();
    const res = await get('/live?fps=abc');
    assert.equal(res.statusCode, 400);
    assert.match((await body(res)).toString(), /fps must be a number/);
    assert.equal(bc.viewerCount, 0);
  });

  it('answers 503 with Retry-After beyond maxViewers', async function () {
    await start({ maxViewers: 2 });
    await view();
    await view();
    const res = await get('/live');
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '10');
    assert.match(res.headers['content-type']!, /^text\/plain/);
    assert.match((await body(res)).toString(), /Too many viewers \(at most 2\)/);
    assert.equal(bc.viewerCount, 2);
    assert.equal(bc.stats.rejected, 1);
  });

  it('serves one JPEG on <path>.jpg and ?snapshot, 503 + Retry-After before the first frame', async function () {
    await start();
    const before = await get('/live.jpg');
    assert.equal(before.statusCode, 503);
    assert.equal(before.headers['retry-after'], '1');
    await body(before);
    const f = colourJpeg(3);
    bc.publish(f, { time: 1_700_000_000_500 });
    for (const path of ['/live.jpg', '/live?snapshot', '/live?snapshot=1']) {
      const res = await get(path);
      assert.equal(res.statusCode, 200, path);
      assert.equal(res.headers['content-type'], 'image/jpeg');
      assert.equal(res.headers['content-length'], String(f.length));
      assert.equal(res.headers['x-timestamp'], '1700000000.500');
      assert.match(String(res.headers['cache-control']), /no-store/);
      assert.deepEqual(await body(res), f);
    }
    assert.equal(bc.stats.snapshots, 3);
    assert.equal(bc.viewerCount, 0);
  });

  it('HEAD answers headers only and registers no viewer', async function () {
    await start();
    bc.publish(colourJpeg(1));
    const res = await get('/live', 'HEAD');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type']!, /^multipart\/x-mixed-replace; boundary=/);
    assert.equal((await body(res)).length, 0);
    const snap = await get('/live.jpg', 'HEAD');
    assert.equal(snap.headers['content-type'], 'image/jpeg');
    assert.equal((await body(snap)).length, 0);
    assert.equal(bc.viewerCount, 0);
  });

  it('cleans up a viewer as soon as it disconnects', async function () {
    await start();
    const v = await view();
    await until(() => bc.viewerCount === 1, 'viewer');
    v.req.destroy();
    await until(() => bc.viewerCount === 0, 'viewer removed');
    bc.publish(colourJpeg(1)); // nothing to write to, nothing throws
    assert.equal(bc.stats.accepted, 1);
  });

  it('close() ends every viewer, including a stalled one, and refuses new ones', async function () {
    await start();
    const v1 = await view();
    const stalled = await view('/live', { paused: true });
    for (let i = 0; i < 40; i++) bc.publish(fakeJpeg(i, 256 * 1024));
    const ended = once(v1.res, 'end');
    const stalledClosed = once(serverSide(stalled), 'close');
    bc.close();
    await ended;
    await stalledClosed;
    assert.equal(bc.viewerCount, 0);
    const res = await get('/live');
    assert.equal(res.statusCode, 503);
    await body(res);
    assert.throws(() => bc.publish(Buffer.from('not a jpeg')), (e: unknown) => isCameraError(e) && e.code === 'ERR_NOT_JPEG');
  });

  describe('with ffmpeg', function () {
    const hasFfmpeg = spawnSync('ffprobe', ['-version']).status === 0 && spawnSync('ffmpeg', ['-version']).status === 0;
    let pump: NodeJS.Timeout | undefined;
    const frames = [0, 1, 2, 3].map((i) => colourJpeg(i, 160, 120));

    before(function () {
      if (!hasFfmpeg) {
        console.log('      (skipped: ffmpeg/ffprobe not installed; apt-get install ffmpeg to run these)');
        this.skip();
      }
    });
    beforeEach(async function () {
      await start();
      let i = 0;
      pump = setInterval(() => bc.publish(frames[i++ % frames.length]), 40);
    });
    afterEach(function () {
      clearInterval(pump);
    });

    function run(cmd: string, args: string[]): Promise<{ stdout: Buffer; stderr: string }> {
      return new Promise((resolve, reject) => {
        execFile(cmd, args, { encoding: 'buffer', timeout: 15_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr.toString()}`));
          else resolve({ stdout, stderr: stderr.toString() });
        });
      });
    }

    it('ffprobe -f mpjpeg reads the stream as mjpeg', async function () {
      const { stdout } = await run('ffprobe', ['-v', 'error', '-f', 'mpjpeg', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `${base}/live`]);
      const info = JSON.parse(stdout.toString());
      assert.deepEqual(info.streams[0], { codec_name: 'mjpeg', width: 160, height: 120 });
    });

    it('ffmpeg auto-detects the format and copies out the exact JPEGs', async function () {
      const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', `${base}/live`, '-frames:v', '3', '-c:v', 'copy', '-f', 'image2pipe', '-']);
      // Split the concatenated output at each published frame's length.
      let off = 0;
      let got = 0;
      while (off < stdout.length) {
        const match = frames.find((f) => stdout.subarray(off, off + f.length).equals(f));
        assert.ok(match, `output at ${off} is not one of the published JPEGs`);
        off += match.length;
        got++;
      }
      assert.equal(got, 3);
    });
  });

  describe('with GStreamer', function () {
    const hasGst = spawnSync('gst-inspect-1.0', ['souphttpsrc']).status === 0 && spawnSync('gst-inspect-1.0', ['multipartdemux']).status === 0;
    let pump: NodeJS.Timeout | undefined;

    before(function () {
      if (!hasGst) {
        console.log('      (skipped: gst-launch-1.0 with souphttpsrc/multipartdemux not installed; apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good)');
        this.skip();
      }
    });
    beforeEach(async function () {
      await start();
      let i = 0;
      pump = setInterval(() => bc.publish(colourJpeg(i++ % 4, 160, 120)), 40);
    });
    afterEach(function () {
      clearInterval(pump);
    });

    it('souphttpsrc ! multipartdemux ! jpegdec decodes frames', async function () {
      const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
        execFile(
          'gst-launch-1.0',
          ['souphttpsrc', `location=${base}/live`, '!', 'multipartdemux', '!', 'jpegdec', '!', 'fakesink', 'num-buffers=5'],
          { timeout: 15_000 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, text: `${stdout}${stderr}` }),
        );
      });
      assert.equal(out.code, 0, out.text);
      assert.match(out.text, /Got EOS/);
    });
  });
});

describe('relay: helpers', function () {
  it('parseViewerQuery reads snapshot and fps', function () {
    assert.deepEqual(parseViewerQuery('/x'), { snapshot: false });
    assert.deepEqual(parseViewerQuery('/x?snapshot'), { snapshot: true });
    assert.deepEqual(parseViewerQuery('/x?fps=2.5'), { snapshot: false, fps: 2.5 });
    assert.ok('error' in parseViewerQuery('/x?fps=-1'));
    assert.ok('error' in parseViewerQuery('/x?fps=1e9'));
    assert.ok('error' in parseViewerQuery('/x?fps=0.0001'));
    assert.deepEqual(parseViewerQuery('/x?fps=0.1'), { snapshot: false, fps: 0.1 });
    assert.deepEqual(parseViewerQuery('/x?fps=0'), { snapshot: false, fps: 0 });
  });

  it('validateRelayPath accepts plain paths and explains what is wrong with others', function () {
    assert.equal(validateRelayPath(' /cam/live '), '/cam/live');
    assert.equal(validateRelayPath('/a.b_c~d-e/f'), '/a.b_c~d-e/f');
    const bad: [unknown, RegExp][] = [
      ['', /required/],
      [undefined, /required/],
      ['cam', /must start with \//],
      ['/', /below \//],
      ['/cam/', /must not end with/],
      ['/a//b', /empty segment/],
      ['/a/../b', /\.\./],
      ['/cam/:id', /only contain/],
      ['/cam*', /only contain/],
      ['/cam?x=1', /only contain/],
      ['/c a', /only contain/],
    ];
    for (const [input, why] of bad) {
      assert.throws(() => validateRelayPath(input), (e: unknown) => isCameraError(e) && e.code === 'ERR_INVALID_SETTING' && why.test(e.message), String(input));
    }
  });

  it('corsHeaders follows httpNodeCors', function () {
    assert.deepEqual(corsHeaders(undefined, 'http://a'), {});
    assert.deepEqual(corsHeaders({ origin: '*' }, 'http://a'), { 'Access-Control-Allow-Origin': '*' });
    assert.deepEqual(corsHeaders({}, undefined), { 'Access-Control-Allow-Origin': '*' });
    assert.deepEqual(corsHeaders({ origin: 'http://a' }, 'http://b'), {});
    assert.deepEqual(corsHeaders({ origin: [/\.example$/, 'http://a'], credentials: true }, 'http://x.example'), {
      'Access-Control-Allow-Origin': 'http://x.example',
      Vary: 'Origin',
      'Access-Control-Allow-Credentials': 'true',
    });
  });

  it('refuses an invalid boundary', function () {
    assert.throws(() => new MjpegBroadcaster({ boundary: 'bad boundary;' }), /Invalid multipart boundary/);
  });
});
