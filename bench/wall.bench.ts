/**
 * Camera wall bench: 16 cameras on one page in headless Chromium, as 16
 * Dashboard 2.0 camera widgets (one WebSocket) and as 16 `<img>` tags on the
 * axmjpeg-out streams. Same Node-RED, same 16 axmjpeg-in → axmjpeg-out flows
 * (simulator channels 1..16, 320x240, 10 fps) in both runs, so the figures
 * differ only by how the page takes the pictures. Measured per run: CPU
 * seconds of Node-RED and of all Chromium processes, tiles showing pictures,
 * frames and bytes the page received.
 *
 *   npm run bench:wall   (needs /usr/bin/chromium)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator } from '../simulator';
import { startNodeRed } from './fanout/nodered';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/support/browsers';

const TILES = 16;
const RUN_MS = Number(process.env.WALL_BENCH_MS) || 20_000;
const CLK = Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;

function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
      ticks += Number(parts[11]) + Number(parts[12]);
    } catch {
      /* gone */
    }
  }
  return ticks / CLK;
}

function pidsMatching(text: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', text]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function flows(simPort: number): object[] {
  const tab = 'cc00000000000001';
  const cam = 'cc00000000000002';
  const nodes: object[] = [
    { id: tab, type: 'tab', label: 'wall bench' },
    { id: cam, type: 'axmjpeg-camera', name: 'encoder', host: '127.0.0.1', port: String(simPort), protocol: 'http', auth: 'none', resolution: '320x240', fps: '10', compression: '50', stallTimeout: 10, linger: 0, maxFrameMB: 16 },
    { id: 'cc00000000000003', type: 'ui-base', name: 'UI', path: '/dashboard', includeClientData: false, acceptsClientConfig: [], navigationStyle: 'default', titleBarStyle: 'default' },
    { id: 'cc00000000000004', type: 'ui-theme', name: 'theme', colors: { surface: '#ffffff', primary: '#0d74ce', bgPage: '#eeeeee', groupBg: '#ffffff', groupOutline: '#cccccc' }, sizes: { pagePadding: '8px', groupGap: '8px', groupBorderRadius: '4px', widgetGap: '8px' } },
    { id: 'cc00000000000005', type: 'ui-page', name: 'Wall', ui: 'cc00000000000003', path: '/wall', icon: 'home', layout: 'grid', theme: 'cc00000000000004', order: 1, visible: 'true', disabled: 'false', breakpoints: [{ name: 'Default', px: '0', cols: '12' }] },
    { id: 'cc00000000000006', type: 'ui-group', name: 'Cameras', page: 'cc00000000000005', width: '12', height: '1', order: 1, showTitle: false, visible: 'true', disabled: 'false', groupType: 'default' },
    {
      id: 'cc00000000000007', type: 'http in', z: tab, name: '', url: '/imgwall', method: 'get', upload: false, x: 100, y: 900, wires: [['cc00000000000008']],
    },
    {
      id: 'cc00000000000008', type: 'template', z: tab, name: '', field: 'payload', fieldType: 'msg', format: 'html', syntax: 'plain', output: 'str', x: 300, y: 900,
      template: `<!DOCTYPE html><html><body style="margin:0;display:grid;grid-template-columns:repeat(4,1fr);gap:4px">${Array.from({ length: TILES }, (_, i) => `<img style="width:100%" src="/cam/${i + 1}">`).join('')}</body></html>`,
      wires: [['cc00000000000009']],
    },
    { id: 'cc00000000000009', type: 'http response', z: tab, name: '', statusCode: '', headers: { 'content-type': 'text/html' }, x: 500, y: 900, wires: [] },
  ];
  for (let i = 1; i <= TILES; i++) {
    const n = String(i).padStart(2, '0');
    nodes.push(
      { id: `dd0000000000${n}01`, type: 'axmjpeg-in', z: tab, name: '', source: 'camera', camera: cam, resolution: '', fps: '', compression: '', cameraNumber: String(i), startOnDeploy: true, topic: '', x: 100, y: 50 * i, wires: [[`dd0000000000${n}02`]] },
      { id: `dd0000000000${n}02`, type: 'axmjpeg-out', z: tab, name: `cam ${i}`, url: `/cam/${i}`, maxViewers: 20, maxPerAddress: 20, fps: 0, stuckTimeout: 30, x: 300, y: 50 * i, wires: [] },
      {
        id: `dd0000000000${n}03`, type: 'ui-axmjpeg-camera', z: tab, group: 'cc00000000000006', name: '', order: i, width: '3', height: '3', source: `dd0000000000${n}02`, cameraNumber: '', resolution: '',
        label: `Cam ${i}`, fps: 0, aspect: '4:3', fit: 'contain', overlay: true, snapshotButton: false, fullSize: false, topic: '', x: 500, y: 50 * i, wires: [[]],
      },
    );
  }
  return nodes;
}

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing`);
  const sim = await startSimulator({ auth: 'none', cameras: TILES });
  const red = await startNodeRed({ dashboardWidget: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'axmjpeg-wall-bench-'));
  try {
    await red.deploy(flows(sim.port));
    for (let i = 1; i <= TILES; i++) await red.waitForFrames(`/cam/${i}`);
    const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1600, height: 1300 } });
    const page = context.pages()[0] ?? (await context.newPage());
    const rows: string[] = [];
    for (const mode of ['idle', 'widgets', 'img'] as const) {
      await page.goto(mode === 'widgets' ? `${red.base}/dashboard/wall` : mode === 'img' ? `${red.base}/imgwall` : 'about:blank', { waitUntil: 'domcontentloaded' });
      await sleep(5000); // settle: first frames, cycles rendered
      const before = { red: cpuSeconds([red.pid]), browser: cpuSeconds(pidsMatching(userDataDir)) };
      const stats0 = mode === 'widgets' ? JSON.parse(await page.evaluate('JSON.stringify(window.axmjpegCameraWall.stats()[0])')) : null;
      await sleep(RUN_MS);
      const cpu = { red: cpuSeconds([red.pid]) - before.red, browser: cpuSeconds(pidsMatching(userDataDir)) - before.browser };
      let shown = 0;
      let detail = '';
      if (mode === 'widgets') {
        const s = JSON.parse(await page.evaluate('JSON.stringify(window.axmjpegCameraWall.stats()[0])'));
        shown = Number(await page.evaluate(`[...document.querySelectorAll('.axmjpeg-tile')].filter((t) => t.dataset.state === 'live').length`));
        const frames = s.frames - stats0.frames;
        const bytes = s.bytes - stats0.bytes;
        detail = `${(frames / TILES / (RUN_MS / 1000)).toFixed(1)} fps/tile, ${((bytes / TILES / (RUN_MS / 1000)) / 1024).toFixed(0)} KiB/s/tile, ${s.sockets} socket`;
      } else if (mode === 'img') {
        shown = Number(await page.evaluate(`[...document.images].filter((i) => i.naturalWidth > 0).length`));
        detail = `${TILES - shown} of ${TILES} <img> never loaded (6 connections per host)`;
      }
      const sec = RUN_MS / 1000;
      rows.push(`| ${mode} | ${shown}/${mode === 'idle' ? 0 : TILES} | ${((cpu.red / sec) * 100).toFixed(0)} % | ${((cpu.browser / sec) * 100).toFixed(0)} % | ${detail} |`);
      console.log(rows.at(-1));
    }
    await context.close();
    console.log(`\n${TILES} cameras 320x240 at 10 fps, ${RUN_MS / 1000} s per run, Node.js ${process.version}\n| page | tiles showing | Node-RED CPU | Chromium CPU | |\n|---|---|---|---|---|\n${rows.join('\n')}`);
  } finally {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    await red.stop();
    await sim.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
