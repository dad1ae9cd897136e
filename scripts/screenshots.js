#!/usr/bin/env node
'use strict';
/**
 * README screenshots of the `npm start` demo, taken with headless Chromium:
 * the Node-RED editor (live-view tab, and the clip-on-motion tab with the
 * debug sidebar showing alerts), the /camera page and the Dashboard 2.0 page,
 * and last the /camera page once the camera is stopped ("camera offline").
 *
 *   node scripts/screenshots.js [--out DIR] [--verbose]
 *
 * Runs `node scripts/demo.js` as a child in a temporary user folder on free
 * ports, waits for its printed URLs, saves PNGs (default docs/screenshots/) and
 * stops the demo. Uses the build in dist/ (or $OUT_DIR, passed on to the demo).
 * Needs Chromium at $CHROMIUM or /usr/bin/chromium and playwright-core (dev dependency).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort, request } = require('./lib/http-check');
const { stopChild } = require('./lib/child');

const ROOT = path.resolve(__dirname, '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Big enough to read the editor, small enough that each PNG stays around 300 KB or less. */
const VIEWPORT = { width: 1280, height: 800 };
/** Node-RED start, deploy and the first frames; a slow CI machine needs more. */
const DEMO_READY_TIMEOUT_MS = 90_000;
const PAGE_TIMEOUT_MS = 30_000;
/** The demo cuts a motion clip every 15 s: wait for the first "clip ready" in the debug sidebar. */
const CLIP_ALERT_TIMEOUT_MS = 40_000;
/** Lets a few more frames arrive after the first, so the picture is not the first one decoded. */
const SETTLE_MS = 1500;
const STOP_GRACE_MS = 10_000;
/** The live view's offline picture comes 5 s after the camera stopped (axmjpeg-out's default). */
const OFFLINE_TIMEOUT_MS = 30_000;
const WARN_BYTES = 300 * 1024;
/** The clip-on-motion flow is wider than the canvas at 100 %: zoom steps of 0.1 down to 70 %. */
const WIDE_FLOW_ZOOM_OUT_STEPS = 3;

function parseArgs(argv) {
  const o = { out: path.join(ROOT, 'docs', 'screenshots'), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') o.out = path.resolve(argv[++i] ?? '');
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/screenshots.js [--out DIR] [--verbose]');
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the demo and resolves with its Node-RED base URL once it printed "Demo running" and the URL table. */
function startDemo(port, userDir, verbose) {
  const child = spawn(process.execPath, [path.join(__dirname, 'demo.js'), '--port', String(port), '--sim-port', '0', '--user-dir', userDir], {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo not ready within ${DEMO_READY_TIMEOUT_MS} ms:\n${out.slice(-3000)}`)), DEMO_READY_TIMEOUT_MS);
    const onData = (c) => {
      const s = c.toString('utf8');
      out += s;
      if (verbose) process.stdout.write(s);
      const m = /Node-RED editor\s+(http:\/\/\S+?)\/?\s/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (${code ?? signal}) before it was ready:\n${out.slice(-3000)}`));
    });
  });
  return { child, ready };
}

/** Waits until every <img> matching `selector` shows a decoded frame. */
async function waitForFrame(page, selector) {
  await page.waitForFunction(
    (sel) => {
      const imgs = [...document.querySelectorAll(sel)];
      return imgs.length > 0 && imgs.every((i) => i.complete !== undefined && i.naturalWidth > 0);
    },
    selector,
    { timeout: PAGE_TIMEOUT_MS },
  );
}

/** Opens the editor tab whose label is `label` (the tab list is rendered once the flows are loaded). */
async function openEditorTab(page, label) {
  const tab = page.locator('#red-ui-workspace-tabs li.red-ui-tab', { hasText: label }).first();
  await tab.waitFor({ timeout: PAGE_TIMEOUT_MS });
  await tab.locator('a').first().click();
  // The canvas draws this tab's nodes as g.red-ui-flow-node groups.
  await page.waitForFunction(() => document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node').length > 3, null, { timeout: PAGE_TIMEOUT_MS });
  // Away from the tab, so its tooltip is not in the picture.
  await page.mouse.move(VIEWPORT.width / 2, VIEWPORT.height - 40);
}

async function save(page, dir, name, fullPage = false) {
  const file = path.join(dir, name);
  await page.screenshot({ path: file, fullPage });
  const size = fs.statSync(file).size;
  console.log(`${path.relative(process.cwd(), file) || file}: ${(size / 1024).toFixed(0)} KB${size > WARN_BYTES ? ' (larger than wanted)' : ''}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.out, { recursive: true });
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'axis-mjpeg-shots-'));
  const port = await freePort();
  const demo = startDemo(port, userDir, opts.verbose);
  let browser = null;
  try {
    const base = await demo.ready;
    console.log(`demo running at ${base}/`);
    const { chromium } = require('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: PAGE_TIMEOUT_MS });
    const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light' });
    const page = await context.newPage();

    // 'domcontentloaded' everywhere: a page with a live MJPEG <img> need not ever fire 'load'.
    await page.goto(`${base}/camera`, { waitUntil: 'domcontentloaded' });
    await waitForFrame(page, 'img#live');
    await page.click('#snap');
    await waitForFrame(page, 'img#live, img#still');
    await sleep(SETTLE_MS);
    // Full page: the snapshot is below the live view.
    await save(page, opts.out, 'camera-page.png', true);

    await page.goto(`${base}/dashboard/camera`, { waitUntil: 'domcontentloaded' });
    await waitForFrame(page, 'img[src*="/live"]');
    // The snapshot button fills the "last snapshot" image beside the live view.
    const button = page.getByRole('button', { name: /snapshot/i }).first();
    if (await button.count()) {
      await button.click();
      await page.waitForFunction(() => [...document.querySelectorAll('img')].filter((i) => i.naturalWidth > 0).length >= 2, null, { timeout: PAGE_TIMEOUT_MS }).catch(() => {
        console.log('warning: the last-snapshot image did not appear');
      });
    }
    await sleep(SETTLE_MS);
    await save(page, opts.out, 'dashboard.png');

    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
    await openEditorTab(page, 'Axis: live view');
    await sleep(SETTLE_MS);
    await save(page, opts.out, 'editor-live-view.png');

    // The debug sidebar with the alerts: motion start, snapshots from camera events, clips.
    await openEditorTab(page, 'Axis: clip on motion');
    await page.evaluate((steps) => {
      const RED = window.RED;
      RED.menu.setSelected('menu-item-palette', false);
      for (let i = 0; i < steps; i++) RED.actions.invoke('core:zoom-out');
      RED.sidebar.show('debug');
    }, WIDE_FLOW_ZOOM_OUT_STEPS);
    await page
      .waitForFunction(() => [...document.querySelectorAll('.red-ui-debug-msg-name')].some((e) => /clip ready/.test(e.textContent || '')), null, {
        timeout: CLIP_ALERT_TIMEOUT_MS,
      })
      .catch(() => console.log('warning: no "clip ready" msg in the debug sidebar yet'));
    await sleep(SETTLE_MS);
    await save(page, opts.out, 'editor-clip-on-motion.png');

    // Example 09's control page: the camera turned to the Door preset, the siren output's lamp lit.
    await page.goto(`${base}/camera/control`, { waitUntil: 'domcontentloaded' });
    await waitForFrame(page, 'img#live');
    await page.click('button[data-preset="Door"]');
    await page.waitForFunction(() => /to Door: /.test(document.getElementById('status')?.textContent || ''), null, { timeout: PAGE_TIMEOUT_MS });
    // The 202 comes at once; the head then needs about a second, and a new view a moment to be drawn.
    await sleep(2500);
    await page.click('#pulse');
    await sleep(SETTLE_MS);
    await save(page, opts.out, 'camera-control.png');

    // Last: the camera goes away (the demo's SIGUSR2) and the live view says so instead of freezing.
    demo.child.kill('SIGUSR2');
    await page.goto(`${base}/camera`, { waitUntil: 'domcontentloaded' });
    const t0 = Date.now();
    for (;;) {
      const r = await request(`${base}/camera/live.jpg`);
      if (r.headers['x-source-offline'] === '1') break;
      if (Date.now() - t0 > OFFLINE_TIMEOUT_MS) throw new Error(`no offline picture ${OFFLINE_TIMEOUT_MS} ms after the camera stopped`);
      await sleep(250);
    }
    await waitForFrame(page, 'img#live');
    await sleep(SETTLE_MS);
    await save(page, opts.out, 'camera-offline.png');
  } finally {
    if (browser) await browser.close();
    await stopChild(demo.child, STOP_GRACE_MS);
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`screenshots failed: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
