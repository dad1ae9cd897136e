/**
 * The camera simulator itself: every other test trusts it, so its wire
 * format, auth and fault switches are checked here byte by byte with plain
 * node sockets (never our own HTTP client).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import * as jpeg from 'jpeg-js';
import { CameraSimulator, startSimulator, WRONG_LENGTH_DELTA, type SimulatorOptions } from '../simulator';
import { frameCache } from '../simulator/frame-cache';
import { parseAuthParams } from '../simulator/auth';

const STREAM = '/axis-cgi/mjpg/video.cgi';
const SNAPSHOT = '/axis-cgi/jpg/image.cgi';
const EXACT_STREAM_HEAD =
  'HTTP/1.0 200 OK\r\nCache-Control: no-cache\r\nPragma: no-cache\r\nConnection: close\r\n' +
  'Content-Type: multipart/x-mixed-replace; boundary=myboundary\r\n\r\n';
const WAIT_MS = 8000;

// ---------------------------------------------------------------- helpers

/** A raw TCP HTTP request whose every response byte is kept. */
class RawConn {
  buf = Buffer.alloc(0);
  closed = false;
  error: Error | null = null;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.notify();
    });
    socket.on('error', (e) => (this.error = e));
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static open(port: number, target: string, headers: Record<string, string> = {}): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        const lines = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
        s.write(`${lines.join('\r\n')}\r\n\r\n`);
        resolve(new RawConn(s));
      });
      s.once('error', reject);
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Resolves when `pred(buf)` holds; rejects if the socket closes first or on timeout. */
  until(pred: (b: Buffer) => boolean, ms = WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred(this.buf)) done();
        else if (this.closed) done(new Error(`closed before condition; got ${this.buf.length} bytes`));
      };
      const timer = setTimeout(() => done(new Error(`timeout; got ${this.buf.length} bytes`)), ms);
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** All bytes once the server closed the connection. */
  async end(ms = WAIT_MS): Promise<Buffer> {
    await this.until(() => this.closed, ms).catch((e: Error) => {
      if (!this.closed) throw e;
    });
    return this.buf;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

interface Part {
  headers: Record<string, string>;
  data: Buffer;
}

function headEnd(b: Buffer): number {
  const i = b.indexOf('\r\n\r\n');
  return i < 0 ? -1 : i + 4;
}

/**
 * Strict VAPIX part parser: `--myboundary\r\n`, headers, `\r\n\r\n`,
 * exactly Content-Length bytes, `\r\n`. Returns the parts and the offset
 * where parsing stopped (an incomplete or malformed part).
 */
function parseParts(body: Buffer): { parts: Part[]; rest: number } {
  const parts: Part[] = [];
  let off = 0;
  const delim = Buffer.from('--myboundary\r\n');
  for (;;) {
    if (body.length - off < delim.length || !body.subarray(off, off + delim.length).equals(delim)) break;
    const he = body.indexOf('\r\n\r\n', off);
    if (he < 0) break;
    const headers: Record<string, string> = {};
    for (const line of body.subarray(off + delim.length, he).toString('latin1').split('\r\n')) {
      const c = line.indexOf(':');
      headers[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
    }
    const len = Number(headers['content-length']);
    const start = he + 4;
    if (!Number.isInteger(len) || body.length < start + len + 2) break;
    if (body[start + len] !== 0x0d || body[start + len + 1] !== 0x0a) break;
    parts.push({ headers, data: body.subarray(start, start + len) });
    off = start + len + 2;
  }
  return { parts, rest: off };
}

function partsOf(b: Buffer): Part[] {
  return parseParts(b.subarray(headEnd(b))).parts;
}

function decode(data: Buffer): { width: number; height: number; comments?: string[] } {
  return jpeg.decode(data, { useTArray: true });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** One request with node's http client; no keep-alive, so no socket survives it. */
function request(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function challengesOf(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'www-authenticate') out.push(rawHeaders[i + 1]!);
  }
  return out;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** A minimal client-side Digest (RFC 7616, qop=auth), written apart from the simulator's verifier. */
function digestAuthorization(
  challenge: string,
  o: { user: string; pass: string; method: string; uri: string; nc?: number; cnonce?: string },
): string {
  const m = /^Digest\s+(.*)$/i.exec(challenge);
  assert.ok(m, `not a Digest challenge: ${challenge}`);
  const p: Record<string, string> = {};
  for (const kv of m[1]!.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[kv[1]!.toLowerCase()] = kv[2] ?? kv[3] ?? '';
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = o.cnonce ?? randomBytes(8).toString('hex');
  const alg = p['algorithm'] ?? 'MD5';
  let ha1 = md5(`${o.user}:${p['realm']}:${o.pass}`);
  if (alg.toLowerCase() === 'md5-sess') ha1 = md5(`${ha1}:${p['nonce']}:${cnonce}`);
  const ha2 = md5(`${o.method}:${o.uri}`);
  const response = md5(`${ha1}:${p['nonce']}:${nc}:${cnonce}:auth:${ha2}`);
  return (
    `Digest username="${o.user}", realm="${p['realm']}", nonce="${p['nonce']}", uri="${o.uri}", ` +
    `algorithm=${alg}, response="${response}", opaque="${p['opaque']}", qop=auth, nc=${nc}, cnonce="${cnonce}"`
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `pred` until it holds or `ms` passed; returns its last value. */
async function eventually(pred: () => boolean, ms = WAIT_MS): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pred() && Date.now() < deadline) await sleep(20);
  return pred();
}

// ---------------------------------------------------------------- tests

describe('camera simulator', function () {
  let sim: CameraSimulator | null = null;
  const conns: RawConn[] = [];

  async function make(opts: SimulatorOptions = {}): Promise<CameraSimulator> {
    sim = await startSimulator(opts);
    return sim;
  }
  async function openRaw(target: string, headers?: Record<string, string>): Promise<RawConn> {
    const c = await RawConn.open(sim!.port, target, headers);
    conns.push(c);
    return c;
  }

  afterEach(async function () {
    for (const c of conns.splice(0)) c.destroy();
    if (sim) await sim.close();
    sim = null;
  });

  describe('MJPEG stream', function () {
    it('writes HTTP/1.0 close-delimited multipart exactly like Axis firmware', async function () {
      const s = await make();
      const c = await openRaw(`${STREAM}?nbrofframes=3`);
      const all = await c.end();
      const head = all.subarray(0, headEnd(all)).toString('latin1');
      assert.equal(head, EXACT_STREAM_HEAD);
      const body = all.subarray(headEnd(all));
      const { parts, rest } = parseParts(body);
      assert.equal(parts.length, 3, 'nbrofframes=3 gives exactly 3 parts');
      assert.equal(rest, body.length, 'nothing after the last part: the stream ends by closing');
      for (const p of parts) {
        assert.deepEqual(Object.keys(p.headers), ['content-type', 'content-length']);
        assert.equal(p.headers['content-type'], 'image/jpeg');
        assert.equal(p.data[0], 0xff);
        assert.equal(p.data[1], 0xd8);
        assert.equal(p.data[p.data.length - 2], 0xff);
        assert.equal(p.data[p.data.length - 1], 0xd9);
        const img = decode(p.data);
        assert.equal(img.width, 640);
        assert.equal(img.height, 480);
      }
      const seqs = parts.map((p) => /seq=(\d+)/.exec(decode(p.data).comments?.[0] ?? '')?.[1]);
      assert.deepEqual(seqs, ['1', '2', '3'], 'each frame carries its sequence number in a JPEG comment');
      assert.equal(s.stats.framesSent, 3);
      assert.equal(s.stats.streamRequests, 1);
    });

    it('streams the requested resolution and swaps width/height for rotation 90', async function () {
      await make();
      for (const [target, w, h] of [
        [`${STREAM}?resolution=320x240&nbrofframes=1`, 320, 240],
        [`${STREAM}?resolution=160x120&compression=80&nbrofframes=1`, 160, 120],
        [`${STREAM}?resolution=320x240&rotation=90&nbrofframes=1`, 240, 320],
      ] as const) {
        const c = await openRaw(target);
        const parts = partsOf(await c.end());
        assert.equal(parts.length, 1, target);
        const img = decode(parts[0]!.data);
        assert.deepEqual([img.width, img.height], [w, h], target);
      }
    });

    it('draws different pictures over time (the video moves)', async function () {
      await make({ defaultResolution: '160x120' });
      // start() waits for the whole default cycle only up to a cap; on a busy machine finish it here.
      await frameCache.whenComplete(sim!.defaultSpec, 15_000);
      assert.ok(frameCache.complete(sim!.defaultSpec), 'the whole default cycle gets rendered');
      const c = await openRaw(`${STREAM}?fps=30&nbrofframes=6`);
      const parts = partsOf(await c.end());
      // Compare pixels, not bytes: every part differs in its comment anyway.
      const pixels = parts.map((p) => Buffer.from(jpeg.decode(p.data, { useTArray: true }).data).toString('base64'));
      assert.ok(new Set(pixels).size >= 2, 'at least two distinct pictures in 6 frames');
    });

    it('answers bad parameters with 200 text/plain like a camera', async function () {
      await make({ cameras: 2 });
      const badCam = await request(sim!.port, `${STREAM}?camera=3`);
      assert.equal(badCam.status, 200);
      assert.match(String(badCam.headers['content-type']), /^text\/plain/);
      assert.equal(badCam.body.toString().trim(), '<!-- Camera 3 not available. -->');
      const badRes = await request(sim!.port, `${STREAM}?resolution=1000x1000`);
      assert.equal(badRes.status, 200);
      assert.match(String(badRes.headers['content-type']), /^text\/plain/);
      assert.match(badRes.body.toString(), /resolution/);
      const badFps = await request(sim!.port, `${STREAM}?fps=fast`);
      assert.match(badFps.body.toString(), /fps/);
      const cam2 = await openRaw(`${STREAM}?camera=2&nbrofframes=1`);
      assert.equal(partsOf(await cam2.end()).length, 1, 'camera 2 of 2 exists');
    });

    it('paces frames by fps instead of bursting', async function () {
      await make({ defaultResolution: '160x120' });
      const t0 = Date.now();
      const c = await openRaw(`${STREAM}?fps=10&nbrofframes=6`);
      const parts = partsOf(await c.end());
      const elapsed = Date.now() - t0;
      assert.equal(parts.length, 6);
      // 6 frames at 10 fps: first at 0 ms, last at ~500 ms. Only the lower bound is strict.
      assert.ok(elapsed >= 450, `6 frames at 10 fps took ${elapsed} ms`);
      assert.ok(elapsed < 6000, `6 frames at 10 fps took ${elapsed} ms`);
    });

    it('treats fps=0 as "as fast as the sensor", capped at 30', async function () {
      await make({ defaultResolution: '160x120' });
      const t0 = Date.now();
      const c = await openRaw(`${STREAM}?fps=0&nbrofframes=7`);
      assert.equal(partsOf(await c.end()).length, 7);
      assert.ok(Date.now() - t0 >= 190, 'cap of 30 fps: 7 frames take at least 200 ms');
    });

    it('ends the stream after duration seconds', async function () {
      await make({ defaultResolution: '160x120' });
      const t0 = Date.now();
      const c = await openRaw(`${STREAM}?duration=1&fps=5`);
      const parts = partsOf(await c.end());
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 900 && elapsed < 6000, `duration=1 ended after ${elapsed} ms`);
      assert.ok(parts.length >= 1 && parts.length <= 7, `${parts.length} frames in 1 s at 5 fps`);
      assert.ok(await eventually(() => sim!.stats.activeStreams === 0));
    });

    it("with framing 'chunked' sends HTTP/1.1 chunked parts", async function () {
      await make({ framing: 'chunked', defaultResolution: '160x120' });
      const c = await openRaw(`${STREAM}?nbrofframes=2`);
      // The last-chunk marker ends the body; '0\r\n\r\n' alone would also
      // match a part header such as 'Content-Length: 4560' mid-stream.
      await c.until((b) => b.subarray(-7).toString('latin1') === '\r\n0\r\n\r\n');
      const head = c.buf.subarray(0, headEnd(c.buf)).toString('latin1');
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/i);
      assert.match(head, /\r\nContent-Type: multipart\/x-mixed-replace; boundary=myboundary\r\n/);
      // De-chunk and parse the same strict way.
      let off = headEnd(c.buf);
      const body: Buffer[] = [];
      for (;;) {
        const le = c.buf.indexOf('\r\n', off);
        assert.ok(le > off, `chunk-size line at ${off}`);
        const size = parseInt(c.buf.subarray(off, le).toString('latin1'), 16);
        assert.ok(Number.isInteger(size) && le + 2 + size + 2 <= c.buf.length, `chunk at ${off} fits`);
        if (size === 0) break;
        body.push(c.buf.subarray(le + 2, le + 2 + size));
        off = le + 2 + size + 2;
      }
      assert.equal(parseParts(Buffer.concat(body)).parts.length, 2);
    });

    it('skips frames instead of queueing when the viewer does not read', async function () {
      await make();
      // Big frames, so the kernel's socket buffers fill after a few of them.
      const c = await openRaw(`${STREAM}?resolution=1920x1080&compression=0&fps=30`);
      c.socket.pause();
      assert.ok(await eventually(() => sim!.stats.framesSkipped > 0, 10_000), 'frames are skipped while the socket is backed up');
      const sentWhileBlocked = sim!.stats.framesSent;
      c.socket.resume();
      await c.until(() => sim!.stats.framesSent > sentWhileBlocked + 2);
    });
  });

  describe('snapshot', function () {
    it('returns one image/jpeg with a matching Content-Length', async function () {
      await make();
      const r = await request(sim!.port, `${SNAPSHOT}?resolution=320x240&clock=1&date=1&text=1&textstring=Hello%20world`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'image/jpeg');
      assert.equal(Number(r.headers['content-length']), r.body.length);
      const img = decode(r.body);
      assert.deepEqual([img.width, img.height], [320, 240]);
    });

    it('renders 1920x1080', async function () {
      await make();
      const r = await request(sim!.port, `${SNAPSHOT}?resolution=1920x1080`);
      assert.equal(r.status, 200);
      const img = decode(r.body);
      assert.deepEqual([img.width, img.height], [1920, 1080]);
    });
  });

  describe('device endpoints', function () {
    it('basicdeviceinfo, param.cgi, systemready and 404', async function () {
      await make({ auth: 'digest' });
      const port = sim!.port;
      // systemready answers without login.
      const ready = await request(port, '/axis-cgi/systemready.cgi');
      assert.equal(ready.status, 200);
      const rj = JSON.parse(ready.body.toString()) as { data: { systemready: string; bootid: string } };
      assert.equal(rj.data.systemready, 'yes');
      assert.equal(rj.data.bootid, sim!.bootId);

      const bdi = await request(port, '/axis-cgi/basicdeviceinfo.cgi', { method: 'POST', body: '{}' });
      assert.equal(bdi.status, 401, 'device info needs login');
      const body = JSON.stringify({ apiVersion: '1.0', method: 'getAllProperties' });
      const auth = digestAuthorization(challengesOf(bdi.rawHeaders)[0]!, {
        user: 'root',
        pass: 'pass',
        method: 'POST',
        uri: '/axis-cgi/basicdeviceinfo.cgi',
      });
      const ok = await request(port, '/axis-cgi/basicdeviceinfo.cgi', {
        method: 'POST',
        body,
        headers: { Authorization: auth, 'Content-Type': 'application/json' },
      });
      assert.equal(ok.status, 200);
      const props = (JSON.parse(ok.body.toString()) as { data: { propertyList: Record<string, string> } }).data.propertyList;
      assert.equal(props['ProdNbr'], 'M3045-V');
      assert.equal(props['SerialNumber'], 'ACCC8E000000');
      assert.equal(props['Brand'], 'AXIS');

      await sim!.close();
      await make();
      const params = await request(sim!.port, '/axis-cgi/param.cgi?action=list&group=root.Brand.ProdNbr,Nope');
      assert.equal(params.status, 200);
      assert.equal(params.body.toString(), "root.Brand.ProdNbr=M3045-V\n# Error: Error -1 getting param in group 'Nope'\r\n");
      const img = await request(sim!.port, '/axis-cgi/param.cgi?action=list&group=Properties.Image.Resolution');
      assert.match(img.body.toString(), /^root\.Properties\.Image\.Resolution=1920x1080,.*640x480/);
      assert.equal((await request(sim!.port, '/axis-cgi/nothing.cgi')).status, 404);
    });
  });

  describe('auth', function () {
    it('Basic: challenges, accepts the right password, refuses a wrong one', async function () {
      await make({ auth: 'basic', username: 'root', password: 's3cret' });
      const target = `${STREAM}?nbrofframes=1`;
      const none = await request(sim!.port, target);
      assert.equal(none.status, 401);
      assert.deepEqual(challengesOf(none.rawHeaders), ['Basic realm="AXIS_ACCC8E000000"']);
      const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
      const wrong = await request(sim!.port, target, { headers: { Authorization: basic('root', 'nope') } });
      assert.equal(wrong.status, 401);
      const c = await openRaw(target, { Authorization: basic('root', 's3cret') });
      assert.equal(partsOf(await c.end()).length, 1);
      assert.equal(sim!.stats.authFailures, 1, 'only the wrong password counts as a failure');
      const digestTry = await request(sim!.port, target, { headers: { Authorization: 'Digest username="root"' } });
      assert.equal(digestTry.status, 401, 'Digest is refused when only Basic is on');
    });

    it('Digest: accepts a correct response and checks uri, password, nc replay and opaque', async function () {
      const seen: string[] = [];
      await make({ auth: 'digest' });
      sim!.onRequest = (req) => seen.push(String(req.headers.authorization ?? ''));
      const target = `${STREAM}?resolution=320x240&nbrofframes=1`;
      const first = await request(sim!.port, target);
      assert.equal(first.status, 401);
      const [ch] = challengesOf(first.rawHeaders);
      assert.match(ch!, /^Digest realm="AXIS_ACCC8E000000", nonce="[0-9a-f]+", algorithm=MD5, qop="auth", opaque="[0-9a-f]+"$/);
      assert.equal(sim!.stats.authFailures, 0, 'a bare challenge round is not a failure');

      const good = digestAuthorization(ch!, { user: 'root', pass: 'pass', method: 'GET', uri: target, nc: 1 });
      const c = await openRaw(target, { Authorization: good });
      assert.equal(partsOf(await c.end()).length, 1);
      assert.equal(seen[1], good, 'onRequest sees the request headers');

      // Same nonce, next nc: accepted. Same nc again: replay.
      const next = digestAuthorization(ch!, { user: 'root', pass: 'pass', method: 'GET', uri: target, nc: 2 });
      assert.equal((await request(sim!.port, target, { headers: { Authorization: next } })).status, 200);
      assert.equal((await request(sim!.port, target, { headers: { Authorization: next } })).status, 401);
      assert.match(sim!.lastAuthFailure ?? '', /replay/);

      // The uri must include the query string.
      const noQuery = digestAuthorization(ch!, { user: 'root', pass: 'pass', method: 'GET', uri: STREAM, nc: 3 });
      assert.equal((await request(sim!.port, target, { headers: { Authorization: noQuery } })).status, 401);
      assert.match(sim!.lastAuthFailure ?? '', /uri/);

      const wrongPass = digestAuthorization(ch!, { user: 'root', pass: 'wrong', method: 'GET', uri: target, nc: 4 });
      const w = await request(sim!.port, target, { headers: { Authorization: wrongPass } });
      assert.equal(w.status, 401);
      assert.doesNotMatch(challengesOf(w.rawHeaders)[0]!, /stale/i);

      const badOpaque = digestAuthorization(ch!.replace(/opaque="[0-9a-f]+"/, 'opaque="0000"'), {
        user: 'root',
        pass: 'pass',
        method: 'GET',
        uri: target,
        nc: 5,
      });
      assert.equal((await request(sim!.port, target, { headers: { Authorization: badOpaque } })).status, 401);
      assert.equal(sim!.stats.authFailures, 4);
    });

    it('Digest MD5-sess', async function () {
      await make({ auth: 'digest', digestAlgorithm: 'MD5-sess' });
      const target = '/axis-cgi/param.cgi?action=list&group=Brand';
      const [ch] = challengesOf((await request(sim!.port, target)).rawHeaders);
      assert.match(ch!, /algorithm=MD5-sess/);
      const auth = digestAuthorization(ch!, { user: 'root', pass: 'pass', method: 'GET', uri: target });
      const r = await request(sim!.port, target, { headers: { Authorization: auth } });
      assert.equal(r.status, 200);
      assert.match(r.body.toString(), /^root\.Brand\.Brand=AXIS/);
    });

    it('Digest: an expired nonce gets 401 with stale=TRUE, and a fresh one works', async function () {
      await make({ auth: 'digest', nonceLifetimeMs: 100 });
      const target = '/axis-cgi/param.cgi?action=list&group=Brand';
      const [ch] = challengesOf((await request(sim!.port, target)).rawHeaders);
      await sleep(200);
      const late = digestAuthorization(ch!, { user: 'root', pass: 'pass', method: 'GET', uri: target });
      const r = await request(sim!.port, target, { headers: { Authorization: late } });
      assert.equal(r.status, 401);
      const [fresh] = challengesOf(r.rawHeaders);
      assert.match(fresh!, /stale=TRUE/);
      const again = digestAuthorization(fresh!, { user: 'root', pass: 'pass', method: 'GET', uri: target });
      assert.equal((await request(sim!.port, target, { headers: { Authorization: again } })).status, 200);
    });

    it("'both' sends two WWW-Authenticate headers, Digest first, and accepts either", async function () {
      await make({ auth: 'both' });
      const target = '/axis-cgi/param.cgi?action=list&group=Brand';
      const r = await request(sim!.port, target);
      assert.equal(r.status, 401);
      const ch = challengesOf(r.rawHeaders);
      assert.equal(ch.length, 2);
      assert.match(ch[0]!, /^Digest /);
      assert.equal(ch[1], 'Basic realm="AXIS_ACCC8E000000"');
      const basic = `Basic ${Buffer.from('root:pass').toString('base64')}`;
      assert.equal((await request(sim!.port, target, { headers: { Authorization: basic } })).status, 200);
      const digest = digestAuthorization(ch[0]!, { user: 'root', pass: 'pass', method: 'GET', uri: target });
      assert.equal((await request(sim!.port, target, { headers: { Authorization: digest } })).status, 200);
    });

    it('parses quoted auth parameters with escapes and commas', function () {
      const p = parseAuthParams('username="a\\"b", uri="/x?a=1,b=2", nc=00000001 ,qop=auth');
      assert.ok(p);
      assert.equal(p.get('username'), 'a"b');
      assert.equal(p.get('uri'), '/x?a=1,b=2');
      assert.equal(p.get('nc'), '00000001');
      assert.equal(p.get('qop'), 'auth');
      assert.equal(parseAuthParams('username="unterminated'), null);
    });
  });

  describe('viewer limit', function () {
    it('answers 503 with Retry-After beyond maxViewers, and admits again when a viewer leaves', async function () {
      await make({ maxViewers: 1, defaultResolution: '160x120' });
      const first = await openRaw(STREAM);
      await first.until((b) => parseParts(b.subarray(Math.max(0, headEnd(b)))).parts.length >= 1);
      const second = await request(sim!.port, STREAM);
      assert.equal(second.status, 503);
      assert.ok(Number(second.headers['retry-after']) > 0);
      first.destroy();
      assert.ok(await eventually(() => sim!.stats.activeStreams === 0), 'the viewer that left is no longer counted');
      const third = await openRaw(`${STREAM}?nbrofframes=1`);
      assert.equal(partsOf(await third.end()).length, 1);
    });
  });

  describe('faults', function () {
    it('stall: frames stop but the socket stays open', async function () {
      await make({ defaultResolution: '160x120' });
      sim!.setFault({ kind: 'stall', afterFrames: 2 });
      const c = await openRaw(`${STREAM}?fps=20`);
      await c.until((b) => partsOf(b).length >= 2);
      await sleep(500);
      assert.equal(partsOf(c.buf).length, 2);
      assert.equal(c.closed, false);
      sim!.setFault(null);
      await c.until((b) => partsOf(b).length >= 4);
    });

    it('drop-mid-frame: the connection dies inside a part', async function () {
      await make({ defaultResolution: '320x240' });
      sim!.setFault({ kind: 'drop-mid-frame', afterFrames: 1 });
      const c = await openRaw(`${STREAM}?fps=20`);
      const all = await c.end();
      const body = all.subarray(headEnd(all));
      const { parts, rest } = parseParts(body);
      assert.equal(parts.length, 1);
      const tail = body.subarray(rest);
      assert.ok(tail.subarray(0, 14).equals(Buffer.from('--myboundary\r\n')), 'a second part started');
      const announced = Number(/Content-Length: (\d+)/.exec(tail.toString('latin1'))?.[1]);
      assert.ok(tail.length - headEnd(tail) < announced, 'and was cut short');
    });

    it('wrong-length: Content-Length is off on every Nth part', async function () {
      await make({ defaultResolution: '160x120' });
      sim!.setFault({ kind: 'wrong-length', every: 2 });
      const c = await openRaw(`${STREAM}?fps=30&nbrofframes=4`);
      const body = (await c.end()).subarray(EXACT_STREAM_HEAD.length);
      // Split on the delimiter instead of trusting the lengths.
      const chunks = body.toString('latin1').split('--myboundary\r\n').slice(1);
      assert.equal(chunks.length, 4);
      const offs = chunks.map((ch) => {
        const he = ch.indexOf('\r\n\r\n');
        const announced = Number(/Content-Length: (\d+)/.exec(ch.slice(0, he))?.[1]);
        const actual = ch.length - he - 4 - 2; // minus the CRLF after the JPEG
        return announced - actual;
      });
      assert.deepEqual(offs, [0, WRONG_LENGTH_DELTA, 0, -WRONG_LENGTH_DELTA]);
    });

    it('no-length: parts without Content-Length', async function () {
      await make({ defaultResolution: '160x120' });
      sim!.setFault({ kind: 'no-length' });
      const c = await openRaw(`${STREAM}?nbrofframes=2`);
      const text = (await c.end()).toString('latin1');
      assert.equal((text.match(/--myboundary\r\nContent-Type: image\/jpeg\r\n\r\n/g) ?? []).length, 2);
      assert.doesNotMatch(text, /Content-Length/);
    });

    it('garbage: random bytes before the delimiter', async function () {
      await make({ defaultResolution: '160x120' });
      sim!.setFault({ kind: 'garbage', every: 1 });
      const c = await openRaw(`${STREAM}?nbrofframes=3`);
      const body = (await c.end()).subarray(EXACT_STREAM_HEAD.length);
      assert.notEqual(body.indexOf('--myboundary'), 0, 'the body does not start with the delimiter');
      assert.equal(parseParts(body).parts.length, 0, 'a strict parser sees the garbage');
      const first = body.indexOf('--myboundary\r\n');
      assert.ok(first > 0 && first <= 64);
    });

    it('status: every request gets that status', async function () {
      await make({ auth: 'digest' });
      for (const status of [401, 403, 404, 500, 503] as const) {
        sim!.setFault({ kind: 'status', status });
        const r = await request(sim!.port, STREAM);
        assert.equal(r.status, status);
        if (status === 401) assert.match(challengesOf(r.rawHeaders)[0]!, /^Digest /);
        if (status === 503) assert.ok(r.headers['retry-after']);
        assert.equal((await request(sim!.port, '/axis-cgi/systemready.cgi')).status, status);
      }
      sim!.setFault(null);
      assert.equal((await request(sim!.port, '/axis-cgi/systemready.cgi')).status, 200);
    });

    it('html: a login page instead of the stream', async function () {
      await make();
      sim!.setFault({ kind: 'html' });
      const r = await request(sim!.port, STREAM);
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.match(r.body.toString(), /<form/);
    });

    it('reboot: refuses connections, then accepts on the same port with a new boot id and nonces', async function () {
      await make({ auth: 'digest', defaultResolution: '160x120' });
      const port = sim!.port;
      const oldBoot = sim!.bootId;
      const target = '/axis-cgi/param.cgi?action=list&group=Brand';
      const [ch] = challengesOf((await request(port, target)).rawHeaders);
      const c = await openRaw(STREAM, { Authorization: digestAuthorization(ch!, { user: 'root', pass: 'pass', method: 'GET', uri: STREAM }) });
      await c.until((b) => partsOf(b).length >= 1);

      sim!.setFault({ kind: 'reboot', ms: 400 });
      await c.end(2000);
      assert.ok(c.closed, 'open streams die with the reboot');
      await assert.rejects(request(port, '/axis-cgi/systemready.cgi'), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');

      await sim!.whenListening();
      assert.equal(sim!.port, port);
      const ready = await request(port, '/axis-cgi/systemready.cgi');
      const bootid = (JSON.parse(ready.body.toString()) as { data: { bootid: string } }).data.bootid;
      assert.notEqual(bootid, oldBoot);
      // The old nonce is gone: a correct response with it is answered stale.
      const old = digestAuthorization(ch!, { user: 'root', pass: 'pass', method: 'GET', uri: target, nc: 2 });
      const r = await request(port, target, { headers: { Authorization: old } });
      assert.equal(r.status, 401);
      assert.match(challengesOf(r.rawHeaders)[0]!, /stale=TRUE/);
    });

    it('slow: throttles the bytes written', async function () {
      await make({ defaultResolution: '320x240' });
      const bytesPerSec = 20_000;
      sim!.setFault({ kind: 'slow', bytesPerSec });
      const c = await openRaw(`${STREAM}?fps=30`);
      await c.until((b) => b.length > EXACT_STREAM_HEAD.length);
      const start = c.buf.length;
      const t0 = Date.now();
      await sleep(1000);
      const rate = ((c.buf.length - start) * 1000) / (Date.now() - t0);
      assert.ok(rate > 0, 'bytes keep coming');
      assert.ok(rate <= bytesPerSec * 1.5, `received ${Math.round(rate)} B/s with a ${bytesPerSec} B/s throttle`);
    });
  });

  describe('lifecycle', function () {
    it('close() ends streams and leaves no server, socket, timer or worker behind', async function () {
      // After a tick, so mocha's own timer for this test is counted in both lists.
      await new Promise((r) => setImmediate(r));
      const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      const s = new CameraSimulator({ defaultResolution: '320x240' });
      await s.start();
      const c = await RawConn.open(s.port, `${STREAM}?fps=20`);
      await c.until((b) => partsOf(b).length >= 1);
      const slow = await RawConn.open(s.port, SNAPSHOT); // in flight or done; either way it must not survive
      await s.close();
      await c.end(2000);
      await slow.end(2000);
      assert.ok(c.closed && slow.closed);
      await sleep(20);
      // Let the timer list settle: a timer still counts as active inside the
      // continuation of its own callback.
      await new Promise((r) => setImmediate(r));
      const after = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      const count = (list: string[], kind: string): number => list.filter((r) => r === kind).length;
      for (const kind of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout']) {
        assert.ok(count(after, kind) <= count(before, kind), `${kind}: before ${count(before, kind)}, after ${count(after, kind)}`);
      }
      assert.equal(frameCache.workerRunning, false);
      assert.equal(s.stats.activeStreams, 0);
    });

    it('close() during a reboot does not listen again', async function () {
      const s = await startSimulator({ defaultResolution: '160x120' });
      const port = s.port;
      s.setFault({ kind: 'reboot', ms: 100 });
      await s.close();
      await sleep(200);
      await assert.rejects(request(port, '/axis-cgi/systemready.cgi'));
    });
  });
});
