import assert from 'node:assert/strict';
import { labelledJpegs } from './support/jpeg-samples';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MjpegFilePlayer, MjpegFilePlayerOptions, PlayerFrame } from '../src/recording/player';
import { MjpegFileWriter } from '../src/recording/writer';
import { CameraError } from '../src/errors';
import { waitFor, within } from './support/wait';
import { makeFifo, threadpoolAnswers } from './support/recording';



async function record(file: string, frames: Buffer[], t0: number, stepMs: number | ((i: number) => number)): Promise<void> {
  const w = new MjpegFileWriter({ path: file });
  let t = t0;
  frames.forEach((f, i) => {
    w.write(f, t);
    t += typeof stepMs === 'number' ? stepMs : stepMs(i);
  });
  await w.close();
}

interface Run {
  player: MjpegFilePlayer;
  frames: Array<PlayerFrame & { at: number }>;
  errors: CameraError[];
  ended: Promise<CameraError | undefined>;
}

function play(opts: Omit<MjpegFilePlayerOptions, 'onFrame' | 'onEnd' | 'onError'>, onFrame?: (f: PlayerFrame) => void): Run {
  const run = { frames: [], errors: [] } as unknown as Run;
  run.ended = new Promise((resolve) => {
    run.player = new MjpegFilePlayer({
      ...opts,
      onFrame: (f) => {
        run.frames.push({ ...f, at: Date.now() });
        onFrame?.(f);
      },
      onEnd: resolve,
      onError: (e) => run.errors.push(e),
    });
  });
  run.player.start();
  return run;
}

/** Open file descriptors of this process that point at `file` (Linux). */
function fdsOn(file: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

describe('recording: MjpegFilePlayer', function () {
  this.timeout(15_000);
  let dir: string;
  const players: MjpegFilePlayer[] = [];
  const track = (r: Run) => (players.push(r.player), r);
  const jpegs = labelledJpegs(10);

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mjpg-play-'));
  });
  afterEach(async () => {
    await Promise.all(players.splice(0).map((p) => p.stop()));
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('plays at the recorded pace from X-Timestamp (loose bounds)', async () => {
    const file = path.join(dir, 'pace.mjpg');
    await record(file, jpegs.slice(0, 6), 1_700_000_000_000, 100); // 500 ms of recording
    const r = track(play({ path: file }));
    assert.equal(await r.ended, undefined);
    assert.equal(r.frames.length, 6);
    const span = r.frames[5]!.at - r.frames[0]!.at;
    assert.ok(span >= 450, `played too fast: ${span} ms`);
    assert.ok(span < 3000, `played too slow: ${span} ms`);
    // Single gaps are not checked: the player keeps to the recorded timeline, so
    // a frame delayed by a busy machine is followed by a shorter gap.
    const early = r.frames.filter((f, i) => i > 0 && f.at - r.frames[0]!.at < i * 100 - 60).length;
    assert.equal(early, 0, 'no frame ahead of its recorded time');
  });

  it('honours uneven gaps', async () => {
    const file = path.join(dir, 'gaps.mjpg');
    // Gaps of 50 ms then 400 ms.
    await record(file, jpegs.slice(0, 3), 1_700_000_000_000, (i) => (i === 0 ? 50 : 400));
    const r = track(play({ path: file }));
    await r.ended;
    const g1 = r.frames[1]!.at - r.frames[0]!.at;
    const g2 = r.frames[2]!.at - r.frames[1]!.at;
    assert.ok(g1 >= 40 && g2 >= 380, `${g1} ${g2}`);
    assert.ok(g2 > g1 * 2);
  });

  it('the fps option overrides the recorded pace', async () => {
    const file = path.join(dir, 'fps.mjpg');
    await record(file, jpegs.slice(0, 5), 1_700_000_000_000, 2000); // 8 s recorded
    const r = track(play({ path: file, fps: 20 })); // 4 intervals of 50 ms
    await r.ended;
    assert.equal(r.frames.length, 5);
    const span = r.frames[4]!.at - r.frames[0]!.at;
    assert.ok(span >= 180 && span < 2000, `span ${span}`);
  });

  it('plays raw concatenated JPEGs (curl / ffmpeg -f mjpeg), no headers', async () => {
    const file = path.join(dir, 'raw.mjpg');
    await fsp.writeFile(file, Buffer.concat(jpegs));
    const r = track(play({ path: file, fps: 200, readChunkBytes: 97 })); // odd chunks: frames split anywhere
    assert.equal(await r.ended, undefined);
    assert.equal(r.frames.length, jpegs.length);
    r.frames.forEach((f, i) => {
      assert.ok(f.data.equals(jpegs[i]!), `frame ${i}`);
      assert.deepEqual(f.headers, {});
      assert.equal(f.seq, i + 1);
    });
    assert.deepEqual(r.errors, []);
  });

  it('loops: frames repeat in order, seq counts on, until stop()', async () => {
    const file = path.join(dir, 'loop.mjpg');
    await record(file, jpegs.slice(0, 3), 1_700_000_000_000, 10);
    const r = track(play({ path: file, loop: true, fps: 200 }));
    await waitFor(() => r.frames.length >= 8, 5000);
    await r.player.stop();
    const n = r.frames.length;
    await sleep(50);
    assert.equal(r.frames.length, n, 'no frame after stop()');
    r.frames.forEach((f, i) => {
      assert.ok(f.data.equals(jpegs[i % 3]!), `frame ${i}`);
      assert.equal(f.seq, i + 1);
    });
    assert.equal(r.player.playing, false);
  });

  it('stop() mid-file releases the file handle and emits nothing more', async function () {
    if (!fs.existsSync('/proc/self/fd')) this.skip();
    const file = path.join(dir, 'long.mjpg');
    await record(file, labelledJpegs(50), 1_700_000_000_000, 1000); // 50 s recorded
    const r = track(play({ path: file, fps: 20 }));
    await waitFor(() => r.frames.length >= 2, 5000);
    assert.equal(fdsOn(file), 1, 'file open while playing');
    await r.player.stop();
    assert.equal(fdsOn(file), 0, 'file handle released when stop() resolves');
    const n = r.frames.length;
    await sleep(120);
    assert.equal(r.frames.length, n);
    assert.ok(n < 50);
  });

  it('streams a large file: reads only a little ahead of playback', async () => {
    const file = path.join(dir, 'big.mjpg');
    // ~8 MB of 32 KB frames.
    const big = labelledJpegs(1).map((j) => {
      const pad = Buffer.alloc(32 * 1024 - j.length - 4, 0x41);
      const com = Buffer.from([0xff, 0xfe, (pad.length + 2) >> 8, (pad.length + 2) & 0xff]);
      return Buffer.concat([j.subarray(0, 2), com, pad, j.subarray(2)]);
    })[0]!;
    const fh = await fsp.open(file, 'w');
    for (let i = 0; i < 256; i++) await fh.write(big);
    await fh.close();
    const r = track(play({ path: file, fps: 20 }));
    await sleep(300);
    const read = r.player.bytesRead;
    assert.ok(r.frames.length >= 2 && r.frames.length < 30, `frames ${r.frames.length}`);
    // Frames played plus the queue (4) plus a couple of read chunks; far from the 8 MB file.
    assert.ok(read < (r.frames.length + 12) * big.length, `read ${read} bytes for ${r.frames.length} frames`);
    await r.player.stop();
  });

  it('missing file: ERR_FILE through onError, then onEnd with it', async () => {
    const r = track(play({ path: path.join(dir, 'missing.mjpg') }));
    const reason = await r.ended;
    assert.equal(reason?.code, 'ERR_FILE');
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!.message, /ENOENT/);
  });

  it('a FIFO (open(2) would block a threadpool thread forever): ERR_NOT_REGULAR_FILE at once, pool free', async function () {
    // Five players: more than the 4 libuv threads a blocking open would each hold for good.
    const runs: Run[] = [];
    for (let i = 0; i < 5; i++) {
      const f = path.join(dir, `pipe${i}.mjpg`);
      if (!makeFifo(f)) this.skip();
      runs.push(track(play({ path: f, loop: true })));
    }
    const reasons = await within(Promise.all(runs.map((r) => r.ended)), 1000, 'the end of playback of FIFOs');
    await threadpoolAnswers(dir);
    for (const [i, reason] of reasons.entries()) {
      assert.equal(reason?.code, 'ERR_NOT_REGULAR_FILE');
      assert.match(reason!.message, new RegExp(`pipe${i}\\.mjpg" is a FIFO`));
      assert.equal(runs[i]!.errors.length, 1);
      assert.equal(runs[i]!.frames.length, 0);
    }
  });

  it('a device or a folder is refused, not read (/dev/zero would be read forever)', async function () {
    const sub = path.join(dir, 'folder.mjpg');
    await fsp.mkdir(sub);
    const folder = track(play({ path: sub }));
    assert.match((await within(folder.ended, 1000, 'playback of a folder'))?.message ?? '', /is a folder/);
    if (!fs.existsSync('/dev/zero')) return;
    const zero = track(play({ path: '/dev/zero', loop: true }));
    const reason = await within(zero.ended, 1000, 'playback of /dev/zero');
    assert.equal(reason?.code, 'ERR_NOT_REGULAR_FILE');
    assert.match(reason!.message, /"\/dev\/zero" is a character device/);
  });

  it('a link to a recording plays (the path is the flow author\'s, "latest.mjpg" links are common)', async () => {
    const file = path.join(dir, 'real.mjpg');
    await record(file, jpegs.slice(0, 3), 1000, 10);
    const link = path.join(dir, 'latest.mjpg');
    await fsp.symlink(file, link);
    const r = track(play({ path: link, fps: 500 }));
    assert.equal(await r.ended, undefined);
    assert.equal(r.frames.length, 3);
  });

  it('stop() while the file is still being opened: no frame, the handle is closed', async function () {
    const file = path.join(dir, 'quick.mjpg');
    await record(file, jpegs.slice(0, 3), 1000, 10);
    const r = track(play({ path: file, fps: 500 }));
    await r.player.stop();
    await sleep(50);
    assert.equal(r.frames.length, 0);
    if (process.platform === 'linux') assert.equal(fdsOn(file), 0);
  });

  it('a file without frames ends with ERR_NOT_MJPEG (and does not spin when looping)', async () => {
    const file = path.join(dir, 'junk.mjpg');
    await fsp.writeFile(file, 'this is not video\n'.repeat(100));
    const r = track(play({ path: file, loop: true }));
    const reason = await r.ended;
    assert.equal(reason?.code, 'ERR_NOT_MJPEG');
    assert.equal(r.frames.length, 0);
  });

  it('rejects bad settings with ERR_INVALID_SETTING', () => {
    const noop = () => {};
    assert.throws(() => new MjpegFilePlayer({ path: '', onFrame: noop }), { code: 'ERR_INVALID_SETTING' });
    assert.throws(() => new MjpegFilePlayer({ path: 'x', fps: -1, onFrame: noop }), { code: 'ERR_INVALID_SETTING' });
  });
});
