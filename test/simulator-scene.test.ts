/**
 * The simulator's picture follows its PTZ head and shows its I/O: a snapshot
 * after a pan shows another part of the scene, an active output or virtual
 * input lights its lamp. Decoded from real image.cgi answers over sockets.
 */
import assert from 'node:assert/strict';
import * as jpeg from 'jpeg-js';
import { CameraHttpClient } from '../src/http';
import { PtzController, waitForStill } from '../src/ptz';
import { IoController } from '../src/io';
import { startSimulator, type CameraSimulator } from '../simulator';
import { frameCache } from '../simulator/frame-cache';

const W = 640;
const H = 480;

function decode(b: Buffer): { at(x: number, y: number): [number, number, number]; mean(x0: number, y0: number, x1: number, y1: number): [number, number, number] } {
  const img = jpeg.decode(b, { useTArray: true });
  const at = (x: number, y: number): [number, number, number] => {
    const i = (y * img.width + x) * 4;
    return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
  };
  return {
    at,
    mean(x0, y0, x1, y1) {
      const s = [0, 0, 0];
      let n = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const p = at(x, y);
          s[0] += p[0];
          s[1] += p[1];
          s[2] += p[2];
          n++;
        }
      }
      return [s[0]! / n, s[1]! / n, s[2]! / n];
    },
  };
}

describe('simulator picture: PTZ scene and I/O lamps', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;
  let client: CameraHttpClient | null = null;

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    sim = client = null;
  });

  const snapshot = async (): Promise<ReturnType<typeof decode>> => decode((await client!.fetchBuffer(`/axis-cgi/jpg/image.cgi?resolution=${W}x${H}`, { expect: 'jpeg' })).body);

  it('a pan moves the scene: the Home landmark in the middle at home, sky there after panning away', async () => {
    sim = await startSimulator({ ptz: true });
    client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port });
    // The middle, left of the cross-hair: the Home landmark (brown) at pan 0.
    const home = (await snapshot()).mean(296, 200, 316, 232);
    assert.ok(home[0] > home[2] + 40, `brown landmark expected, got ${home.map(Math.round)}`);
    const ptz = new PtzController(client);
    await ptz.send({ action: 'absolute', pan: -45 });
    await waitForStill((s) => ptz.position(s), { pollMs: 50 });
    const away = (await snapshot()).mean(296, 200, 316, 232);
    assert.ok(away[2] > away[0] + 40, `blue sky expected after the pan, got ${away.map(Math.round)}`);
  });

  it('a stream follows a move, and the views it passed are not rendered on once no stream shows them', async () => {
    sim = await startSimulator({ ptz: true });
    client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port });
    const res = await client.request(`/axis-cgi/mjpg/video.cgi?resolution=${W}x${H}&fps=10`, { expect: 'multipart' });
    let bytes = 0;
    const reading = (async () => {
      for await (const c of res.body) bytes += c.length;
    })().catch(() => {});
    const ptz = new PtzController(client);
    await ptz.send({ action: 'preset', preset: 'Parking' });
    await waitForStill((sg) => ptz.position(sg), { pollMs: 50 });
    res.abort();
    await reading;
    assert.ok(bytes > 0);
    // Past the "in use" window of every view the stream passed (2 s): no more encoding for them.
    await new Promise((r) => setTimeout(r, 2500));
    const before = frameCache.encoded;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(frameCache.encoded, before, 'frames were still being encoded for views no one shows');
  });

  it('an active output and virtual input light their lamps (top right), inactive ones are grey', async () => {
    sim = await startSimulator({ io: { inputs: 0, outputs: 1 } });
    client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port });
    const io = new IoController(client);
    // Lamps right to left: VI4 VI3 VI2 VI1 OUT0; scale 3 at 480 lines, lamp row from y=45.
    const vi4 = (img: ReturnType<typeof decode>): [number, number, number] => img.mean(W - 12, 48, W - 8, 52);
    const before = vi4(await snapshot());
    assert.ok(Math.abs(before[0] - before[1]) < 25, `grey lamp expected, got ${before.map(Math.round)}`);
    await io.virtualInput(4, true);
    const after = vi4(await snapshot());
    assert.ok(after[1] > after[0] + 80, `green lamp expected, got ${after.map(Math.round)}`);
  });
});
