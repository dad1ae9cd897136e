/**
 * The Dashboard 2.0 camera widget as a person sees it: a real Node-RED (child
 * process) with Dashboard 2.0 and the widget package installed as users
 * install them, the simulator as a 16-channel video encoder, and headless
 * Chromium (Debian's package, through playwright-core) on a page of 16 tiles.
 *
 * Checks what no unit test can: every tile shows pictures that change, all of
 * them over one WebSocket (no <img> stream, so the browser's 6 connections per
 * host do not matter), a hidden tab takes no frames and gets them back when
 * shown, and the widget's editor form lists the flow's streams.
 *
 * CI installs Chromium (scripts/e2e/tools.js): there a missing browser fails;
 * elsewhere the test skips and says why.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { startSimulator, type CameraSimulator } from '../simulator';
import { startNodeRed, type RunningNodeRed } from '../bench/fanout/nodered';
import { CHROMIUM, CHROMIUM_ARGS } from './support/browsers';

const TILES = 16;
const USER = 'root';
const PASSWORD = 'pass';
const PAGE_PATH = '/dashboard/wall';
const WAIT_MS = 60_000;

function flows(simPort: number): object[] {
  const tab = 'aa00000000000001';
  const cam = 'aa00000000000002';
  const base = 'aa00000000000003';
  const theme = 'aa00000000000004';
  const page = 'aa00000000000005';
  const group = 'aa00000000000006';
  const widgets = Array.from({ length: TILES }, (_, i) => ({
    id: `bb${String(i + 1).padStart(14, '0')}`, type: 'ui-axmjpeg-camera', z: tab, group, name: '', order: i + 1, width: '3', height: '2',
    source: cam, cameraNumber: String(i + 1), resolution: '160x120', label: `Cam ${i + 1}`, fps: 5, aspect: '16:9', fit: 'contain',
    overlay: true, snapshotButton: true, fullSize: true, topic: '', x: 100 + 150 * (i % 4), y: 100 + 50 * Math.floor(i / 4),
    // Tile 1's snapshots go to an mjpeg out, where the test fetches them.
    wires: [i === 0 ? ['aa00000000000007'] : []],
  }));
  return [
    { id: tab, type: 'tab', label: 'wall' },
    {
      id: cam, type: 'axmjpeg-camera', name: 'encoder', host: '127.0.0.1', port: String(simPort), protocol: 'http', auth: 'auto',
      resolution: '160x120', fps: '5', compression: '50', cameraNumber: '', stallTimeout: 10, linger: 0, maxFrameMB: 16,
      credentials: { user: USER, password: PASSWORD },
    },
    { id: 'aa00000000000007', type: 'axmjpeg-out', z: tab, name: 'gate out', url: '/gate', maxViewers: 20, fps: 0, stuckTimeout: 30, x: 100, y: 400, wires: [] },
    { id: base, type: 'ui-base', name: 'UI', path: '/dashboard', includeClientData: true, acceptsClientConfig: [], showPathInSidebar: false, navigationStyle: 'default', titleBarStyle: 'default' },
    { id: theme, type: 'ui-theme', name: 'theme', colors: { surface: '#ffffff', primary: '#0d74ce', bgPage: '#eeeeee', groupBg: '#ffffff', groupOutline: '#cccccc' }, sizes: { pagePadding: '8px', groupGap: '8px', groupBorderRadius: '4px', widgetGap: '8px' } },
    { id: page, type: 'ui-page', name: 'Wall', ui: base, path: '/wall', icon: 'home', layout: 'grid', theme, order: 1, visible: 'true', disabled: 'false',
      breakpoints: [{ name: 'Default', px: '0', cols: '12' }] },
    { id: group, type: 'ui-group', name: 'Cameras', page, width: '12', height: '1', order: 1, showTitle: false, visible: 'true', disabled: 'false', groupType: 'default' },
    ...widgets,
    ...['pause', 'resume'].map((word, i) => ({
      id: `aa0000000000001${i}`, type: 'inject', z: tab, name: word, props: [{ p: 'payload' }], repeat: '', crontab: '', once: false, onceDelay: 0.1,
      topic: '', payload: word, payloadType: 'str', x: 100, y: 500 + 40 * i, wires: [[widgets[0]!.id]],
    })),
  ];
}

/** Per tile: frames counted by the widget and a hash of its picture's pixels (0 while none). */
const TILE_PROBE = `(() => {
  const c = document.createElement('canvas');
  const g = c.getContext('2d', { willReadFrequently: true });
  return JSON.stringify([...document.querySelectorAll('.axmjpeg-tile')].map((t) => {
    const img = t.querySelector('img.axmjpeg-img');
    let hash = 0;
    if (img && img.complete && img.naturalWidth > 0) {
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 7) hash = (hash * 31 + d[i]) | 0;
    }
    return { state: t.dataset.state, frames: Number(t.dataset.frames), hash };
  }));
})()`;

type TileProbe = { state: string; frames: number; hash: number };

async function httpGet(url: string): Promise<{ status: number; body: Buffer }> {
  const r = await fetch(url);
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
}

async function httpPost(url: string): Promise<{ status: number }> {
  const r = await fetch(url, { method: 'POST' });
  await r.arrayBuffer();
  return { status: r.status };
}

describe('camera wall in headless Chromium (Dashboard 2.0 + ui-axmjpeg-camera in a real Node-RED)', function () {
  this.timeout(180_000);
  let sim: CameraSimulator;
  let red: RunningNodeRed;
  let context: BrowserContext | null = null;
  let userDataDir = '';

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: node scripts/e2e/tools.js installs it`);
      this.skip();
    }
    sim = await startSimulator({ auth: 'digest', username: USER, password: PASSWORD, cameras: TILES });
    red = await startNodeRed({ dashboardWidget: true });
    await red.deploy(flows(sim.port));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'axmjpeg-wall-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000, viewport: { width: 1600, height: 1200 } });
  });

  after(async function () {
    await context?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    await red?.stop();
    await sim?.close();
  });

  async function tiles(page: Page): Promise<TileProbe[]> {
    return JSON.parse(await page.evaluate(TILE_PROBE)) as TileProbe[];
  }

  async function until(what: string, cond: () => Promise<boolean>, ms = WAIT_MS): Promise<void> {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(250);
    }
  }

  it(`${TILES} tiles on one page all show changing pictures over one WebSocket; a hidden tab stops the traffic and the cameras`, async function () {
    const page = context!.pages()[0] ?? (await context!.newPage());
    const sockets: string[] = [];
    const streams: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    page.on('request', (r) => {
      if (r.resourceType() === 'image' && !r.url().startsWith('blob:')) streams.push(r.url());
    });
    await page.goto(`${red.base}${PAGE_PATH}`, { waitUntil: 'load', timeout: WAIT_MS });

    let first: TileProbe[] = [];
    await until(`${TILES} live tiles`, async () => {
      first = await tiles(page);
      return first.length === TILES && first.every((t) => t.hash !== 0 && t.state === 'live');
    });
    // The simulator's picture moves every frame: each tile's pixels must change.
    let changed: boolean[] = [];
    await until('every tile to change its picture', async () => {
      const now = await tiles(page);
      changed = now.map((t, i) => t.hash !== first[i]!.hash);
      return changed.every(Boolean);
    }, 20_000);
    const hashes = new Set((await tiles(page)).map((t) => t.hash));
    assert.ok(hashes.size >= TILES / 2, `tiles show ${hashes.size} different pictures: the channels are different cameras`);

    const wallSockets = sockets.filter((u) => u.includes('/axmjpeg-wall/ws'));
    assert.equal(wallSockets.length, 1, `one WebSocket for the video, got ${wallSockets.join(', ')}`);
    assert.deepEqual(streams, [], 'no <img> streams');
    const stats = JSON.parse(await page.evaluate('JSON.stringify(window.axmjpegCameraWall.stats())'));
    assert.equal(stats.length, 1);
    assert.equal(stats[0].sockets, 1);
    assert.equal(stats[0].tiles, TILES);
    assert.equal(sim.stats.activeStreams, TILES, 'one camera stream per channel');

    // The tab goes to the background. Headless Chromium keeps every tab 'visible' (no window to
    // occlude it), so the page is told what a browser tells a background tab: visibilityState
    // 'hidden' and a visibilitychange event; the widget's reaction to it is what is tested.
    await page.evaluate(`(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    })()`);
    await until('the wall to stop', async () => JSON.parse(await page.evaluate('JSON.stringify(window.axmjpegCameraWall.stats())'))[0].open === false, 10_000);
    const framesHidden = JSON.parse(await page.evaluate('JSON.stringify(window.axmjpegCameraWall.stats())'))[0].frames as number;
    await until('the cameras to be released (linger 0)', async () => sim.stats.activeStreams === 0, 15_000);
    await sleep(1500);
    const framesLater = JSON.parse(await page.evaluate('JSON.stringify(window.axmjpegCameraWall.stats())'))[0].frames as number;
    assert.equal(framesLater, framesHidden, 'no frames while hidden');

    await page.evaluate(`(() => {
      delete document.visibilityState;
      delete document.hidden;
      document.dispatchEvent(new Event('visibilitychange'));
    })()`);
    await until('the wall to play again', async () => {
      const s = JSON.parse(await page.evaluate('JSON.stringify(window.axmjpegCameraWall.stats())'))[0];
      return s.open === true && s.frames > framesLater + TILES;
    }, 20_000);
  });

  it('tiles scrolled out of view take no frames (their cameras are released) and play at once when scrolled back', async function () {
    // The same tab as the other tests (a second one would keep every camera streaming).
    const page = context!.pages()[0] ?? (await context!.newPage());
    try {
      // A short window: the wall's lower rows are below the fold.
      await page.setViewportSize({ width: 1600, height: 420 });
      await page.goto(`${red.base}${PAGE_PATH}`, { waitUntil: 'load', timeout: WAIT_MS });
      const inView = async (): Promise<boolean[]> =>
        JSON.parse(
          await page.evaluate(`JSON.stringify([...document.querySelectorAll('.axmjpeg-tile')].map((t) => {
            const r = t.getBoundingClientRect();
            return r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth;
          }))`),
        ) as boolean[];
      await until('the tiles in view to play', async () => {
        const [t, v] = [await tiles(page), await inView()];
        return t.length === TILES && t.every((x, i) => !v[i] || x.frames > 0);
      });
      const visible = await inView();
      const shown = visible.filter(Boolean).length;
      assert.ok(shown > 0 && shown < TILES, `${shown} of ${TILES} tiles in view: the window must cut the wall`);
      const before = await tiles(page);
      await sleep(2500);
      const after = await tiles(page);
      for (let i = 0; i < TILES; i++) {
        if (visible[i]) assert.ok(after[i]!.frames > before[i]!.frames, `tile ${i} in view keeps playing`);
        else assert.equal(after[i]!.frames, 0, `tile ${i} out of view never got a frame`);
      }
      await until('only the cameras in view streaming (linger 0)', async () => sim.stats.activeStreams === shown, 15_000);

      await page.evaluate(`document.querySelectorAll('.axmjpeg-tile')[${TILES - 1}].scrollIntoView()`);
      await until('the last tile to play once scrolled into view', async () => (await tiles(page))[TILES - 1]!.frames > 0, 15_000);
    } finally {
      await page.setViewportSize({ width: 1600, height: 1200 });
    }
  });

  it('the snapshot button sends the JPEG out of the node; pause and resume msgs reach the tile', async function () {
    const page = context!.pages()[0]!;
    await page.locator('.axmjpeg-tile').first().locator('.axmjpeg-snap').click();
    let jpeg: Buffer = Buffer.alloc(0);
    await until('the snapshot at /gate.jpg', async () => {
      const r = await httpGet(`${red.base}/gate.jpg`);
      jpeg = r.body;
      return r.status === 200;
    }, 15_000);
    assert.equal(jpeg.readUInt16BE(0), 0xffd8, 'a JPEG');
    const first = async (): Promise<TileProbe> => (await tiles(page))[0]!;
    assert.equal((await httpPost(`${red.base}/inject/aa00000000000010`)).status, 200);
    await until('tile 1 paused', async () => (await first()).state === 'paused', 10_000);
    const others = (await tiles(page)).slice(1);
    assert.ok(others.every((t) => t.state === 'live'), 'only the paused widget stops');
    assert.equal((await httpPost(`${red.base}/inject/aa00000000000011`)).status, 200);
    await until('tile 1 live again', async () => (await first()).state === 'live', 15_000);
  });

  it('falls back to polling stills when no WebSocket gets through, and every tile still plays', async function () {
    const page = await context!.newPage();
    try {
      // A proxy that refuses the upgrade: every wall socket is closed at once.
      await page.routeWebSocket(/axmjpeg-wall\/ws/, (ws) => ws.close());
      await page.goto(`${red.base}${PAGE_PATH}`, { waitUntil: 'load', timeout: WAIT_MS });
      let first: TileProbe[] = [];
      await until(`${TILES} tiles live on stills`, async () => {
        first = await tiles(page);
        return first.length === TILES && first.every((t) => t.hash !== 0 && t.state === 'live');
      });
      const stats = JSON.parse(await page.evaluate('JSON.stringify(window.axmjpegCameraWall.stats())'));
      assert.equal(stats[0].mode, 'polling');
      assert.equal(stats[0].sockets, 0, 'no socket ever opened');
      await until('every tile to change its picture on stills', async () => (await tiles(page)).every((t, i) => t.hash !== first[i]!.hash), 30_000);
    } finally {
      await page.setViewportSize({ width: 1600, height: 1200 });
    }
  });

  it("the widget's editor form lists the flow's MJPEG outputs and cameras and saves the choice", async function () {
    const page = await context!.newPage();
    try {
      await page.goto(`${red.base}/`, { waitUntil: 'load', timeout: WAIT_MS });
      await until('the editor to load the flow', async () => page.evaluate<boolean>('!!(window.RED && RED.nodes && RED.nodes.node("bb00000000000001"))').catch(() => false), WAIT_MS);
      await page.evaluate('RED.editor.edit(RED.nodes.node("bb00000000000001"))');
      await until('the edit dialog', async () => (await page.locator('#node-input-source option').count()) > 1, 20_000);
      const options = await page.locator('#node-input-source option').allTextContents();
      assert.ok(options.some((o) => o.includes('gate out') && o.includes('/gate')), `MJPEG output listed: ${options.join(' | ')}`);
      assert.ok(options.some((o) => o.includes('encoder')), `camera listed: ${options.join(' | ')}`);
      assert.equal(await page.locator('#node-input-source').inputValue(), 'aa00000000000002');
      assert.ok(await page.locator('#node-input-cameraNumber').isVisible(), 'channel shown for a camera source');
      await page.selectOption('#node-input-source', 'aa00000000000007');
      assert.equal(await page.locator('#node-input-cameraNumber').isVisible(), false, 'no channel for an MJPEG output');
      await page.fill('#node-input-fps', '2');
      await page.click('#node-dialog-ok');
      await until('the dialog to close', async () => (await page.locator('#node-input-source').count()) === 0, 10_000);
      const saved = JSON.parse(await page.evaluate('JSON.stringify((({source, fps}) => ({source, fps}))(RED.nodes.node("bb00000000000001")))'));
      assert.deepEqual(saved, { source: 'aa00000000000007', fps: '2' });
    } finally {
      await page.setViewportSize({ width: 1600, height: 1200 });
    }
  });
});
