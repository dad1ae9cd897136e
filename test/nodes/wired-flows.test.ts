/**
 * Nodes wired to each other (and to Node-RED's own file node) in a real
 * Node-RED, against the simulated camera: the msg properties one node adds
 * must mean the same thing to the next (see docs/ARCHITECTURE.md, "Msg
 * properties across the nodes").
 */
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, collect, runtime, startNodeRed, stopNodeRed, type Msg } from '../support/node-red';
import { catchAll, cameraConfig } from '../support/flow-nodes';
import { playAll } from '../support/recording';
import { waitFor } from '../support/wait';

/* eslint-disable @typescript-eslint/no-require-imports */
const cameraNode = require('../../nodes/axmjpeg-camera');
const snapshotNode = require('../../nodes/axmjpeg-snapshot');
const recordNode = require('../../nodes/axmjpeg-record');
const mjpgInNode = require('../../nodes/axmjpeg-in');
const throttleNode = require('../../nodes/axmjpeg-throttle');
/** Node-RED's own `file` node, from the runtime under test. */
const fileNode = require(require.resolve('@node-red/nodes/core/storage/10-file.js', { paths: [runtime.dir] }));
/* eslint-enable @typescript-eslint/no-require-imports */

const CREDS = { cam: { user: 'root', password: 'pass' } };

describe('nodes wired together (real Node-RED)', function () {
  this.timeout(20_000);
  let sim: CameraSimulator;
  let dir: string;
  let jpgDir: string;

  beforeEach(async () => {
    sim = await startSimulator({ auth: 'digest' });
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'wired-rec-'));
    jpgDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'wired-jpg-'));
    // The file node takes relative names under this folder (Node-RED's setting).
    helper.settings({ fileWorkingDirectory: jpgDir });
    await startNodeRed();
  });
  afterEach(async () => {
    await stopNodeRed();
    helper.settings({});
    await sim.close();
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.rm(jpgDir, { recursive: true, force: true });
  });

  it('snapshot -> record and -> file: snapshots go into the one configured recording; the file node writes each JPEG under msg.filename', async () => {
    await helper.load(
      [cameraNode, snapshotNode, recordNode, fileNode],
      [
        cameraConfig('cam', sim.port),
        { id: 's', type: 'axmjpeg-snapshot', camera: 'cam', maxAge: 0, wires: [['r', 'f', 'shots']] },
        { id: 'shots', type: 'helper' },
        { id: 'r', type: 'axmjpeg-record', folder: dir, filename: 'stills', timestamped: false, rotateMB: 0, rotateMinutes: 0, autoStart: true, wires: [['files']] },
        { id: 'files', type: 'helper' },
        { id: 'f', type: 'file', filename: 'filename', filenameType: 'msg', appendNewline: false, createDir: false, overwriteFile: 'true', encoding: 'none', wires: [['written']] },
        { id: 'written', type: 'helper' },
        ...catchAll(),
      ],
      CREDS,
    );
    const shots = collect('shots');
    const files = collect('files');
    const written = collect('written');
    const caught = collect('caught');
    const s = helper.getNode('s');
    const N = 4;
    for (let i = 0; i < N; i++) {
      s.receive({ payload: i });
      await waitFor(() => shots.length === i + 1 && written.length === i + 1, 8000, `snapshot ${i + 1}`).catch((e) => {
        throw new Error(`${e.message}: ${shots.length} shots, ${written.length} written, caught ${JSON.stringify(caught.map((m: Msg) => m.error?.message))}`);
      });
    }
    helper.getNode('r').receive({ topic: 'stop' });
    await waitFor(() => files.length === 1, 5000, 'the completed recording');

    assert.deepEqual(caught.map((m: Msg) => m.error?.message), []);
    assert.equal(files[0]!.filename, path.join(dir, 'stills.mjpg'));
    assert.equal(files[0]!.payload.frames, N);
    assert.deepEqual(await fsp.readdir(dir), ['stills.mjpg'], 'one file, not one per snapshot');
    const played = await playAll(files[0]!.filename);
    assert.equal(played.length, N);
    played.forEach((f, i) => assert.ok(f.data.equals(shots[i]!.payload), `frame ${i} is snapshot ${i}`));

    const jpgs = (await fsp.readdir(jpgDir)).sort();
    assert.deepEqual(jpgs, shots.map((m: Msg) => m.filename).sort());
    for (const m of shots) assert.ok((await fsp.readFile(path.join(jpgDir, m.filename))).equals(m.payload));
  });

  it('stream in -> throttle -> record, and a control msg with filename: frames keep their recording, the control msg switches it', async () => {
    await helper.load(
      [cameraNode, mjpgInNode, throttleNode, recordNode],
      [
        cameraConfig('cam', sim.port),
        { id: 'in', type: 'axmjpeg-in', source: 'camera', camera: 'cam', resolution: '160x120', fps: '20', compression: '', cameraNumber: '', startOnDeploy: true, wires: [['t']] },
        { id: 't', type: 'axmjpeg-throttle', mode: 'fps', fps: 5, wires: [['r', 'thr']] },
        { id: 'thr', type: 'helper' },
        { id: 'r', type: 'axmjpeg-record', folder: dir, filename: 'live', timestamped: false, rotateMB: 0, rotateMinutes: 0, autoStart: true, wires: [['files']] },
        { id: 'files', type: 'helper' },
        ...catchAll(),
      ],
      CREDS,
    );
    const files = collect('files');
    const caught = collect('caught');
    const thr = collect('thr');
    const r = helper.getNode('r');
    await waitFor(() => thr.length >= 3, 8000, 'throttled frames');
    r.receive({ filename: 'after-switch', payload: 'from an inject node' });
    const atSwitch = thr.length;
    await waitFor(() => thr.length >= atSwitch + 3, 8000, 'more throttled frames');
    helper.getNode('in').receive({ payload: 'stop' });
    await sleep(300);
    r.receive({ topic: 'stop' });
    await waitFor(() => files.length === 2, 5000, 'two completed recordings');
    assert.deepEqual(files.map((m: Msg) => path.basename(m.filename)), ['live.mjpg', 'after-switch.mjpg']);
    assert.deepEqual((await fsp.readdir(dir)).sort(), ['after-switch.mjpg', 'live.mjpg']);
    const counts = files.map((m: Msg) => m.payload.frames as number);
    assert.ok(counts.every((n) => n >= 2), `frames per file ${counts}`);
    assert.equal(counts[0]! + counts[1]!, thr.length, 'every throttled frame recorded once');
    assert.deepEqual(caught.map((m: Msg) => m.error?.message), []);
  });
});
