import assert from 'node:assert/strict';
import { labelledJpegs } from '../support/jpeg-samples';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PlayerFrame } from '../../src/recording/player';
import { helper, collect, startNodeRed, statusesOf, stopNodeRed, type Msg } from '../support/node-red';
import { catchAndComplete } from '../support/flow-nodes';
import { makeFifo, playAll, threadpoolAnswers } from '../support/recording';
import { waitFor, within } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const recordNode = require('../../nodes/axmjpeg-record');

const WAIT_MS = 5000;

function frameMsg(data: Buffer, seq: number, time: number): Msg {
  return {
    topic: 'cam',
    payload: data,
    frame: { seq, time, size: data.length, width: 16, height: 16, fps: 0, camera: 'cam', headers: {} },
  };
}

/** A control msg that switches the recorder to another file name. */
function nameMsg(name: string): Msg {
  return { filename: name };
}

function flow(cfg: Record<string, unknown>) {
  return [
    { id: 'r', type: 'axmjpeg-record', name: '', wires: [['out']], timestamped: true, createFolder: false, autoStart: true, ...cfg },
    { id: 'out', type: 'helper' },
    ...catchAndComplete('r'),
  ];
}

describe('axmjpeg-record node', function () {
  this.timeout(15_000);
  let dir: string;
  const jpegs = labelledJpegs(20);

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mjpg-node-'));
    await startNodeRed();
  });
  afterEach(async () => {
    await stopNodeRed();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('records frames; topic "stop" completes the file with one msg; the file plays back exactly', async () => {
    await helper.load(recordNode, flow({ folder: dir, filename: 'door', rotateMB: 0, rotateMinutes: 0 }));
    const out = collect('out');
    const completed = collect('completed');
    const r = helper.getNode('r');
    const t0 = 1_700_000_000_000;
    jpegs.slice(0, 10).forEach((j, i) => r.receive(frameMsg(j, i + 1, t0 + i * 100)));
    r.receive({ topic: 'stop' });
    await waitFor(() => out.length === 1, WAIT_MS);
    const m = out[0]!;
    assert.equal(path.dirname(m.filename), dir);
    assert.match(path.basename(m.filename), /^door-\d{8}-\d{6}\.mjpg$/);
    assert.deepEqual(m.payload, { frames: 10, bytes: (await fsp.stat(m.filename)).size, start: t0, end: t0 + 900, dropped: 0 });
    const played = await playAll(m.filename);
    assert.equal(played.length, 10);
    played.forEach((f, i) => {
      assert.ok(f.data.equals(jpegs[i]!));
      assert.equal(f.headers['x-timestamp'], String(t0 + i * 100), 'msg.frame.time is the stored timestamp');
    });
    // Stopped: frames are ignored until start.
    r.receive(frameMsg(jpegs[10]!, 11, t0 + 1000));
    r.receive({ record: true });
    r.receive(frameMsg(jpegs[11]!, 12, t0 + 1100));
    r.receive({ record: false });
    await waitFor(() => out.length === 2, WAIT_MS);
    assert.equal(out[1]!.payload.frames, 1);
    assert.ok((await playAll(out[1]!.filename))[0]!.data.equals(jpegs[11]!));
    await waitFor(() => completed.length === 15, WAIT_MS);
  });

  it('rotates by size: one msg per file, together every frame', async () => {
    const size = jpegs[0]!.length;
    const rotateMB = ((size + 120) * 3) / (1024 * 1024); // about 3 frames a file
    await helper.load(recordNode, flow({ folder: dir, filename: 'rot.mjpg', rotateMB, rotateMinutes: 0 }));
    const out = collect('out');
    const r = helper.getNode('r');
    jpegs.forEach((j, i) => r.receive(frameMsg(j, i + 1, Date.now())));
    r.receive({ topic: 'stop' });
    await waitFor(() => out.reduce((s, m) => s + m.payload.frames, 0) === jpegs.length, WAIT_MS);
    assert.ok(out.length >= 5, `files ${out.length}`);
    const all: PlayerFrame[] = [];
    for (const m of out) all.push(...(await playAll(m.filename)));
    assert.equal(all.length, jpegs.length);
    all.forEach((f, i) => assert.ok(f.data.equals(jpegs[i]!), `frame ${i}`));
  });

  it('msg.filename switches to another file (relative to the folder)', async () => {
    await helper.load(recordNode, flow({ folder: dir, filename: 'one', timestamped: false, rotateMB: 0, rotateMinutes: 0 }));
    const out = collect('out');
    const r = helper.getNode('r');
    r.receive(frameMsg(jpegs[0]!, 1, 1000));
    r.receive({ filename: 'two.mjpg' });
    r.receive(frameMsg(jpegs[1]!, 2, 2000));
    r.receive(frameMsg(jpegs[2]!, 3, 3000));
    r.receive({ topic: 'stop' });
    await waitFor(() => out.length === 2, WAIT_MS);
    assert.deepEqual(
      out.map((m) => [m.filename, m.payload.frames]),
      [
        [path.join(dir, 'one.mjpg'), 1],
        [path.join(dir, 'two.mjpg'), 2],
      ],
    );
  });

  describe('names from msgs stay inside the folder', () => {
    let outside: string;
    beforeEach(async () => {
      outside = await fsp.mkdtemp(path.join(os.tmpdir(), 'mjpg-node-outside-'));
    });
    afterEach(async () => {
      await fsp.rm(outside, { recursive: true, force: true });
    });

    /** Deploys a recorder on `dir`, sends a frame, the hostile name, another frame, stop. */
    async function attack(name: string, cfg: Record<string, unknown> = {}) {
      await helper.load(recordNode, flow({ folder: dir, filename: 'cam', timestamped: false, rotateMB: 0, rotateMinutes: 0, createFolder: true, ...cfg }));
      const out = collect('out');
      const caught = collect('caught');
      const completed = collect('completed');
      const r = helper.getNode('r');
      r.receive(frameMsg(jpegs[0]!, 1, 1000));
      r.receive(nameMsg(name));
      r.receive(frameMsg(jpegs[1]!, 2, 2000));
      r.receive({ topic: 'stop' });
      await waitFor(() => completed.length === 4 && out.length >= 1, WAIT_MS);
      await sleep(50);
      const files = (await fsp.readdir(outside, { recursive: true })).sort();
      await helper.unload();
      return { out, caught, files };
    }

    for (const [label, name] of [
      ['"../../"', () => path.join('..', '..', path.relative(path.dirname(path.dirname(dir)), outside), 'escaped')],
      ['an absolute path', () => path.join(outside, 'abs.mjpg')],
      ['a subfolder spelled past the root', () => path.join('sub', '..', '..', path.basename(outside), 'x')],
    ] as const) {
      it(`${label}: ERR_OUTSIDE_FOLDER to Catch with the msg; frames stay in the configured file; nothing outside`, async () => {
        const { out, caught, files } = await attack(name());
        assert.equal(caught.length, 1);
        assert.equal(caught[0]!.error.code, 'ERR_OUTSIDE_FOLDER');
        assert.match(caught[0]!.error.message, /outside the recording folder/);
        assert.deepEqual(out.map((m) => [m.filename, m.payload.frames]), [[path.join(dir, 'cam.mjpg'), 2]]);
        assert.deepEqual(files, []);
      });
    }

    it('a link inside the folder that points out: ERR_OUTSIDE_FOLDER, no folder or file created out there', async () => {
      await fsp.symlink(outside, path.join(dir, 'link'));
      const { caught, files } = await attack(path.join('link', 'made', 'cam'));
      assert.equal(caught[0]?.error.code, 'ERR_OUTSIDE_FOLDER');
      assert.match(caught[0]!.error.message, /is a link to/);
      assert.deepEqual(files, []);
    });

    it('time stamp off, a link planted at the file name: ERR_NOT_REGULAR_FILE, its target untouched', async () => {
      const victim = path.join(outside, 'victim.txt');
      await fsp.writeFile(victim, 'keep me');
      await fsp.symlink(victim, path.join(dir, 'planted.mjpg'));
      const { caught } = await attack('planted.mjpg');
      assert.equal(caught[0]?.error.code, 'ERR_NOT_REGULAR_FILE');
      assert.match(caught[0]!.error.message, /planted\.mjpg" is a symbolic link/);
      assert.equal(await fsp.readFile(victim, 'utf8'), 'keep me');
    });

    it('Folder blank: names are taken in the folder of the configured file name', async () => {
      await helper.load(recordNode, flow({ folder: '', filename: path.join(dir, 'cams', 'door'), timestamped: false, rotateMB: 0, rotateMinutes: 0, createFolder: true }));
      const out = collect('out');
      const caught = collect('caught');
      const r = helper.getNode('r');
      r.receive(nameMsg('yard'));
      r.receive(frameMsg(jpegs[0]!, 1, 1000));
      r.receive(nameMsg(path.join('..', 'beside')));
      r.receive({ topic: 'stop' });
      await waitFor(() => out.length === 1 && caught.length === 1, WAIT_MS);
      assert.equal(out[0]!.filename, path.join(dir, 'cams', 'yard.mjpg'));
      assert.equal(caught[0]!.error.code, 'ERR_OUTSIDE_FOLDER');
    });

    it('a configured file name outside the configured folder is a settings error, nothing recorded', async () => {
      await helper.load(recordNode, flow({ folder: dir, filename: path.join(outside, 'cfg'), timestamped: false, rotateMB: 0, rotateMinutes: 0 }));
      const r = helper.getNode('r');
      r.receive(frameMsg(jpegs[0]!, 1, 1000));
      await waitFor(() => statusesOf(r).some((st) => st.fill === 'red'), WAIT_MS);
      assert.ok(helper.log().args.some((a: any[]) => a[0]?.level === helper.log().ERROR && /outside the recording folder/.test(String(a[0].msg))));
      await sleep(50);
      assert.deepEqual(await fsp.readdir(outside), []);
    });
  });

  it('missing folder without "create folder": ERR_FILE to Catch, no crash; with it: records', async () => {
    await helper.load(recordNode, flow({ folder: path.join(dir, 'missing'), filename: 'cam', rotateMB: 0, rotateMinutes: 0 }));
    const caught = collect('caught');
    const completed = collect('completed');
    const r = helper.getNode('r');
    jpegs.slice(0, 5).forEach((j, i) => r.receive(frameMsg(j, i + 1, 1000 + i)));
    await waitFor(() => caught.length >= 1 && completed.length === 5, WAIT_MS);
    await sleep(50);
    assert.equal(caught.length, 1, 'reported once');
    assert.equal(caught[0]!.error.code, 'ERR_FILE');
    assert.match(caught[0]!.error.message, /ENOENT/);
    await helper.unload();

    await helper.load(recordNode, flow({ folder: path.join(dir, 'made', 'here'), filename: 'cam', createFolder: true, rotateMB: 0, rotateMinutes: 0 }));
    const out = collect('out');
    const r2 = helper.getNode('r');
    jpegs.slice(0, 5).forEach((j, i) => r2.receive(frameMsg(j, i + 1, 1000 + i)));
    r2.receive({ topic: 'stop' });
    await waitFor(() => out.length === 1, WAIT_MS);
    assert.equal(out[0]!.payload.frames, 5);
    assert.equal(path.dirname(out[0]!.filename), path.join(dir, 'made', 'here'));
  });

  it('non-frame input: reported once per kind to Catch, every input done()', async () => {
    await helper.load(recordNode, flow({ folder: dir, filename: 'x', rotateMB: 0, rotateMinutes: 0 }));
    const caught = collect('caught');
    const completed = collect('completed');
    const r = helper.getNode('r');
    r.receive({ payload: 'text' });
    r.receive({ payload: 'text again' });
    r.receive({ payload: Buffer.from('nope') });
    await waitFor(() => completed.length === 3, WAIT_MS);
    await sleep(50);
    assert.equal(caught.length, 2);
    assert.equal(caught[0]!.error.code, 'ERR_NOT_JPEG');
  });

  it('invalid settings: error logged, inputs still completed', async () => {
    await helper.load(recordNode, flow({ folder: dir, filename: 'x', rotateMB: -5, rotateMinutes: 0 }));
    const completed = collect('completed');
    helper.getNode('r').receive(frameMsg(jpegs[0]!, 1, 1));
    await waitFor(() => completed.length === 1, WAIT_MS);
    assert.ok(helper.log().args.some((a: any[]) => a[0]?.level === helper.log().ERROR && /rotateMB|Rotation size/.test(String(a[0].msg))));
  });

  it('a FIFO as the file: ERR_NOT_REGULAR_FILE in status and Catch; close is quick, so redeploys keep working', async function () {
    const fifo = path.join(dir, 'pipe.mjpg');
    if (!makeFifo(fifo)) this.skip();
    // Five deploys: before the fix each one left a libuv thread blocked in open(2) for good, and
    // after four every fs call (and with it deploys and HTTP nodes) hung.
    for (let deploy = 0; deploy < 5; deploy++) {
      await helper.load(recordNode, flow({ folder: dir, filename: 'pipe', timestamped: false, rotateMB: 0, rotateMinutes: 0 }));
      const caught = collect('caught');
      const r = helper.getNode('r');
      jpegs.slice(0, 3).forEach((j, i) => r.receive(frameMsg(j, i + 1, 1000 + i)));
      await waitFor(() => caught.length === 1, 2000, `the error of deploy ${deploy}`);
      assert.equal(caught[0]!.error.code, 'ERR_NOT_REGULAR_FILE');
      assert.match(caught[0]!.error.message, /pipe\.mjpg" is a FIFO/);
      await waitFor(() => statusesOf(r).some((st) => st.fill === 'red' && st.text === 'ERR_NOT_REGULAR_FILE'), 2000, 'a red status');
      await within(helper.unload(), 1000, `close of deploy ${deploy}`);
    }
    await threadpoolAnswers(dir);
    await helper.load(recordNode, flow({ folder: dir, filename: 'plain', timestamped: false, rotateMB: 0, rotateMinutes: 0 }));
    const out = collect('out');
    const r = helper.getNode('r');
    jpegs.slice(0, 3).forEach((j, i) => r.receive(frameMsg(j, i + 1, 1000 + i)));
    r.receive({ topic: 'stop' });
    await waitFor(() => out.length === 1, WAIT_MS);
    assert.equal((await playAll(path.join(dir, 'plain.mjpg'))).length, 3);
  });

  it('close (redeploy) completes the open file without sending', async () => {
    await helper.load(recordNode, flow({ folder: dir, filename: 'closing', timestamped: false, rotateMB: 0, rotateMinutes: 0 }));
    const out = collect('out');
    const r = helper.getNode('r');
    jpegs.slice(0, 4).forEach((j, i) => r.receive(frameMsg(j, i + 1, 1000 + i)));
    await sleep(50);
    await helper.unload();
    assert.equal(out.length, 0);
    assert.equal((await playAll(path.join(dir, 'closing.mjpg'))).length, 4, 'all frames flushed on close');
  });
});
