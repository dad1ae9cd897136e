import assert from 'node:assert/strict';
import { labelledJpegs } from './support/jpeg-samples';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MjpegFileWriter, MjpegWriterOptions, RecordingFileInfo, partHeader } from '../src/recording/writer';
import { MjpegFilePlayer, PlayerFrame } from '../src/recording/player';
import { fileStamp, joinTarget, parseTarget } from '../src/recording/naming';
import { CameraError } from '../src/errors';
import { fileError } from '../src/recording/file-errors';
import { makeFifo, threadpoolAnswers } from './support/recording';
import { waitFor, within } from './support/wait';
import { execFileSync } from 'node:child_process';



async function playAll(file: string, fps = 1000): Promise<PlayerFrame[]> {
  const frames: PlayerFrame[] = [];
  await new Promise<void>((resolve, reject) => {
    const p = new MjpegFilePlayer({
      path: file,
      fps,
      onFrame: (f) => frames.push(f),
      onEnd: (err) => (err ? reject(err) : resolve()),
      onError: (err) => reject(err),
    });
    p.start();
  });
  return frames;
}

interface Harness {
  writer: MjpegFileWriter;
  closed: RecordingFileInfo[];
  errors: CameraError[];
}

function makeWriter(opts: Omit<MjpegWriterOptions, 'onError' | 'onFileClosed'>): Harness {
  const h: Harness = { closed: [], errors: [], writer: null as unknown as MjpegFileWriter };
  h.writer = new MjpegFileWriter({
    ...opts,
    onError: (e) => h.errors.push(e),
    onFileClosed: (i) => h.closed.push(i),
  });
  return h;
}

const isRoot = process.getuid?.() === 0;

describe('recording: MjpegFileWriter', function () {
  this.timeout(15_000);
  let dir: string;
  const writers: MjpegFileWriter[] = [];
  const track = (h: Harness) => (writers.push(h.writer), h);
  const frames = labelledJpegs(12);

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mjpg-rec-'));
  });
  afterEach(async () => {
    await Promise.all(writers.splice(0).map((w) => w.close()));
    await fsp.chmod(dir, 0o700).catch(() => {});
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('writes multipart parts that the player reads back into the exact frames and timestamps', async () => {
    const h = track(makeWriter({ path: path.join(dir, 'cam.mjpg') }));
    const t0 = 1_700_000_000_123;
    for (let i = 0; i < frames.length; i++) assert.equal(h.writer.write(frames[i]!, t0 + i * 40), true);
    await h.writer.close();
    assert.deepEqual(h.errors, []);
    assert.equal(h.closed.length, 1);
    const info = h.closed[0]!;
    assert.equal(info.filename, path.join(dir, 'cam.mjpg'), 'no rotation, not timestamped: the exact name');
    assert.equal(info.frames, frames.length);
    assert.equal(info.start, t0);
    assert.equal(info.end, t0 + 11 * 40);
    assert.equal(info.dropped, 0);
    assert.equal(info.bytes, (await fsp.stat(info.filename)).size);

    const head = (await fsp.readFile(info.filename)).subarray(0, 120).toString('latin1');
    assert.match(head, /^--mjpgrecord\r\nContent-Type: image\/jpeg\r\nContent-Length: \d+\r\nX-Timestamp: 1700000000123\r\nX-Sequence: 1\r\n\r\n\xff\xd8/);

    const played = await playAll(info.filename);
    assert.equal(played.length, frames.length);
    played.forEach((f, i) => {
      assert.ok(f.data.equals(frames[i]!), `frame ${i} bytes`);
      assert.equal(f.headers['x-timestamp'], String(t0 + i * 40));
      assert.equal(f.headers['x-sequence'], String(i + 1));
      assert.equal(f.headers['content-type'], 'image/jpeg');
      assert.equal(f.seq, i + 1);
    });
  });

  it('appends to an existing exact-name file (a redeploy does not wipe a recording)', async () => {
    const file = path.join(dir, 'door.mjpg');
    const a = makeWriter({ path: file });
    frames.slice(0, 3).forEach((f) => a.writer.write(f));
    await a.writer.close();
    const b = makeWriter({ path: path.join(dir, 'door') }); // base name: .mjpg added
    frames.slice(3, 5).forEach((f) => b.writer.write(f));
    await b.writer.close();
    const played = await playAll(file);
    assert.equal(played.length, 5);
    played.forEach((f, i) => assert.ok(f.data.equals(frames[i]!)));
  });

  it('rotates by size: several timestamped files that together hold every frame, in order', async () => {
    const many = labelledJpegs(40);
    const partSize = many[0]!.length + partHeader(many[0]!.length, Date.now(), 1).length + 2;
    const rotateBytes = partSize * 3 + 10; // about 3 frames per file
    const h = track(makeWriter({ path: path.join(dir, 'rot.mjpg'), rotateBytes }));
    const t0 = Date.now();
    many.forEach((f, i) => h.writer.write(f, t0 + i));
    await h.writer.close();
    assert.deepEqual(h.errors, []);
    const names = (await fsp.readdir(dir)).sort();
    assert.ok(names.length >= 10, `files: ${names.length}`);
    assert.equal(h.closed.length, names.length);
    for (const n of names) assert.match(n, /^rot-\d{8}-\d{6}(-\d+)?\.mjpg$/);
    assert.equal(
      h.closed.reduce((s, i) => s + i.frames, 0),
      many.length,
    );
    const perFile: PlayerFrame[][] = [];
    for (const info of h.closed) {
      const size = (await fsp.stat(info.filename)).size;
      assert.ok(size <= rotateBytes, `${info.filename} ${size} > ${rotateBytes}`);
      assert.equal(size, info.bytes);
      perFile.push(await playAll(info.filename));
    }
    // Files are reported in the order they were started.
    const all = perFile.flat();
    assert.equal(all.length, many.length);
    all.forEach((f, i) => {
      assert.ok(f.data.equals(many[i]!), `frame ${i}`);
      assert.equal(f.headers['x-sequence'], String(i + 1));
    });
  });

  it('rotates by duration, and closes the file on time even when frames stop', async () => {
    const h = track(makeWriter({ path: path.join(dir, 'dur'), rotateMs: 150 }));
    for (let i = 0; i < 8; i++) {
      h.writer.write(frames[i]!);
      await sleep(40);
    }
    // ~320 ms of frames: at least two files. Then no more frames: the last file closes by timer.
    const deadline = Date.now() + 3000;
    while (h.writer.filename !== null && Date.now() < deadline) await sleep(10);
    while (h.closed.reduce((s, i) => s + i.frames, 0) < 8 && Date.now() < deadline) await sleep(10);
    assert.ok(h.closed.length >= 2, `closed ${h.closed.length}`);
    assert.equal(h.closed.reduce((s, i) => s + i.frames, 0), 8);
    assert.equal(h.writer.filename, null);
  });

  it('missing folder without createFolder: ERR_FILE reported once, frames dropped, no crash', async () => {
    const h = track(makeWriter({ path: path.join(dir, 'nope', 'cam.mjpg'), retryMs: 0 }));
    for (const f of frames) h.writer.write(f);
    await sleep(100);
    for (const f of frames) h.writer.write(f);
    await h.writer.close();
    assert.ok(h.errors.length >= 1);
    assert.equal(h.errors.length, 1, 'a lasting problem is reported once');
    assert.equal(h.errors[0]!.code, 'ERR_FILE');
    assert.match(h.errors[0]!.message, /ENOENT/);
    assert.match(h.errors[0]!.hint, /create folder/);
    assert.equal(h.writer.stats.frames, 0);
    assert.equal(h.writer.stats.dropped, frames.length * 2);
    assert.deepEqual(h.closed, []);
  });

  it('missing folder with createFolder: creates it and records', async () => {
    const file = path.join(dir, 'a', 'b', 'cam.mjpg');
    const h = track(makeWriter({ path: file, createFolder: true }));
    frames.forEach((f) => h.writer.write(f));
    await h.writer.close();
    assert.deepEqual(h.errors, []);
    assert.equal((await playAll(file)).length, frames.length);
  });

  it('unwritable path (EACCES, or ENOTDIR when running as root) → ERR_FILE, no crash', async () => {
    let target: string;
    if (isRoot) {
      // root ignores permission bits: a path "under" a regular file fails for everyone.
      const plain = path.join(dir, 'plain-file');
      await fsp.writeFile(plain, 'x');
      target = path.join(plain, 'cam.mjpg');
    } else {
      const locked = path.join(dir, 'locked');
      await fsp.mkdir(locked);
      await fsp.chmod(locked, 0o000);
      target = path.join(locked, 'cam.mjpg');
    }
    const h = track(makeWriter({ path: target, createFolder: true }));
    frames.forEach((f) => h.writer.write(f));
    await h.writer.close();
    assert.equal(h.errors.length, 1);
    assert.equal(h.errors[0]!.code, 'ERR_FILE');
    assert.match(h.errors[0]!.message, isRoot ? /ENOTDIR|EEXIST/ : /EACCES/);
  });

  it('file size limit reached mid-recording (EFBIG via RLIMIT_FSIZE) → ERR_FILE with a rotation hint, the file is reported closed with the error', async function () {
    if (process.platform !== 'linux') this.skip();
    // Node ignores SIGXFSZ, so a write past the soft limit fails with EFBIG, as on a FAT32 stick at 4 GB.
    const limit = frames[0]!.length * 3;
    const setLimit = (soft: string) => execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${soft}:unlimited`]);
    try {
      setLimit(String(limit));
    } catch {
      this.skip(); // no prlimit (util-linux) on this machine
    }
    try {
      const h = track(makeWriter({ path: path.join(dir, 'big.mjpg') }));
      frames.forEach((f) => h.writer.write(f));
      await h.writer.close();
      assert.equal(h.errors.length, 1);
      assert.equal(h.errors[0]!.code, 'ERR_FILE');
      assert.match(h.errors[0]!.message, /EFBIG/);
      assert.match(h.errors[0]!.hint, /New file every/);
      assert.equal(h.closed.length, 1);
      assert.match(h.closed[0]!.error ?? '', /EFBIG/);
    } finally {
      setLimit('unlimited');
    }
  });

  it('the errno hints name the fix (disk full, quota)', () => {
    const enospc = fileError('write recording file', '/d/x.mjpg', Object.assign(new Error('no space'), { code: 'ENOSPC' }));
    assert.equal(enospc.code, 'ERR_FILE');
    assert.match(enospc.message, /ENOSPC/);
    assert.match(enospc.hint, /disk is full/);
  });

  describe('not a regular file: refused at once, never blocking Node', () => {
    it('a FIFO without reader (open(2) would block a threadpool thread forever): ERR_NOT_REGULAR_FILE once, close() at once, pool free', async function () {
      // Five writers: more than the 4 libuv threads a blocking open would each hold for good.
      const fifos: string[] = [];
      for (let i = 0; i < 5; i++) {
        const f = path.join(dir, `pipe${i}.mjpg`);
        if (!makeFifo(f)) this.skip();
        fifos.push(f);
      }
      const hs = fifos.map((f) => track(makeWriter({ path: f, retryMs: 0 })));
      for (const h of hs) for (const f of frames) h.writer.write(f);
      await waitFor(() => hs.every((h) => h.errors.length > 0), 2000, 'an error from every writer');
      for (const h of hs) for (const f of frames) h.writer.write(f); // retried: reported once
      await within(Promise.all(hs.map((h) => h.writer.close())), 1000, 'close() of writers on FIFOs');
      await threadpoolAnswers(dir);
      for (const [i, h] of hs.entries()) {
        assert.equal(h.errors.length, 1, 'a lasting problem is reported once');
        assert.equal(h.errors[0]!.code, 'ERR_NOT_REGULAR_FILE');
        assert.match(h.errors[0]!.message, new RegExp(`pipe${i}\\.mjpg" is a FIFO`));
        assert.match(h.errors[0]!.hint, /regular files/);
        assert.equal(h.writer.stats.frames, 0);
        assert.deepEqual(h.closed, []);
      }
    });

    it('a FIFO with a reader: refused too, nothing written into the pipe', async function () {
      const f = path.join(dir, 'read-end.mjpg');
      if (!makeFifo(f)) this.skip();
      // Our own non-blocking read end: a writer's open would now succeed without the type check.
      const reader = await fsp.open(f, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        const h = track(makeWriter({ path: f }));
        frames.forEach((fr) => h.writer.write(fr));
        await within(h.writer.close(), 1000, 'close()');
        assert.equal(h.errors[0]?.code, 'ERR_NOT_REGULAR_FILE');
        const got = await reader.read(Buffer.alloc(1024), 0, 1024, null).catch((e: NodeJS.ErrnoException) => (e.code === 'EAGAIN' ? { bytesRead: 0 } : Promise.reject(e)));
        assert.equal(got.bytesRead, 0, 'no byte reached the pipe');
      } finally {
        await reader.close();
      }
    });

    it('a link to a device (/dev/full) is never followed, so the device is never written', async function () {
      if (!fs.existsSync('/dev/full')) this.skip();
      const link = path.join(dir, 'full.mjpg');
      await fsp.symlink('/dev/full', link);
      const h = track(makeWriter({ path: link }));
      frames.forEach((f) => h.writer.write(f));
      await within(h.writer.close(), 1000, 'close()');
      assert.equal(h.errors.length, 1);
      assert.equal(h.errors[0]!.code, 'ERR_NOT_REGULAR_FILE');
      assert.match(h.errors[0]!.message, /full\.mjpg" is a symbolic link/);
      assert.match(h.errors[0]!.hint, /does not follow a symbolic link/);
    });

    it('a folder at the file name: ERR_NOT_REGULAR_FILE naming it a folder', async () => {
      await fsp.mkdir(path.join(dir, 'taken.mjpg'));
      const h = track(makeWriter({ path: path.join(dir, 'taken.mjpg') }));
      h.writer.write(frames[0]!);
      await h.writer.close();
      assert.equal(h.errors[0]?.code, 'ERR_NOT_REGULAR_FILE');
      assert.match(h.errors[0]!.message, /is a folder/);
    });
  });

  describe('root: every file stays inside the folder', () => {
    let outside: string;
    beforeEach(async () => {
      outside = await fsp.mkdtemp(path.join(os.tmpdir(), 'mjpg-outside-'));
    });
    afterEach(async () => {
      await fsp.rm(outside, { recursive: true, force: true });
    });
    const inRoot = (opts: Omit<MjpegWriterOptions, 'onError' | 'onFileClosed' | 'path' | 'root'> & { path: string }) =>
      track(makeWriter({ ...opts, path: path.join(dir, opts.path), root: dir }));
    const outsideFiles = async () => (await fsp.readdir(outside, { recursive: true })).sort();

    it('"../" and absolute names are refused by setPath (ERR_OUTSIDE_FOLDER) and by the constructor; frames keep going to the current file', async () => {
      const h = inRoot({ path: 'cam.mjpg', timestamped: false });
      h.writer.write(frames[0]!);
      const escape = path.relative(dir, path.join(outside, 'x.mjpg')); // ../mjpg-outside-…/x.mjpg
      for (const p of [path.join(dir, escape), path.join(dir, 'a', '..', '..', path.basename(outside), 'y'), path.join(outside, 'abs.mjpg'), '/etc/z']) {
        assert.throws(() => h.writer.setPath(p), (e: CameraError) => {
          assert.equal(e.code, 'ERR_OUTSIDE_FOLDER');
          assert.match(e.message, /is outside the recording folder/);
          assert.match(e.hint, /without '\.\.'/);
          return true;
        });
      }
      h.writer.write(frames[1]!);
      await h.writer.close();
      assert.deepEqual(h.closed.map((i) => [i.filename, i.frames]), [[path.join(dir, 'cam.mjpg'), 2]]);
      assert.throws(() => new MjpegFileWriter({ path: path.join(outside, 'c.mjpg'), root: dir }), { code: 'ERR_OUTSIDE_FOLDER' });
      assert.deepEqual(await outsideFiles(), []);
    });

    it('a subfolder inside is fine, also created on demand', async () => {
      const h = inRoot({ path: 'cam.mjpg', timestamped: false, createFolder: true });
      h.writer.setPath(path.join(dir, 'door', 'today', 'clip.mjpg'));
      h.writer.write(frames[0]!);
      await h.writer.close();
      assert.deepEqual(h.errors, []);
      assert.equal((await playAll(path.join(dir, 'door', 'today', 'clip.mjpg'))).length, 1);
    });

    it('a link inside the folder that points out is not followed (ERR_OUTSIDE_FOLDER), nor does "create folder" make folders out there', async () => {
      await fsp.symlink(outside, path.join(dir, 'out-link'));
      const h = inRoot({ path: 'out-link/cam.mjpg', timestamped: false, createFolder: true, retryMs: 0 });
      h.writer.write(frames[0]!);
      await waitFor(() => h.errors.length === 1, 2000, 'the error');
      h.writer.setPath(path.join(dir, 'out-link', 'new', 'deeper', 'cam'));
      h.writer.write(frames[1]!);
      await h.writer.close();
      assert.ok(h.errors.length >= 1);
      for (const e of h.errors) {
        assert.equal(e.code, 'ERR_OUTSIDE_FOLDER');
        assert.match(e.message, /out-link" is a link to ".*mjpg-outside-.*", which is outside the recording folder/);
      }
      assert.deepEqual(await outsideFiles(), [], 'nothing written or created outside');
    });

    it('a link inside that stays inside is followed; the folder itself may be a link', async () => {
      await fsp.mkdir(path.join(dir, 'real'));
      await fsp.symlink(path.join(dir, 'real'), path.join(dir, 'alias'));
      const h = inRoot({ path: 'alias/cam.mjpg', timestamped: false });
      h.writer.write(frames[0]!);
      await h.writer.close();
      assert.deepEqual(h.errors, []);
      assert.equal(h.closed[0]!.filename, path.join(dir, 'alias', 'cam.mjpg'), 'reported by the name given');
      assert.equal((await playAll(path.join(dir, 'real', 'cam.mjpg'))).length, 1);

      const linkedRoot = path.join(outside, 'recordings-link');
      await fsp.symlink(dir, linkedRoot);
      const viaLink = track(makeWriter({ path: path.join(linkedRoot, 'two.mjpg'), root: linkedRoot, timestamped: false }));
      viaLink.writer.write(frames[1]!);
      await viaLink.writer.close();
      assert.deepEqual(viaLink.errors, []);
      assert.equal((await playAll(path.join(dir, 'two.mjpg'))).length, 1);
    });

    it('a link at the file name (time stamp off: frames would be appended to its target) is refused; the target is untouched', async () => {
      const victim = path.join(outside, 'victim.txt');
      await fsp.writeFile(victim, 'keep me');
      await fsp.symlink(victim, path.join(dir, 'cam.mjpg'));
      const h = inRoot({ path: 'cam.mjpg', timestamped: false });
      frames.forEach((f) => h.writer.write(f));
      await h.writer.close();
      assert.equal(h.errors.length, 1);
      assert.equal(h.errors[0]!.code, 'ERR_NOT_REGULAR_FILE');
      assert.match(h.errors[0]!.message, /is a symbolic link/);
      assert.equal(await fsp.readFile(victim, 'utf8'), 'keep me');
    });
  });

  it('drops (and counts) frames instead of queueing without bound when the disk is behind', async () => {
    const many = labelledJpegs(200);
    const h = track(makeWriter({ path: path.join(dir, 'bp.mjpg'), maxBufferedBytes: many[0]!.length * 4 }));
    const accepted: number[] = [];
    many.forEach((f, i) => {
      if (h.writer.write(f, 1000 + i)) accepted.push(i);
      assert.ok(h.writer.stats.buffered <= many[0]!.length * 4 + 1000);
    });
    const s = h.writer.stats;
    assert.ok(s.dropped > 0, 'synchronous burst must overflow a 4-frame buffer');
    assert.equal(s.frames + s.dropped, many.length);
    await h.writer.close();
    assert.equal(h.closed[0]!.dropped, s.dropped);
    const played = await playAll(path.join(dir, 'bp.mjpg'));
    assert.equal(played.length, accepted.length);
    // X-Sequence counts offered frames, so gaps show where frames were dropped.
    played.forEach((f, k) => {
      assert.ok(f.data.equals(many[accepted[k]!]!));
      assert.equal(f.headers['x-sequence'], String(accepted[k]! + 1));
    });
  });

  it('setPath switches files; close() is idempotent and later writes are refused', async () => {
    const h = track(makeWriter({ path: path.join(dir, 'one.mjpg') }));
    h.writer.write(frames[0]!);
    h.writer.setPath(path.join(dir, 'two.mjpg'));
    h.writer.write(frames[1]!);
    h.writer.write(frames[2]!);
    await h.writer.close();
    await h.writer.close();
    assert.equal(h.writer.write(frames[3]!), false);
    assert.deepEqual(
      h.closed.map((i) => [path.basename(i.filename), i.frames]),
      [
        ['one.mjpg', 1],
        ['two.mjpg', 2],
      ],
    );
  });

  it('validates settings with ERR_INVALID_SETTING', () => {
    assert.throws(() => new MjpegFileWriter({ path: '' }), { code: 'ERR_INVALID_SETTING' });
    assert.throws(() => new MjpegFileWriter({ path: 'x', rotateBytes: -1 }), { code: 'ERR_INVALID_SETTING' });
    assert.throws(() => new MjpegFileWriter({ path: 'x', rotateMs: NaN }), { code: 'ERR_INVALID_SETTING' });
  });
});

describe('recording: naming', () => {
  it('splits folder, base and extension', () => {
    assert.deepEqual(parseTarget('/d/cam.mjpg'), { dir: '/d', base: 'cam', ext: '.mjpg' });
    assert.deepEqual(parseTarget('/d/cam'), { dir: '/d', base: 'cam', ext: '.mjpg' });
    assert.deepEqual(parseTarget('/d/cam.v1'), { dir: '/d', base: 'cam.v1', ext: '.mjpg' });
    assert.deepEqual(parseTarget('/d/'), { dir: '/d', base: 'recording', ext: '.mjpg' });
    assert.equal(joinTarget('/d', 'cam'), path.join('/d', 'cam'));
    assert.equal(joinTarget('', '/x/cam'), '/x/cam');
    assert.equal(joinTarget('/d', '/abs/cam'), '/abs/cam');
    assert.equal(joinTarget('/d', ''), '/d' + path.sep);
  });
  it('stamps local time as YYYYMMDD-HHMMSS', () => {
    assert.equal(fileStamp(new Date(2024, 0, 2, 3, 4, 5).getTime()), '20240102-030405');
  });
});
