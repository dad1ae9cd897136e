import assert from 'node:assert/strict';
import { waitFor } from './support/wait';
import { startSimulator, CameraSimulator } from '../simulator';
import { CameraHttpClient } from '../src/http';
import { HttpStreamSource } from '../src/http-source';
import { StreamSession, Frame, StateChange } from '../src/session';
import { CameraError } from '../src/errors';
import { jpegSize } from '../src/jpeg/jpeg-info';

const FAST_BACKOFF = { initialMs: 50, maxMs: 400, factor: 2, jitter: 0, healthyResetMs: 60_000 };


function isWholeJpeg(b: Buffer): boolean {
  return b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
}

describe('StreamSession against the camera simulator', () => {
  let sim: CameraSimulator;
  let client: CameraHttpClient;
  let session: StreamSession | null = null;

  async function setup(opts: Parameters<typeof startSimulator>[0], password = 'pass'): Promise<void> {
    sim = await startSimulator(opts);
    client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port, username: 'root', password });
  }

  function open(target: string, extra: Partial<ConstructorParameters<typeof StreamSession>[0]> = {}): {
    s: StreamSession;
    frames: Frame[];
    states: StateChange[];
    problems: CameraError[];
  } {
    const s = new StreamSession({ source: new HttpStreamSource(client, target), backoff: FAST_BACKOFF, ...extra });
    session = s;
    const frames: Frame[] = [];
    const states: StateChange[] = [];
    const problems: CameraError[] = [];
    s.on('frame', (f) => frames.push(f));
    s.on('state', (c) => states.push(c));
    s.on('problem', (e) => problems.push(e));
    s.start();
    return { s, frames, states, problems };
  }

  afterEach(async () => {
    await session?.stop();
    session = null;
    await client?.close();
    await sim?.close();
  });

  it('streams whole frames through Digest auth and reports its states and rate', async () => {
    await setup({ auth: 'digest' });
    const { s, frames, states } = open('/axis-cgi/mjpg/video.cgi?resolution=320x240&fps=20');
    await waitFor(() => frames.length >= 10, 8000, '10 frames');
    assert.deepEqual(
      states.slice(0, 2).map((c) => c.state),
      ['connecting', 'streaming'],
    );
    for (const f of frames) {
      assert.ok(isWholeJpeg(f.data));
      assert.equal(f.width, 320);
      assert.equal(f.height, 240);
      assert.equal(f.size, f.data.length);
      assert.equal(f.headers['content-type'], 'image/jpeg');
    }
    assert.deepEqual(
      frames.map((f) => f.seq),
      frames.map((_, i) => i + 1),
    );
    assert.equal(s.latest, frames[frames.length - 1]);
    assert.ok(s.stats.fps > 0, `fps ${s.stats.fps}`);
    assert.ok(s.stats.bytes > 0);
    await s.stop();
    assert.equal(s.state, 'stopped');
    await waitFor(() => sim.stats.activeStreams === 0, 3000, 'camera to see the stream closed');
  });

  it('HTTP/1.1 chunked parts through Digest: whole frames, and a drop inside a chunk never yields a truncated one', async () => {
    await setup({ auth: 'digest', framing: 'chunked' });
    sim.setFault({ kind: 'drop-mid-frame', afterFrames: 3 });
    const { frames, problems } = open('/axis-cgi/mjpg/video.cgi?resolution=160x120&fps=25');
    await waitFor(() => problems.length >= 2, 8000, 'two dropped connections');
    sim.setFault(null);
    const n = frames.length;
    await waitFor(() => frames.length >= n + 5, 8000, 'frames after recovery');
    for (const f of frames) {
      assert.ok(isWholeJpeg(f.data));
      assert.equal(jpegSize(f.data)?.width, 160);
    }
    assert.ok(n >= 3, `${n} frames before the drops`);
    assert.ok(problems.every((p) => p.code === 'ERR_CONN_RESET' || p.code === 'ERR_STREAM_ENDED'), JSON.stringify(problems.map((p) => p.code)));
  });

  it('reconnects after a stall and keeps counting frames', async () => {
    await setup({ auth: 'none' });
    sim.setFault({ kind: 'stall', afterFrames: 3 });
    const { frames, problems } = open('/axis-cgi/mjpg/video.cgi?resolution=160x120&fps=25', { stallTimeoutMs: 300 });
    await waitFor(() => problems.some((p) => p.code === 'ERR_STALLED'), 5000, 'a stall');
    sim.setFault(null);
    const before = frames.length;
    await waitFor(() => frames.length >= before + 5, 5000, 'frames after the stall');
    assert.ok(sim.stats.streamRequests >= 2);
    assert.ok(frames.every((f) => isWholeJpeg(f.data)));
  });

  it('never emits the truncated frame of a dropped connection, and recovers', async () => {
    await setup({ auth: 'none' });
    sim.setFault({ kind: 'drop-mid-frame', afterFrames: 2 });
    const { frames, problems } = open('/axis-cgi/mjpg/video.cgi?resolution=160x120&fps=25');
    await waitFor(() => problems.length >= 2, 5000, 'two dropped connections');
    assert.ok(frames.every((f) => isWholeJpeg(f.data) && jpegSize(f.data)?.width === 160));
    sim.setFault(null);
    const n = frames.length;
    await waitFor(() => frames.length >= n + 5, 5000, 'frames after recovery');
  });

  it('backs off with growing delays on wrong credentials, never below the credential retry time, and reports ERR_AUTH_FAILED', async () => {
    await setup({ auth: 'digest' }, 'wrong');
    const { states } = open('/axis-cgi/mjpg/video.cgi', { backoff: { ...FAST_BACKOFF, credentialRetryMs: 120 } });
    await waitFor(() => states.filter((c) => c.state === 'backoff').length >= 3, 5000, 'three retries');
    const backoffs = states.filter((c) => c.state === 'backoff');
    assert.equal(backoffs[0]!.error?.code, 'ERR_AUTH_FAILED');
    assert.deepEqual(
      backoffs.slice(0, 3).map((c) => c.retryInMs),
      [120, 120, 200],
    );
    assert.ok(!JSON.stringify(backoffs.map((c) => c.error)).includes('wrong'));
  });

  it('by default waits a minute before asking again with refused credentials, and retryNow() skips the wait', async () => {
    await setup({ auth: 'digest' }, 'wrong');
    // FAST_BACKOFF leaves credentialRetryMs at its default.
    const { s, states } = open('/axis-cgi/mjpg/video.cgi');
    await waitFor(() => states.some((c) => c.state === 'backoff'), 5000, 'the first failure');
    assert.equal(states.find((c) => c.state === 'backoff')!.retryInMs, 60_000);
    s.retryNow();
    await waitFor(() => states.filter((c) => c.state === 'backoff').length >= 2, 5000, 'a second attempt after retryNow()');
  });

  it('reports a camera that answers with a text error instead of a stream', async () => {
    await setup({ auth: 'none' });
    const { states } = open('/axis-cgi/mjpg/video.cgi?camera=7');
    await waitFor(() => states.some((c) => c.state === 'backoff'), 5000, 'a failure');
    const err = states.find((c) => c.state === 'backoff')!.error!;
    assert.equal(err.code, 'ERR_NOT_MJPEG');
    assert.match(err.body ?? '', /Camera 7/);
  });

  it('comes back after a camera reboot (connection refused meanwhile)', async () => {
    await setup({ auth: 'digest' });
    const { frames, problems } = open('/axis-cgi/mjpg/video.cgi?resolution=160x120&fps=20');
    await waitFor(() => frames.length >= 3, 5000, 'first frames');
    sim.setFault({ kind: 'reboot', ms: 600 });
    await waitFor(() => problems.some((p) => p.code === 'ERR_CONN_REFUSED'), 5000, 'refused while rebooting');
    const n = frames.length;
    await waitFor(() => frames.length >= n + 3, 8000, 'frames after reboot');
  });

  it('stops by itself when a limited stream (nbrofframes) ends', async () => {
    await setup({ auth: 'none' });
    const { s, frames } = open('/axis-cgi/mjpg/video.cgi?resolution=160x120&fps=25&nbrofframes=4', { stopWhenEnded: true });
    await waitFor(() => s.state === 'stopped', 5000, 'stopped');
    assert.equal(frames.length, 4);
    assert.equal(sim.stats.streamRequests, 1);
  });
});

describe('StreamSession against servers that label the stream oddly', () => {
  it('streams a multipart body sent as application/octet-stream (ffmpeg -listen 1)', async () => {
    const net = await import('node:net');
    const jpeg = Buffer.from(
      'ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9',
      'hex',
    );
    const server = net.createServer((sock) => {
      sock.once('data', () => {
        sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n');
        let n = 0;
        const timer = setInterval(() => {
          if (sock.destroyed || n++ > 50) return clearInterval(timer);
          sock.write(`--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: ${jpeg.length}\r\n\r\n`);
          sock.write(jpeg);
          sock.write('\r\n');
        }, 20);
        sock.on('close', () => clearInterval(timer));
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port, auth: 'none' });
    const s = new StreamSession({ source: new HttpStreamSource(client, '/feed.mjpg'), backoff: FAST_BACKOFF });
    const frames: Frame[] = [];
    s.on('frame', (f) => frames.push(f));
    s.start();
    try {
      await waitFor(() => frames.length >= 3, 5000, 'three frames');
      assert.ok(frames.every((f) => f.data.equals(jpeg)));
      assert.equal(frames[0]!.width, 1);
    } finally {
      await s.stop();
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });
});
