import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CameraHttpClient } from '../src/http';
import { parseParamList } from '../src/device-info';
import { fetchVideoSources, parseVideoSources } from '../src/video-sources';
import { startSimulator, type CameraSimulator } from '../simulator';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'axis', 'kane610-axis', 'param-cgi');

describe('video sources and view areas (param.cgi root.Image / root.ImageSource)', function () {
  this.timeout(20_000);
  let sim: CameraSimulator | null = null;
  let client: CameraHttpClient | null = null;
  afterEach(async () => {
    await client?.close();
    client = null;
    await sim?.close();
    sim = null;
  });

  it('a real M1065-LW list: the enabled view area with its resolution; the disabled one and quad are not offered', () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'param-all-M1065-LW.txt'), 'latin1');
    assert.deepEqual(parseVideoSources(parseParamList(text).values), [{ camera: '1', name: 'View Area 1', resolution: '1920x1080' }]);
  });

  it('hostile values: names cleaned and capped, odd resolutions dropped, the count bounded', () => {
    const values: Record<string, string> = { 'root.ImageSource.NbrOfSources': '1' };
    for (let i = 0; i < 100; i++) {
      values[`root.Image.I${i}.Name`] = `x\u0007${'n'.repeat(200)}`;
      values[`root.Image.I${i}.Appearance.Resolution`] = i === 0 ? '<b>big</b>' : '640x480';
    }
    const list = parseVideoSources(values);
    assert.equal(list.length, 32);
    assert.equal(list[0]!.resolution, null);
    assert.equal(list[0]!.name.length, 64);
    assert.ok(!list[0]!.name.includes('\u0007'));
  });

  it('a simulated multi-sensor camera with view areas: every listed source streams, quad too, nothing else', async () => {
    sim = await startSimulator({ auth: 'digest', cameras: 3, viewAreas: 2, defaultResolution: '320x240' });
    client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port, username: 'root', password: 'pass' });
    const list = await fetchVideoSources(client);
    assert.deepEqual(list, [
      { camera: '1', name: 'Camera 1', resolution: '320x240', sensor: 'Sensor 1' },
      { camera: '2', name: 'Camera 2', resolution: '320x240', sensor: 'Sensor 2' },
      { camera: '3', name: 'Camera 3', resolution: '320x240', sensor: 'Sensor 3' },
      { camera: '4', name: 'View Area 1', resolution: '800x600', sensor: 'Sensor 1' },
      { camera: '5', name: 'View Area 2', resolution: '800x600', sensor: 'Sensor 1' },
      { camera: 'quad', name: 'Quad view', resolution: null },
    ]);
    for (const s of list) {
      const img = await client.fetchBuffer(`/axis-cgi/jpg/image.cgi?camera=${s.camera}&resolution=160x120`, { expect: 'jpeg' });
      assert.match(img.body.toString('latin1'), new RegExp(`cam=${s.camera === 'quad' ? 0 : s.camera}`));
    }
    const six = await client.fetchBuffer('/axis-cgi/jpg/image.cgi?camera=6');
    assert.match(six.body.toString(), /Camera 6 not available/);
  });

  it('a single-sensor simulator answers like the real firmware: one "View Area 1", no quad', async () => {
    sim = await startSimulator({ auth: 'none' });
    client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port });
    assert.deepEqual(await fetchVideoSources(client), [{ camera: '1', name: 'View Area 1', resolution: '640x480' }]);
    const quad = await client.fetchBuffer('/axis-cgi/jpg/image.cgi?camera=quad');
    assert.match(quad.body.toString(), /Camera quad not available/);
  });
});
