/**
 * Interop with a real third-party tool: ffmpeg reads our recordings, and our
 * player reads what ffmpeg writes. Skipped when ffmpeg is not installed.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { MjpegFileWriter } from '../src/recording/writer';
import { playAll } from './support/recording';

const run = promisify(execFile);
const TOOL_TIMEOUT_MS = 20_000;

function has(tool: string): boolean {
  try {
    execFileSync(tool, ['-version'], { stdio: 'ignore', timeout: TOOL_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

/** `count` test-pattern JPEGs from ffmpeg, in the given muxer (`mjpeg` raw or `mpjpeg` multipart). */
async function ffmpegFile(file: string, format: 'mjpeg' | 'mpjpeg', count: number): Promise<void> {
  await run(
    'ffmpeg',
    ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-frames:v', String(count), '-f', format, file],
    { timeout: TOOL_TIMEOUT_MS },
  );
}

describe('recording: ffmpeg interop', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    if (!has('ffmpeg') || !has('ffprobe')) this.skip();
  });
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mjpg-ff-'));
  });
  afterEach(async () => {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('our player reads ffmpeg -f mjpeg (raw) and -f mpjpeg (multipart) output', async () => {
    const raw = path.join(dir, 'raw.mjpeg');
    const multi = path.join(dir, 'multi.mjpg');
    await ffmpegFile(raw, 'mjpeg', 12);
    await ffmpegFile(multi, 'mpjpeg', 12);
    const a = await playAll(raw);
    const b = await playAll(multi);
    assert.equal(a.length, 12);
    assert.equal(b.length, 12);
    // Same encoder, same pictures: the JPEG bytes match.
    a.forEach((f, i) => assert.ok(f.data.equals(b[i]!.data), `frame ${i}`));
  });

  it('ffmpeg -f mpjpeg reads our recording, every frame', async () => {
    const raw = path.join(dir, 'src.mjpeg');
    await ffmpegFile(raw, 'mjpeg', 15);
    const frames = (await playAll(raw)).map((f) => f.data);
    const ours = path.join(dir, 'ours.mjpg');
    const w = new MjpegFileWriter({ path: ours });
    frames.forEach((f, i) => w.write(f, 1_700_000_000_000 + i * 100));
    await w.close();
    const { stdout } = await run(
      'ffprobe',
      ['-v', 'error', '-f', 'mpjpeg', '-count_frames', '-select_streams', 'v', '-show_entries', 'stream=nb_read_frames,width,height', '-of', 'json', ours],
      { timeout: TOOL_TIMEOUT_MS },
    );
    const s = JSON.parse(stdout).streams[0];
    assert.equal(Number(s.nb_read_frames), 15);
    assert.equal(s.width, 320);
    assert.equal(s.height, 240);
  });
});
