/**
 * Fault tests: what a real camera network does to a stream, end to end.
 *
 * Each test drives real sockets on 127.0.0.1 (the camera simulator, or a
 * tiny hand-written camera for what the simulator cannot send), goes through
 * the real axmjpeg-in / axmjpeg-camera / axmjpeg-out nodes where the node layer
 * matters and through the core session where it does not, and checks three
 * things: recovery, that no wrong frame is ever emitted (every frame is one
 * whole JPEG of the requested size), and that nothing leaks (the camera sees
 * its streams closed, the process has no more handles than before).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, CameraSimulator, FRAME_COMMENT_PREFIX } from '../simulator';
import { testCerts } from './support/tls-certs';
import { fakeJpeg, makeJpeg, part } from './support/jpeg-samples';
import { helper, collect, startNodeRed, statusesOf, stopNodeRed, warningsOf } from './support/node-red';
import { cameraConfig, catchAll, mjpgIn } from './support/flow-nodes';
import { exposeGc } from './support/gc';
import { partsByLength } from './support/multipart';
import { waitFor } from './support/wait';
import { CameraHttpClient } from '../src/http';
import { HttpStreamSource } from '../src/http-source';
import { StreamSession, Frame } from '../src/session';
import { CameraError } from '../src/errors';
import { jpegSize } from '../src/jpeg/jpeg-info';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../nodes/axmjpeg-in');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const relayNode = require('../nodes/axmjpeg-out');

const FAST_BACKOFF = { initialMs: 50, maxMs: 400, factor: 2, jitter: 0, healthyResetMs: 60_000 };
const MB = 1024 * 1024;

function activeHandles(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
}

/** Handles closed asynchronously (sockets, timers) need a moment: wait, then report growth. */
async function assertNoHandleGrowth(baseline: number, what: string): Promise<void> {
  try {
    await waitFor(() => activeHandles() <= baseline, 5000, what);
  } catch {
    assert.fail(`${what}: ${activeHandles()} active handles, ${baseline} before`);
  }
}

/** One whole JPEG, of the requested size, holding exactly one simulator frame (no two frames glued). */
function assertWholeFrame(data: Buffer, width: number, height: number, fromSimulator = true): void {
  assert.ok(data[0] === 0xff && data[1] === 0xd8, 'starts with SOI');
  assert.ok(data[data.length - 2] === 0xff && data[data.length - 1] === 0xd9, 'ends with EOI');
  assert.deepEqual(jpegSize(data), { width, height });
  if (fromSimulator) {
    const stamps = data.toString('latin1').split(`${FRAME_COMMENT_PREFIX} seq=`).length - 1;
    assert.equal(stamps, 1, 'exactly one simulator frame in the JPEG');
  }
}

/**
 * A hand-written MJPEG camera for parts the simulator cannot send: `first`
 * writes whatever abuse is being tested (with backpressure), then normal
 * parts follow at 20 fps until the client leaves.
 */
interface CustomCamera {
  port: number;
  /** Sockets open now. */
  open: number;
  requests: number;
  close(): Promise<void>;
}

async function customCamera(normal: Buffer, first: (s: net.Socket) => Promise<void>): Promise<CustomCamera> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const cam: CustomCamera = { port: 0, open: 0, requests: 0, close: async () => {} };
  const server = http.createServer((req) => {
    cam.requests++;
    const s = req.socket;
    s.write('HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: multipart/x-mixed-replace; boundary=myboundary\r\n\r\n');
    first(s).then(
      () => {
        const t = setInterval(() => {
          if (s.destroyed) {
            clearInterval(t);
            timers.delete(t);
            return;
          }
          if (s.writableLength < MB) s.write(part(normal));
        }, 50);
        timers.add(t);
      },
      () => s.destroy(),
    );
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    cam.open++;
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      cam.open--;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cam.port = (server.address() as AddressInfo).port;
  cam.close = async () => {
    for (const t of timers) clearInterval(t);
    timers.clear();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
  return cam;
}

function drainOrClose(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}

/** Writes `total` bytes from one reused chunk, honouring backpressure, so the camera side never holds 60 MB. */
async function writeFiller(s: net.Socket, total: number, chunk: Buffer): Promise<void> {
  let left = total;
  while (left > 0) {
    if (s.destroyed) throw new Error('client left');
    const n = Math.min(left, chunk.length);
    left -= n;
    if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) await drainOrClose(s);
  }
}

describe('faults: a stream recovers without a wrong frame and without a leak', function () {
  this.timeout(40_000);
  let sim: CameraSimulator | null = null;
  let custom: CustomCamera | null = null;
  let baseline = 0;

  before(async () => {
    // First simulator start in a process pre-renders its frames and starts
    // workers; do it once before any handle baseline is taken.
    const warm = await startSimulator();
    await warm.close();
  });

  beforeEach(async () => {
    await startNodeRed();
    baseline = activeHandles();
  });

  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
    sim = null;
    await custom?.close();
    custom = null;
  });

  describe('through axmjpeg-in nodes', () => {
    async function loadSim(simOpts: Parameters<typeof startSimulator>[0], flowExtra: Record<string, unknown>[] = [], camExtra: Record<string, unknown> = {}) {
      sim = await startSimulator(simOpts);
      await helper.load([cameraNode, mjpgInNode], [cameraConfig('cam', sim.port, camExtra), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll(), ...flowExtra], {
        cam: { user: 'root', password: 'pass' },
      });
      return { got: collect('out'), caught: collect('caught') };
    }

    async function unloadAndCheck(): Promise<void> {
      await helper.unload();
      await waitFor(() => sim!.stats.activeStreams === 0 && sim!.stats.openConnections === 0, 5000, 'camera connections closed');
      await sim!.close();
      sim = null;
      await assertNoHandleGrowth(baseline, 'handles after the test');
    }

    it('wrong Content-Length on every part: only whole frames, stream goes on', async () => {
      const { got } = await loadSim({ auth: 'none' });
      sim!.setFault({ kind: 'wrong-length' });
      await waitFor(() => got.length >= 15, 10_000, '15 frames with wrong lengths');
      for (const m of got) assertWholeFrame(m.payload, 160, 120);
      assert.equal(sim!.stats.streamRequests, 1, 'no reconnect needed');
      await unloadAndCheck();
    });

    it('missing Content-Length: frames found by the boundary, all whole', async () => {
      const { got } = await loadSim({ auth: 'none' });
      sim!.setFault({ kind: 'no-length' });
      const n = got.length;
      await waitFor(() => got.length >= n + 15, 10_000, '15 frames without lengths');
      for (const m of got) assertWholeFrame(m.payload, 160, 120);
      await unloadAndCheck();
    });

    it('garbage between parts: skipped, no frame lost to it, all whole', async () => {
      const { got } = await loadSim({ auth: 'none' });
      sim!.setFault({ kind: 'garbage' });
      const n = got.length;
      await waitFor(() => got.length >= n + 15, 10_000, '15 frames with garbage before each');
      for (const m of got) assertWholeFrame(m.payload, 160, 120);
      const seqs = got.map((m) => m.frame.seq);
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'no gap, no duplicate');
      await unloadAndCheck();
    });

    it('HTML login page instead of a stream: ERR_NOT_MJPEG once to Catch, no frame; streams when the camera is fixed', async () => {
      sim = await startSimulator({ auth: 'none' });
      sim.setFault({ kind: 'html' });
      await helper.load([cameraNode, mjpgInNode], [cameraConfig('cam', sim.port), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll()]);
      const got = collect('out');
      const caught = collect('caught');
      await waitFor(() => sim!.stats.requests >= 2, 10_000, 'a retry');
      assert.equal(got.length, 0);
      assert.equal(caught.length, 1);
      assert.equal(caught[0]!.payload.code, 'ERR_NOT_MJPEG');
      assert.match(caught[0]!.payload.body ?? '', /<form/);
      sim.setFault(null);
      await waitFor(() => got.length >= 3, 10_000, 'frames after the fix');
      for (const m of got) assertWholeFrame(m.payload, 160, 120);
      await unloadAndCheck();
    });

    it('503 at the viewer limit: ERR_CAMERA_BUSY reported, retried, streams once the first viewer leaves', async () => {
      sim = await startSimulator({ auth: 'digest', maxViewers: 1 });
      // Two config nodes for the same camera: two hubs, so two camera connections.
      await helper.load(
        [cameraNode, mjpgInNode],
        [cameraConfig('cam1', sim.port), cameraConfig('cam2', sim.port), mjpgIn('in1', 'cam1', {}, [['out1']]), mjpgIn('in2', 'cam2', { startOnDeploy: false }, [['out2']]),
          { id: 'out1', type: 'helper' }, { id: 'out2', type: 'helper' }, ...catchAll()],
        { cam1: { user: 'root', password: 'pass' }, cam2: { user: 'root', password: 'pass' } },
      );
      const got1 = collect('out1');
      const got2 = collect('out2');
      const caught = collect('caught');
      await waitFor(() => got1.length >= 2, 10_000, 'first viewer streaming');
      helper.getNode('in2').receive({ payload: 'start' });
      await waitFor(() => caught.some((m) => m.payload.code === 'ERR_CAMERA_BUSY'), 10_000, 'busy reported');
      const busy = caught.find((m) => m.payload.code === 'ERR_CAMERA_BUSY')!;
      assert.equal(busy.error.source.id, 'in2');
      assert.match(busy.payload.hint, /Share one stream/);
      const refusedBefore = sim.stats.streamRequests;
      await waitFor(() => sim!.stats.streamRequests >= refusedBefore + 1, 10_000, 'a retry while busy');
      assert.equal(got2.length, 0);
      helper.getNode('in1').receive({ payload: 'stop' });
      await waitFor(() => got2.length >= 3, 20_000, 'second viewer streaming after the first left');
      for (const m of [...got1, ...got2]) assertWholeFrame(m.payload, 160, 120);
      assert.equal(caught.filter((m) => m.payload.code === 'ERR_CAMERA_BUSY').length, 1, 'reported once, not per retry');
      await unloadAndCheck();
    });

    it('camera reboot: refused for 2 s, then a new Digest nonce, then frames; never reported as wrong password', async () => {
      sim = await startSimulator({ auth: 'digest' });
      const nonces: { nonce: string; at: number }[] = [];
      sim.onRequest = (req) => {
        const m = /nonce="([^"]+)"/.exec(String(req.headers.authorization ?? ''));
        if (m) nonces.push({ nonce: m[1]!, at: Date.now() });
      };
      await helper.load([cameraNode, mjpgInNode], [cameraConfig('cam', sim.port), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll()], {
        cam: { user: 'root', password: 'pass' },
      });
      const got = collect('out');
      const caught = collect('caught');
      await waitFor(() => got.length >= 3, 10_000, 'frames before the reboot');
      const rebootAt = Date.now();
      sim.setFault({ kind: 'reboot', ms: 2000 });
      const framesBefore = got.length;
      await waitFor(() => caught.some((m) => m.payload.code === 'ERR_CONN_REFUSED'), 10_000, 'refused while rebooting');
      await sim.whenListening();
      const backAt = Date.now();
      assert.ok(backAt - rebootAt >= 1900, 'camera was down about 2 s');
      await waitFor(() => got.length >= framesBefore + 5, 20_000, 'frames after the reboot');
      const before = new Set(nonces.filter((n) => n.at < rebootAt).map((n) => n.nonce));
      const after = nonces.filter((n) => n.at >= backAt).map((n) => n.nonce);
      assert.ok(after.some((n) => !before.has(n)), 'a nonce issued after the reboot was used');
      assert.ok(!caught.some((m) => m.payload.code === 'ERR_AUTH_FAILED'), JSON.stringify(caught.map((m) => m.payload.code)));
      for (const m of got) assertWholeFrame(m.payload, 160, 120);
      await unloadAndCheck();
    });

    it('a 60 MB part is dropped with ERR_FRAME_TOO_LARGE (maxFrameMB 32) without holding it in memory; later frames arrive', async function () {
      const normal = makeJpeg(160, 120, { seed: 7 });
      const BIG = 60 * MB;
      const filler = Buffer.alloc(256 * 1024, 0x55);
      filler[0] = 0xff;
      filler[1] = 0xd8;
      let bigSent = false;
      custom = await customCamera(normal, async (s) => {
        if (bigSent) return;
        s.write(`--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: ${BIG}\r\n\r\n`);
        await writeFiller(s, BIG, filler);
        s.write('\r\n');
        bigSent = true;
      });
      // Memory is sampled right after a full GC, so garbage socket chunks
      // waiting for collection do not count, only what is still held.
      const gc = exposeGc();
      gc();
      const m0 = process.memoryUsage();
      let rssMax = m0.rss;
      let abMax = m0.arrayBuffers;
      const sampler = setInterval(() => {
        gc();
        const m = process.memoryUsage();
        rssMax = Math.max(rssMax, m.rss);
        abMax = Math.max(abMax, m.arrayBuffers);
      }, 25);
      try {
        await helper.load(
          [cameraNode, mjpgInNode],
          [cameraConfig('cam', custom.port, { maxFrameMB: 32, auth: 'none' }), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll()],
        );
        const got = collect('out');
        const n = helper.getNode('in');
        await waitFor(() => got.length >= 5, 30_000, 'frames after the big part');
        const warns = warningsOf(n);
        assert.ok(warns.some((w: string) => /exceeds the limit/.test(w)), JSON.stringify(warns));
        assert.ok(bigSent, 'the whole 60 MB part was sent');
        assert.equal(custom.requests, 1, 'dropped in-stream, no reconnect');
        for (const m of got) assertWholeFrame(m.payload, 160, 120, false);
      } finally {
        clearInterval(sampler);
      }
      const grew = (rssMax - m0.rss) / MB;
      const buffers = (abMax - m0.arrayBuffers) / MB;
      // Camera and client share this process. Buffering the part, even only
      // up to the 32 MB limit before dropping it, would show in Buffer memory;
      // the bound sits halfway, because on a loaded machine other tests'
      // freed Buffers can be counted for a while (up to 12 MB seen).
      // RSS also moves with the allocator's churn, hence its looser bound.
      assert.ok(buffers < 16, `Buffer memory held grew by ${buffers.toFixed(1)} MB`);
      assert.ok(grew < 60, `RSS grew by ${grew.toFixed(1)} MB`);
      console.log(`      (60 MB part: RSS +${grew.toFixed(1)} MB, Buffers +${buffers.toFixed(1)} MB at most)`);
      await helper.unload();
      await waitFor(() => custom!.open === 0, 5000, 'camera socket closed');
      await custom.close();
      custom = null;
      await assertNoHandleGrowth(baseline, 'handles after the test');
    });

    it('TLS certificate change: a camera that comes back with another certificate is refused (ERR_TLS*), no frames', async function () {
      let certB: { cert: string; key: string };
      let certA: { cert: string; key: string };
      try {
        certA = testCerts().selfSigned;
        certB = newSelfSignedCert();
      } catch {
        this.skip();
        return;
      }
      sim = await startSimulator({ auth: 'digest', https: certA });
      const port = sim.port;
      await helper.load(
        [cameraNode, mjpgInNode],
        [cameraConfig('cam', port, { protocol: 'https', ca: certA.cert }), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }, ...catchAll()],
        { cam: { user: 'root', password: 'pass' } },
      );
      const got = collect('out');
      const caught = collect('caught');
      await waitFor(() => got.length >= 3, 10_000, 'frames over TLS with cert A');
      await sim.close();
      sim = await startSimulator({ auth: 'digest', https: certB, port });
      const framesBefore = got.length;
      await waitFor(() => caught.some((m) => /^ERR_TLS/.test(m.payload.code)), 15_000, 'TLS refusal reported');
      // Give it a few retries: none may succeed.
      await waitFor(() => sim!.stats.connections >= 2, 15_000, 'retries against cert B');
      assert.equal(got.length, framesBefore, 'no frame from the camera with the unknown certificate');
      assert.equal(sim.stats.requests, 0, 'no HTTP request (so no credentials) went to the unknown certificate');
      for (const m of got) assertWholeFrame(m.payload, 160, 120);
      await unloadAndCheck();
    });

    it('100 redeploys while streaming: camera connections back to 0, handles do not grow', async function () {
      this.timeout(120_000);
      sim = await startSimulator({ auth: 'digest' });
      const flow = [cameraConfig('cam', sim.port), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }];
      const handlesAt: number[] = [];
      for (let i = 0; i < 100; i++) {
        await helper.load([cameraNode, mjpgInNode], flow, { cam: { user: 'root', password: 'pass' } });
        if (i % 20 === 0) {
          const got = collect('out');
          await waitFor(() => got.length >= 1, 8000, 'a frame');
          for (const m of got) assertWholeFrame(m.payload, 160, 120);
        } else await sleep(10);
        await helper.unload();
        if (i % 20 === 19) {
          await waitFor(() => sim!.stats.activeStreams === 0, 5000, 'streams closed');
          handlesAt.push(activeHandles());
        }
      }
      await waitFor(() => sim!.stats.activeStreams === 0 && sim!.stats.openConnections === 0, 5000, 'every camera connection closed');
      assert.ok(sim.stats.streamRequests >= 5);
      await sim.close();
      sim = null;
      await assertNoHandleGrowth(baseline, `handles after 100 redeploys (samples ${handlesAt.join(',')})`);
    });
  });

  describe('through the core session', () => {
    it('DNS failure: ERR_DNS with its hint, retried, nothing left open', async () => {
      const client = new CameraHttpClient({ protocol: 'http', host: 'camera.invalid', port: 80, connectTimeoutMs: 5000 });
      const s = new StreamSession({ source: new HttpStreamSource(client, '/axis-cgi/mjpg/video.cgi'), backoff: FAST_BACKOFF });
      const problems: CameraError[] = [];
      const frames: Frame[] = [];
      s.on('problem', (e) => problems.push(e));
      s.on('frame', (f) => frames.push(f));
      s.start();
      try {
        await waitFor(() => problems.length >= 2, 15_000, 'two DNS failures');
        assert.ok(problems.every((p) => p.code === 'ERR_DNS'), JSON.stringify(problems.map((p) => p.code)));
        assert.match(problems[0]!.hint, /host name/);
        assert.match(problems[0]!.message, /camera\.invalid/);
        assert.equal(frames.length, 0);
      } finally {
        await s.stop();
        await client.close();
      }
      await assertNoHandleGrowth(baseline, 'handles after DNS failures');
    });
  });

  describe('axmjpeg-out viewers', () => {
    let app: http.RequestListener | null = null;
    let server: http.Server;
    let base: string;

    function capture(RED: { httpNode: http.RequestListener }): void {
      app = RED.httpNode;
    }

    beforeEach(async () => {
      server = http.createServer((req, res) => (app ? app(req, res) : res.end()));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      baseline = activeHandles();
    });

    afterEach(async () => {
      await helper.unload();
      app = null;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    const statuses = () => statusesOf(helper.getNode('r'));

    it('a viewer disconnecting mid-frame leaves the others whole and the count at the right value', async () => {
      await helper.load([capture, relayNode], [{ id: 'r', type: 'axmjpeg-out', url: '/cam/live', maxViewers: 5, fps: 0, stuckTimeout: 30, wires: [] }]);
      const node = helper.getNode('r');
      const SIZE = 512 * 1024;
      let seq = 0;
      const pub = setInterval(() => node.receive({ payload: fakeJpeg(++seq, SIZE), frame: { time: Date.now() } }), 20);
      try {
        const stay = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${base}/cam/live`, { agent: false }, resolve).on('error', reject));
        const stayed: Buffer[] = [];
        stay.on('data', (c: Buffer) => stayed.push(c));
        // The leaver: gone after 1.3 frames, i.e. in the middle of a part.
        const leaver = http.get(`${base}/cam/live`, { agent: false });
        leaver.on('error', () => {});
        await new Promise<void>((resolve) => {
          leaver.on('response', (res) => {
            let got = 0;
            res.on('data', (c: Buffer) => {
              got += c.length;
              if (got > SIZE * 1.3) {
                leaver.destroy();
                resolve();
              }
            });
          });
        });
        const seqAtLeave = seq;
        await waitFor(() => seq >= seqAtLeave + 10, 5000, '10 more frames published');
        await waitFor(() => statuses().slice(-1)[0]?.fill === 'green', 3000, 'status with viewers');
        const all = partsByLength(Buffer.concat(stayed));
        assert.ok(all.length >= 5, `${all.length} parts for the viewer that stayed`);
        for (const p of all) {
          assert.equal(p.length, SIZE);
          assert.ok(p[0] === 0xff && p[1] === 0xd8 && p[SIZE - 2] === 0xff && p[SIZE - 1] === 0xd9);
        }
        assert.ok(all[all.length - 1]!.readUInt32BE(2) > seqAtLeave, 'the stayer kept receiving after the leaver left');
        stay.destroy();
        await waitFor(() => statuses().slice(-1)[0]?.fill === 'grey', 5000, 'zero viewers');
      } finally {
        clearInterval(pub);
      }
      await helper.unload();
      server.closeAllConnections();
      await assertNoHandleGrowth(baseline + 0, 'handles after the viewers left');
    });

    it('200 viewers connecting and leaving in a loop: each gets whole frames, nothing left open', async function () {
      this.timeout(60_000);
      await helper.load([capture, relayNode], [{ id: 'r', type: 'axmjpeg-out', url: '/cam/live', maxViewers: 50, maxPerAddress: 0, fps: 0, stuckTimeout: 30, wires: [] }]);
      const node = helper.getNode('r');
      let seq = 0;
      const pub = setInterval(() => node.receive({ payload: fakeJpeg(++seq, 8 * 1024), frame: { time: Date.now() } }), 10);
      const BATCH = 20;
      let served = 0;
      try {
        for (let round = 0; round < 200 / BATCH; round++) {
          await Promise.all(
            Array.from({ length: BATCH }, () =>
              new Promise<void>((resolve, reject) => {
                const req = http.get(`${base}/cam/live`, { agent: false }, (res) => {
                  if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
                  const chunks: Buffer[] = [];
                  res.on('data', (c: Buffer) => {
                    chunks.push(c);
                    const ps = partsByLength(Buffer.concat(chunks));
                    if (ps.length >= 2) {
                      for (const p of ps) assert.ok(p.length === 8 * 1024 && p[0] === 0xff && p[p.length - 1] === 0xd9);
                      served++;
                      req.destroy();
                      resolve();
                    }
                  });
                });
                req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
              }),
            ),
          );
        }
        assert.equal(served, 200);
        await waitFor(() => statuses().slice(-1)[0]?.fill === 'grey', 5000, 'zero viewers after the loop');
      } finally {
        clearInterval(pub);
      }
      await helper.unload();
      server.closeAllConnections();
      await assertNoHandleGrowth(baseline, 'handles after 200 viewers');
    });
  });
});

/** A second self-signed certificate for 127.0.0.1: same name as cert A, different key. */
function newSelfSignedCert(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'faults-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'b.key', '-out', 'b.crt',
        '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { cert: readFileSync(join(dir, 'b.crt'), 'utf8'), key: readFileSync(join(dir, 'b.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
