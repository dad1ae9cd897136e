import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from './support/wait';
import { startSimulator, CameraSimulator } from '../simulator';
import { CameraHttpClient } from '../src/http';
import { PollingJpegSource } from '../src/polling-source';
import { StreamSession, Frame, StateChange } from '../src/session';
import type { CameraError } from '../src/errors';
import { tinyJpeg } from './support/jpeg-samples';

const FAST_BACKOFF = { initialMs: 50, maxMs: 200, factor: 2, jitter: 0, healthyResetMs: 60_000 };

/** A snapshot-only device: answers every GET with one JPEG after `delayMs`, counting requests in flight. */
class SnapshotDevice {
  readonly server: http.Server;
  port = 0;
  inFlight = 0;
  maxInFlight = 0;
  requests = 0;
  delayMs = 0;
  status = 200;
  constructor() {
    this.server = http.createServer((req, res) => {
      this.requests++;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let answered = false;
      const t = setTimeout(() => {
        answered = true;
        this.inFlight--;
        if (this.status !== 200) {
          res.writeHead(this.status, { 'content-type': 'text/plain' });
          res.end('no');
          return;
        }
        const body = tinyJpeg(this.requests);
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length });
        res.end(body);
      }, this.delayMs);
      res.on('close', () => {
        clearTimeout(t);
        if (!answered) this.inFlight--;
      });
    });
  }
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('PollingJpegSource: a snapshot URL as a stream', function () {
  this.timeout(20_000);
  let client: CameraHttpClient | null = null;
  let session: StreamSession | null = null;
  let device: SnapshotDevice | null = null;
  let sim: CameraSimulator | null = null;

  afterEach(async () => {
    await session?.stop();
    session = null;
    await client?.close();
    client = null;
    await device?.close();
    device = null;
    await sim?.close();
    sim = null;
  });

  function run(port: number, target: string, fps: number, user?: string): { frames: Frame[]; states: StateChange[]; problems: CameraError[] } {
    client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port, ...(user ? { username: user, password: 'pass' } : {}) });
    const s = new StreamSession({ source: new PollingJpegSource(client, target, { fps }), backoff: FAST_BACKOFF, stallTimeoutMs: 5000 });
    session = s;
    const frames: Frame[] = [];
    const states: StateChange[] = [];
    const problems: CameraError[] = [];
    s.on('frame', (f) => frames.push(f));
    s.on('state', (c) => states.push(c));
    s.on('problem', (e) => problems.push(e));
    s.start();
    return { frames, states, problems };
  }

  it("polls the simulator's image.cgi through Digest at the set rate: whole frames, seq in order", async () => {
    sim = await startSimulator({ auth: 'digest', snapshotOnly: true });
    const { frames, states } = run(sim.port, '/axis-cgi/jpg/image.cgi?resolution=320x240', 10, 'root');
    await waitFor(() => frames.length >= 3, 8000, '3 frames');
    const t0 = Date.now();
    const n0 = frames.length;
    await sleep(1000);
    const rate = ((frames.length - n0) * 1000) / (Date.now() - t0);
    assert.ok(rate > 3 && rate <= 11, `about 10 fps (never more), got ${rate.toFixed(1)}`);
    assert.deepEqual(frames.map((f) => f.seq), frames.map((_, i) => i + 1));
    for (const f of frames) {
      assert.equal(f.width, 320);
      assert.equal(f.data[f.data.length - 1], 0xd9);
    }
    assert.equal(states[1]?.state, 'streaming');
    assert.equal(sim.stats.streamRequests, 0, 'never asked for the MJPEG stream');
  });

  it('one request at a time: a device slower than the rate is asked again only after it answered', async () => {
    device = await new SnapshotDevice().start();
    device.delayMs = 150;
    const { frames } = run(device.port, '/capture', 0);
    await waitFor(() => frames.length >= 6, 8000, '6 frames');
    assert.equal(device.maxInFlight, 1);
    assert.ok(device.requests <= frames.length + 1);
  });

  it('a failing URL goes to backoff with the typed error, and frames resume when it answers again', async () => {
    device = await new SnapshotDevice().start();
    device.status = 404;
    const { frames, problems } = run(device.port, '/snapshot.jpg', 20);
    await waitFor(() => problems.length >= 1, 5000, 'a problem');
    assert.equal(problems[0]!.code, 'ERR_NOT_FOUND');
    assert.equal(frames.length, 0);
    device.status = 200;
    await waitFor(() => frames.length >= 2, 5000, 'frames after the fix');
  });

  it('stop() during a slow request closes its socket and leaves no timer', async () => {
    device = await new SnapshotDevice().start();
    const { frames } = run(device.port, '/capture', 2);
    await waitFor(() => frames.length >= 1, 5000, 'first frame');
    device.delayMs = 10_000;
    await sleep(600);
    const t = Date.now();
    await session!.stop();
    assert.ok(Date.now() - t < 1000, 'stop is prompt');
    await waitFor(() => device!.inFlight === 0, 2000, 'the request was dropped');
  });
});
