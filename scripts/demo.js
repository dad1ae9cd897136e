#!/usr/bin/env node
'use strict';
/**
 * The demo behind `npm start`: a simulated Axis camera, a real Node-RED with
 * this package and Dashboard 2.0, and the example flows (examples/*.json)
 * deployed against the simulator. Offline, no settings needed.
 *
 *   node scripts/demo.js            run until Ctrl-C
 *   node scripts/demo.js --check    start everything, check the video really
 *                                   flows end to end, print PASS/FAIL, exit
 *   node scripts/demo.js --https    the camera is HTTPS-only (AXIS OS 13 style,
 *                                   self-signed certificate made at start-up,
 *                                   Basic over https); the camera config node
 *                                   trusts exactly that certificate (pinned)
 *
 * Options: --port N (Node-RED; else $PORT, else 1880, else a free port),
 *          --sim-port N (simulator; else 8090, else a free port),
 *          --user-dir DIR (else .demo/; --check uses a fresh temporary folder),
 *          --verbose (--check: show Node-RED's log).
 * Uses the build in dist/ (or $OUT_DIR, like scripts/build.js) and the
 * devDependency node-red, or the one $NODE_RED_DIR names.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { freePort, request, isWholeJpeg, countParts } = require('./lib/http-check');
const { writeNodeRedSettings } = require('./lib/nodered-settings');
const { stopChild } = require('./lib/child');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.resolve(ROOT, process.env.OUT_DIR || 'dist');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const EXAMPLES_DIR = path.join(ROOT, 'examples');
const DASHBOARD_PKG = '@flowfuse/node-red-dashboard';
/** The Dashboard 2.0 camera widget: a package of its own in dashboard/, with its own examples. */
const WIDGET_DIR = path.join(ROOT, 'dashboard');
const WIDGET_PKG = JSON.parse(fs.readFileSync(path.join(WIDGET_DIR, 'package.json'), 'utf8'));
/** The simulated camera is a 12-channel video encoder, so the camera wall shows 12 different pictures. */
const SIM_CHANNELS = 12;
/** Config nodes the examples each bring (so each imports alone) but the demo needs once. */
const SHARED_CONFIG_TYPES = new Set(['axmjpeg-camera', 'ui-base', 'ui-theme']);

const HOST = '127.0.0.1';
const SIM_PREFERRED_PORT = 8090;
const NODE_RED_DEFAULT_PORT = 1880;
const SIM_USER = 'root';
const SIM_PASSWORD = 'pass';
/** Only protects the demo's flows_cred.json; fixed so a restart can read it. */
const CREDENTIAL_SECRET = 'axis-mjpeg-demo-credential-secret';

/** Node-RED needs a few seconds to load; a slow CI machine more. */
const ADMIN_READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 250;
const FLOWS_START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** --check: frames the live view must deliver, and how long it may take. */
const CHECK_FRAMES = 5;
const CHECK_STREAM_TIMEOUT_MS = 30_000;
/** Frames recorded from the simulator as the file the playback example plays. */
const SAMPLE_FRAMES = 30;
const SAMPLE_FILE = path.join('recordings', 'sample.mjpg');
/** The simulated camera detects motion this often, so the alert example fires by itself. */
const DEMO_MOTION_PERIOD_MS = 30_000;
/** Where example 03 saves snapshots (file node: relative to fileWorkingDirectory = the user dir). */
const SNAPSHOT_DIR = 'camera-snapshots';
/** Where example 07 saves the JPEG that started a motion (the simulator's moving square). */
const MOTION_DIR = 'camera-motion';
/** Where example 08 records a clip per motion (axmjpeg-record: relative to the user dir). */
const CLIP_DIR = 'motion-clips';
/**
 * The simulated picture never stops moving, so motion never stops and a clip
 * would never end: the demo cuts clips after 15 s (the example: 5 min) ...
 */
const DEMO_CLIP_MINUTES = 0.25;
/** ... and keeps only the newest clips, so a demo left running does not fill the disk. */
const DEMO_CLIPS_KEPT = 10;
const CLIP_PRUNE_INTERVAL_MS = 30_000;
/** --check: the offline picture must replace the live view this soon after the camera goes away (node default: 5 s down). */
const CHECK_OFFLINE_TIMEOUT_MS = 30_000;
/** --check: how long a file that just appeared may take to be written whole. */
const FILE_SETTLE_MS = 2000;
/** --check: motion is switched on and off this often until the alert flow has saved a snapshot. */
const CHECK_MOTION_TOGGLE_MS = 500;
/** Where example 09 saves the snapshot taken once the camera has turned to the door. */
const PTZ_DIR = 'camera-ptz';
/** Example 09's presets: where motion sends the camera, and where `GET /camera/ptz?preset=` is checked to. */
const PTZ_ALARM_PRESET = 'Door';
const PTZ_CHECK_PRESET = 'Parking';
/** Example 09's siren output (the simulator's default ports: input 0, output 1) and its pulse. */
const SIREN_PORT = '1';
/** Where example 04 records (axmjpeg-record: relative to the user dir). */
const TIMELAPSE_FILE = path.join('timelapse', 'camera.mjpg');
/** The demo's time-lapse keeps one frame every 5 s instead of every minute, so the file visibly grows. */
const DEMO_TIMELAPSE_FPS = 0.2;

const URLS = {
  page: '/camera',
  live: '/camera/live',
  snapshot: '/camera/snapshot',
  dashboard: '/dashboard/camera',
  dashboardLive: '/dashboard-camera/live',
  wall: '/dashboard/wall',
  widget: '/dashboard/camera-widget',
  wallTicket: '/axmjpeg-wall/ticket',
  processed: '/camera/processed',
  playback: '/camera/playback',
  alert: '/camera/alert',
  ptz: '/camera/ptz',
  pulse: '/camera/io/pulse',
  control: '/camera/control',
  controlLive: '/camera/control/live',
};

// ------------------------------------------------------------------ arguments

function parseArgs(argv) {
  const o = { check: false, verbose: false, https: false, port: null, simPort: null, userDir: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`missing value for ${a}`);
      return v;
    };
    const port = (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`bad port for ${a}: ${v}`);
      return n;
    };
    if (a === '--check') o.check = true;
    else if (a === '--https') o.https = true;
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else if (a === '--port' || a === '-p') o.port = port(value());
    else if (a === '--sim-port') o.simPort = port(value());
    else if (a === '--user-dir' || a === '-u') o.userDir = path.resolve(value());
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/demo.js [--check] [--https] [--port N] [--sim-port N] [--user-dir DIR] [--verbose]');
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return o;
}

// ------------------------------------------------------------------ helpers

/** Relative to the working directory when inside it, else absolute. */
function displayPath(p) {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const since = (t0) => `${((Date.now() - t0) / 1000).toFixed(2)} s`;

/** True if nothing listens on HOST:port right now. */
function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

// ------------------------------------------------------------------ simulator

/** The node files read by Node-RED and the simulator required here, outside the project with OUT_DIR. */
const NODE_PATH = [path.join(ROOT, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);

function loadDist(rel) {
  const file = path.join(DIST, rel);
  if (path.relative(ROOT, DIST).startsWith('..') && process.env.NODE_PATH !== NODE_PATH) {
    // A build outside the project cannot find undici & co. by walking up: tell Node where they are.
    process.env.NODE_PATH = NODE_PATH;
    require('node:module').Module._initPaths();
  }
  try {
    return require(file);
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).startsWith(`Cannot find module '${file}'`)) {
      throw new Error(`${path.relative(ROOT, file)} is missing: build first (npm run build; npm start does it)`);
    }
    throw e;
  }
}

/**
 * --https: one certificate for the whole run, so the camera coming back after
 * SIGUSR2 still matches the pin (a real camera keeps its certificate too).
 */
let demoCertificate = null;

/** How the demo reaches the camera: http + Digest, or (--https) https + Basic with the certificate pinned. */
function cameraAccess(sim) {
  return demoCertificate
    ? { protocol: 'https', port: sim.port, tls: { pinSha256: demoCertificate.sha256 } }
    : { protocol: 'http', port: sim.port };
}

async function startCameraSimulator(port) {
  const { startSimulator } = loadDist('simulator');
  // A PTZ head and I/O for example 09 (presets Home, Door, Parking, Entrée; input 0, output 1): the picture
  // pans and zooms with the head and shows the ports and virtual inputs as lamps.
  const opts = demoCertificate
    ? { host: HOST, auth: 'per-scheme', httpsOnly: true, https: demoCertificate, username: SIM_USER, password: SIM_PASSWORD, ptz: true, io: { inputs: 1, outputs: 1 }, cameras: SIM_CHANNELS }
    : { host: HOST, auth: 'digest', username: SIM_USER, password: SIM_PASSWORD, ptz: true, io: { inputs: 1, outputs: 1 }, cameras: SIM_CHANNELS };
  try {
    return await startSimulator({ ...opts, port });
  } catch (e) {
    if (!e || e.code !== 'EADDRINUSE' || port === 0) throw e;
    return startSimulator({ ...opts, port: 0 });
  }
}

/** Records the simulator's stream as a .mjpg file for the playback example. */
async function recordSample(sim, file) {
  const { CameraHttpClient } = loadDist('src/http');
  const client = new CameraHttpClient({ ...cameraAccess(sim), host: HOST, username: SIM_USER, password: SIM_PASSWORD });
  try {
    const res = await client.request(`/axis-cgi/mjpg/video.cgi?resolution=320x240&fps=15&nbrofframes=${SAMPLE_FRAMES}`, { expect: 'multipart' });
    const chunks = [];
    for await (const chunk of res.body) chunks.push(chunk);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.concat(chunks));
  } finally {
    await client.close();
  }
}

// ------------------------------------------------------------------ user dir

/** The devDependency, or the Node-RED $NODE_RED_DIR names (test/support/node-red-runtime.ts). */
let runtime = null;
function nodeRed() {
  if (!runtime) runtime = loadDist('test/support/node-red-runtime').nodeRedRuntime(ROOT);
  return runtime;
}

function symlink(target, link) {
  fs.mkdirSync(path.dirname(link), { recursive: true });
  try {
    const st = fs.lstatSync(link);
    if (st.isSymbolicLink() || st.isFile()) fs.unlinkSync(link);
    else fs.rmSync(link, { recursive: true, force: true });
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  fs.symlinkSync(target, link, process.platform === 'win32' ? 'junction' : 'dir');
}

/**
 * The core file node creates the file before it has written it: a file that
 * just appeared may still be growing, so it gets a moment to become whole.
 */
async function wholeJpegFile(file) {
  const end = Date.now() + FILE_SETTLE_MS;
  while (!isWholeJpeg(fs.readFileSync(file))) {
    if (Date.now() > end) throw new Error(`${file} is not a whole JPEG ${FILE_SETTLE_MS} ms after it appeared`);
    await sleep(50);
  }
}

/**
 * Node-RED finds this package through <userDir>/node_modules. With the normal
 * dist/ that is a symlink to the project; with OUT_DIR it is a small folder whose
 * dist/ points at OUT_DIR (the package.json paths say dist/...), beside the
 * project's examples/ and resources/ (the editor's shared script, which
 * Node-RED serves from the package root).
 */
function linkPackage(userDir) {
  const link = path.join(userDir, 'node_modules', PKG.name);
  if (DIST === path.join(ROOT, 'dist')) return symlink(ROOT, link);
  try {
    fs.rmSync(link, { recursive: true, force: true });
  } catch { /* absent */ }
  fs.mkdirSync(link, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(link, 'package.json'));
  symlink(DIST, path.join(link, 'dist'));
  symlink(EXAMPLES_DIR, path.join(link, 'examples'));
  symlink(path.join(ROOT, 'resources'), path.join(link, 'resources'));
}

/** Dashboard 2.0 in <userDir>/node_modules, unless Node-RED already finds it next to itself. */
function linkDashboard(userDir) {
  let dir;
  try {
    dir = path.dirname(require.resolve(`${DASHBOARD_PKG}/package.json`, { paths: [ROOT] }));
  } catch {
    return false;
  }
  const redDir = nodeRed().dir;
  // Node-RED scans the node_modules folder it is installed in: a second copy would be a duplicate.
  if (path.dirname(redDir) === path.dirname(path.dirname(dir))) return true;
  symlink(dir, path.join(userDir, 'node_modules', DASHBOARD_PKG));
  return true;
}

/**
 * The camera widget as Node-RED and Dashboard 2.0 find an installed one: in
 * <userDir>/node_modules (Node-RED loads its node) and among the dependencies
 * of <userDir>/package.json (the dashboard serves only widgets named there).
 */
function linkWidget(userDir) {
  symlink(WIDGET_DIR, path.join(userDir, 'node_modules', WIDGET_PKG.name));
  const file = path.join(userDir, 'package.json');
  let pkg = { name: 'axmjpeg-demo', description: 'Node-RED user dir of npm start', version: '0.0.0', private: true };
  try {
    pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    /* a new user dir */
  }
  pkg.dependencies = { ...pkg.dependencies, [WIDGET_PKG.name]: `file:${WIDGET_DIR}` };
  fs.writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
}

function writeSettings(userDir) {
  return writeNodeRedSettings(userDir, {
    writer: 'scripts/demo.js on every start',
    host: HOST, // the editor has no login: loopback only
    credentialSecret: CREDENTIAL_SECRET,
    lines: [`uiPort: Number(process.env.PORT) || ${NODE_RED_DEFAULT_PORT},`, `fileWorkingDirectory: ${JSON.stringify(userDir)},`],
  });
}

function prepareUserDir(userDir) {
  fs.mkdirSync(userDir, { recursive: true });
  linkPackage(userDir);
  const dashboard = linkDashboard(userDir);
  if (dashboard) linkWidget(userDir);
  const settings = writeSettings(userDir);
  return { settings, dashboard };
}

// ------------------------------------------------------------------ flows

function readExamples() {
  const read = (dir, prefix) =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((file) => ({ file: prefix + file, flow: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) }));
  return [...read(EXAMPLES_DIR, ''), ...read(path.join(WIDGET_DIR, 'examples'), 'dashboard/examples/')];
}

/**
 * The examples, pointed at the simulator: one camera config node for all of
 * them (so equal streams share one camera connection), files under the user dir.
 */
function demoFlows(examples, sim, userDir) {
  const nodes = [];
  const first = new Map();
  const replaced = new Map();
  for (const { flow } of examples) {
    for (const n of flow) {
      if (!SHARED_CONFIG_TYPES.has(n.type)) continue;
      if (!first.has(n.type)) first.set(n.type, n.id);
      else if (first.get(n.type) !== n.id) replaced.set(n.id, first.get(n.type));
    }
  }
  const seen = new Set();
  for (const { flow } of examples) {
    for (const orig of flow) {
      // Also the same ui-base/ui-theme (same id) brought by two examples: once.
      if (replaced.has(orig.id) || seen.has(orig.id)) continue;
      seen.add(orig.id);
      const n = JSON.parse(JSON.stringify(orig));
      for (const [k, v] of Object.entries(n)) if (typeof v === 'string' && replaced.has(v)) n[k] = replaced.get(v);
      if (n.type === 'axmjpeg-camera') {
        const access = cameraAccess(sim);
        Object.assign(n, { name: 'Simulated camera', host: HOST, port: String(sim.port), protocol: access.protocol, auth: 'auto' });
        if (access.tls) n.pinSha256 = access.tls.pinSha256;
        n.credentials = { user: SIM_USER, password: SIM_PASSWORD };
      } else if (n.type === 'axmjpeg-in' && n.source === 'file') {
        n.file = path.join(userDir, SAMPLE_FILE);
      } else if (n.type === 'axmjpeg-throttle' && n.mode === 'fps' && Number(n.fps) < DEMO_TIMELAPSE_FPS) {
        n.fps = DEMO_TIMELAPSE_FPS;
        n.name = '1 frame / 5 s (demo)';
      } else if (n.type === 'axmjpeg-record' && String(n.filename).startsWith(`${CLIP_DIR}/`)) {
        n.rotateMinutes = DEMO_CLIP_MINUTES;
        n.name = `motion clips (${DEMO_CLIP_MINUTES * 60} s max, demo)`;
      }
      nodes.push(n);
    }
  }
  return nodes;
}

/** Types the running Node-RED knows, from GET /nodes. */
async function installedTypes(base) {
  const r = await request(`${base}/nodes`, { headers: { Accept: 'application/json' } });
  if (r.status !== 200) throw new Error(`GET /nodes: HTTP ${r.status}`);
  const sets = JSON.parse(r.body.toString('utf8'));
  const types = new Set(['tab', 'group', 'subflow', 'junction']);
  const errors = [];
  for (const s of sets) {
    if (s.enabled !== false && s.loaded !== false) for (const t of s.types || []) types.add(t);
    if (s.err) errors.push(`${s.module}/${s.name}: ${s.err}`);
  }
  return { types, errors };
}

async function deploy(base, flows) {
  const r = await request(`${base}/flows`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Node-RED-API-Version': 'v1',
      'Node-RED-Deployment-Type': 'full',
    },
    body: JSON.stringify(flows),
  });
  if (r.status !== 204 && r.status !== 200) throw new Error(`deploy failed: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 300)}`);
}

/** Example 08's clips, oldest first (the names carry the local start time). */
function clipFiles(userDir) {
  const dir = path.join(userDir, CLIP_DIR);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.mjpg')).sort().map((f) => path.join(dir, f)) : [];
}

function pruneClips(userDir) {
  const files = clipFiles(userDir);
  for (const f of files.slice(0, Math.max(0, files.length - DEMO_CLIPS_KEPT))) fs.rmSync(f, { force: true });
}

/** The JPEGs of an axmjpeg-record file, read by each part's Content-Length; throws on a malformed part. */
function recordedParts(file) {
  const buf = fs.readFileSync(file);
  const parts = [];
  let at = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    const head = end < 0 ? '' : buf.subarray(at, end).toString('latin1');
    const len = /Content-Length: (\d+)/i.exec(head);
    if (!head.startsWith('--') || !len) throw new Error(`${path.basename(file)}: no part header at byte ${at}`);
    const jpeg = buf.subarray(end + 4, end + 4 + Number(len[1]));
    if (!isWholeJpeg(jpeg)) throw new Error(`${path.basename(file)}: part ${parts.length + 1} is not a whole JPEG`);
    const ts = /X-Timestamp: (\d+)/i.exec(head);
    parts.push({ bytes: jpeg.length, time: ts ? Number(ts[1]) : null });
    at = end + 4 + jpeg.length;
    while (buf[at] === 0x0d || buf[at] === 0x0a) at++;
  }
  return parts;
}

// ------------------------------------------------------------------ Node-RED

function startNodeRed(userDir, settingsFile, port, log) {
  const child = spawn(process.execPath, [nodeRed().redJs, '--userDir', userDir, '--settings', settingsFile, '--port', String(port)], {
    cwd: userDir,
    env: { ...process.env, NODE_PATH, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onLine = (stream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (s) => {
      const lines = (rest + s).split('\n');
      rest = lines.pop();
      for (const l of lines) log(l);
    });
  };
  onLine(child.stdout);
  onLine(child.stderr);
  return child;
}

async function waitForAdmin(base, child, timeoutMs) {
  const t0 = Date.now();
  let last = null;
  while (Date.now() - t0 < timeoutMs) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Node-RED exited (${child.exitCode ?? child.signalCode}) before its admin API answered`);
    try {
      const r = await request(`${base}/settings`, { timeoutMs: 2000 });
      if (r.status === 200) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`Node-RED admin API did not answer within ${timeoutMs} ms (${last})`);
}

async function waitForRoute(url, timeoutMs) {
  const t0 = Date.now();
  let last = null;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const r = await request(url, { timeoutMs: 2000 });
      if (r.status !== 404) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`${url} did not appear within ${timeoutMs} ms after the deploy (${last})`);
}

// ------------------------------------------------------------------ checks

async function runChecks(base, userDir, sim, stopSimulator) {
  const results = [];
  const check = async (name, fn) => {
    const t0 = Date.now();
    try {
      const detail = await fn();
      results.push({ name, ok: true, detail, ms: Date.now() - t0 });
    } catch (e) {
      results.push({ name, ok: false, detail: e.message, ms: Date.now() - t0 });
    }
  };
  const frames = (url, want) => async () => {
    const r = await countParts(url, want, CHECK_STREAM_TIMEOUT_MS);
    return `${r.frames} frames, ${r.bytes} bytes, first after ${r.firstMs} ms, ${r.bad} broken parts`;
  };
  const page = (url, type, test) => async () => {
    const r = await request(url);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    if (!String(r.headers['content-type']).startsWith(type)) throw new Error(`Content-Type ${r.headers['content-type']}`);
    if (test && !test(r.body)) throw new Error('unexpected body');
    return `HTTP 200 ${r.headers['content-type']}, ${r.body.length} bytes`;
  };
  await check(`live view ${URLS.live} delivers >= ${CHECK_FRAMES} frames`, frames(base + URLS.live, CHECK_FRAMES));
  await check(`live page ${URLS.page}`, page(base + URLS.page, 'text/html', (b) => b.includes('<img')));
  await check(`snapshot ${URLS.snapshot}`, page(base + URLS.snapshot, 'image/jpeg', isWholeJpeg));
  await check(`dashboard ${URLS.dashboard}`, page(base + URLS.dashboard, 'text/html'));
  await check(`dashboard stream ${URLS.dashboardLive}`, frames(base + URLS.dashboardLive, 2));
  await check(`camera wall ${URLS.wall}`, page(base + URLS.wall, 'text/html'));
  await check(`camera widget script /resources/${WIDGET_PKG.name}/`, page(`${base}/resources/${WIDGET_PKG.name}/ui-axmjpeg-camera.umd.js`, '', (b) => b.includes('UIAxmjpegCamera')));
  await check(`camera wall ticket ${URLS.wallTicket}`, page(base + URLS.wallTicket, 'application/json', (b) => typeof JSON.parse(b.toString()).ticket === 'string'));
  await check(`processed stream ${URLS.processed}`, frames(base + URLS.processed, 2));
  await check(`playback stream ${URLS.playback}`, frames(base + URLS.playback, 2));
  await check('Import > Examples lists every example', async () => {
    const r = await request(`${base}/library/examples/flows/${PKG.name}/`, { headers: { Accept: 'application/json' } });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    const listed = JSON.parse(r.body.toString('utf8')).map((e) => e.fn);
    const want = readExamples()
      .filter((e) => !e.file.startsWith('dashboard/'))
      .map((e) => e.file.replace(/\.json$/, ''));
    const missing = want.filter((f) => !listed.includes(f));
    if (missing.length) throw new Error(`not listed: ${missing.join(', ')}`);
    return `${listed.length} examples`;
  });
  await check(`camera motion event -> snapshot file in ${SNAPSHOT_DIR}/`, async () => {
    const dir = path.join(userDir, SNAPSHOT_DIR);
    const jpegs = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.jpg')) : []);
    const before = jpegs().length;
    const end = Date.now() + CHECK_STREAM_TIMEOUT_MS;
    let on = false;
    // Toggled until it works: the event subscription may still be connecting after the deploy.
    while (jpegs().length === before) {
      if (Date.now() > end) throw new Error(`no snapshot saved within ${CHECK_STREAM_TIMEOUT_MS} ms of motion`);
      on = !on;
      sim.events.setMotion(on);
      await sleep(CHECK_MOTION_TOGGLE_MS);
    }
    sim.events.setMotion(false);
    const file = path.join(dir, jpegs().sort().pop());
    await wholeJpegFile(file);
    return path.basename(file);
  });
  await check(`axmjpeg-motion on the frames -> file in ${MOTION_DIR}/`, async () => {
    const dir = path.join(userDir, MOTION_DIR);
    const end = Date.now() + CHECK_STREAM_TIMEOUT_MS;
    for (;;) {
      const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.jpg')) : [];
      if (files.length) {
        const file = path.join(dir, files.sort()[0]);
        await wholeJpegFile(file);
        return path.basename(file);
      }
      if (Date.now() > end) throw new Error(`no motion image saved within ${CHECK_STREAM_TIMEOUT_MS} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
  });
  await check(`axmjpeg-motion -> axmjpeg-record: a completed clip in ${CLIP_DIR}/`, async () => {
    // A clip is complete once the next one has started (the demo cuts clips after DEMO_CLIP_MINUTES).
    const timeoutMs = DEMO_CLIP_MINUTES * 60_000 + CHECK_STREAM_TIMEOUT_MS;
    const end = Date.now() + timeoutMs;
    while (clipFiles(userDir).length < 2) {
      if (Date.now() > end) throw new Error(`${clipFiles(userDir).length} clip files after ${timeoutMs} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
    const file = clipFiles(userDir)[0];
    const parts = recordedParts(file);
    if (parts.length < CHECK_FRAMES) throw new Error(`${path.basename(file)}: only ${parts.length} frames`);
    const first = parts[0].time;
    const last = parts[parts.length - 1].time;
    const span = first !== null && last !== null ? `, ${((last - first) / 1000).toFixed(1)} s` : '';
    return `${path.basename(file)}: ${parts.length} whole JPEGs${span}`;
  });
  await check(`time-lapse recording ${TIMELAPSE_FILE}`, async () => {
    const file = path.join(userDir, TIMELAPSE_FILE);
    const end = Date.now() + CHECK_STREAM_TIMEOUT_MS;
    for (;;) {
      const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
      // One whole part: delimiter, headers and a JPEG of the 1280x720 stream.
      if (size > 1000) return `${size} bytes`;
      if (Date.now() > end) throw new Error(`${file}: ${size} bytes after ${CHECK_STREAM_TIMEOUT_MS} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
  });
  await check(`control page ${URLS.control}`, page(base + URLS.control, 'text/html', (b) => b.includes('data-preset="Door"') && b.includes('id="pulse"')));
  await check(`control page stream ${URLS.controlLive}`, frames(base + URLS.controlLive, 2));
  await check(`camera motion -> PTZ to ${PTZ_ALARM_PRESET} -> snapshot file in ${PTZ_DIR}/`, async () => {
    const dir = path.join(userDir, PTZ_DIR);
    const jpegs = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.jpg')) : []);
    const before = jpegs().length;
    const end = Date.now() + CHECK_STREAM_TIMEOUT_MS;
    let on = false;
    while (jpegs().length === before) {
      if (Date.now() > end) throw new Error(`no snapshot saved within ${CHECK_STREAM_TIMEOUT_MS} ms of motion (camera at ${JSON.stringify(sim.ptz.state)})`);
      on = !on;
      sim.events.setMotion(on);
      await sleep(CHECK_MOTION_TOGGLE_MS);
    }
    sim.events.setMotion(false);
    const at = sim.ptz.presets[sim.ptz.state.onPreset - 1];
    // The snapshot is taken only once the camera is still at the preset.
    if (!at || at.name !== PTZ_ALARM_PRESET) throw new Error(`snapshot saved, but the camera is at ${JSON.stringify(sim.ptz.state)}`);
    const file = path.join(dir, jpegs().sort().pop());
    await wholeJpegFile(file);
    return `${path.basename(file)}, camera at ${at.name} (pan ${sim.ptz.state.pan}, zoom ${sim.ptz.state.zoom})`;
  });
  await check(`GET ${URLS.ptz}?preset=${PTZ_CHECK_PRESET} turns the camera`, async () => {
    const r = await request(`${base}${URLS.ptz}?preset=${encodeURIComponent(PTZ_CHECK_PRESET)}`);
    if (r.status !== 202) throw new Error(`HTTP ${r.status}`);
    const end = Date.now() + CHECK_STREAM_TIMEOUT_MS;
    for (;;) {
      const at = sim.ptz.presets[sim.ptz.state.onPreset - 1];
      if (at && at.name === PTZ_CHECK_PRESET && !sim.ptz.state.moving) return `camera at ${at.name} (pan ${sim.ptz.state.pan})`;
      if (Date.now() > end) throw new Error(`camera at ${JSON.stringify(sim.ptz.state)} after ${CHECK_STREAM_TIMEOUT_MS} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
  });
  await check(`GET ${URLS.pulse} pulses output ${SIREN_PORT} on the camera`, async () => {
    const r = await request(`${base}${URLS.pulse}`);
    if (r.status !== 202) throw new Error(`HTTP ${r.status}`);
    const t0 = Date.now();
    const wait = async (want, what) => {
      while (sim.io.isActive(SIREN_PORT) !== want) {
        if (Date.now() - t0 > CHECK_STREAM_TIMEOUT_MS) throw new Error(`output ${SIREN_PORT} never ${what}`);
        await sleep(20);
      }
      return Date.now() - t0;
    };
    const on = await wait(true, 'went on');
    const off = await wait(false, 'went off again');
    return `on after ${on} ms, off after ${off} ms`;
  });
  // Last: it stops the camera. Viewers must not be left with a frozen picture that looks live.
  await check(`camera stopped -> ${URLS.live} shows the "camera offline" picture`, async () => {
    const live = await request(`${base}${URLS.live}.jpg`);
    const { jpegSize } = loadDist('src/jpeg/jpeg-info');
    const liveSize = jpegSize(live.body);
    const t0 = Date.now();
    await stopSimulator();
    for (;;) {
      const r = await request(`${base}${URLS.live}.jpg`);
      if (r.status === 200 && r.headers['x-source-offline'] === '1') {
        if (!isWholeJpeg(r.body)) throw new Error('the offline picture is not a whole JPEG');
        const size = jpegSize(r.body);
        if (!size || !liveSize || size.width !== liveSize.width || size.height !== liveSize.height) {
          throw new Error(`offline picture ${size && `${size.width}x${size.height}`}, stream ${liveSize && `${liveSize.width}x${liveSize.height}`}`);
        }
        // And a viewer that connects now gets it at once, on the stream.
        const v = await countParts(base + URLS.live, 1, CHECK_STREAM_TIMEOUT_MS);
        return `after ${Date.now() - t0} ms: ${size.width}x${size.height} JPEG, ${r.body.length} bytes (X-Source-Offline: 1); a new viewer got ${v.frames} part after ${v.firstMs} ms`;
      }
      if (Date.now() - t0 > CHECK_OFFLINE_TIMEOUT_MS) throw new Error(`still HTTP ${r.status} without X-Source-Offline ${CHECK_OFFLINE_TIMEOUT_MS} ms after the camera stopped`);
      await sleep(POLL_INTERVAL_MS);
    }
  });
  return results;
}

// ------------------------------------------------------------------ main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const say = (s) => console.log(opts.check ? `[${since(t0)}] ${s}` : s);
  const redLog = [];
  let sim = null;
  let child = null;
  let tempDir = null;
  let stopping = null;

  const stop = () => {
    if (!stopping) {
      stopping = (async () => {
        await stopChild(child, STOP_GRACE_MS);
        if (sim) await sim.close();
        if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
      })();
    }
    return stopping;
  };
  const onSignal = (sig) => {
    say(`${sig}: stopping Node-RED and the simulator`);
    stop().then(() => process.exit(opts.check ? 1 : 0), () => process.exit(1));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Pulls the simulated camera's plug, and puts it back the next time: shows
  // the "camera offline" picture (scripts/screenshots.js uses it).
  let unplugged = null;
  process.on('SIGUSR2', () => {
    (async () => {
      if (!sim && !unplugged) return;
      if (!unplugged) {
        unplugged = sim.port;
        const s = sim;
        sim = null;
        await s.close();
        say(`SIGUSR2: camera simulator stopped (port ${unplugged}); SIGUSR2 again starts it`);
      } else {
        sim = await startCameraSimulator(unplugged);
        unplugged = null;
        say(`SIGUSR2: camera simulator back at ${sim.url}/`);
      }
    })().catch((e) => say(`SIGUSR2: ${e.message}`));
  });

  try {
    // 1. the camera
    if (opts.https) demoCertificate = loadDist('simulator/self-signed').selfSignedCertificate([HOST, 'localhost']);
    sim = await startCameraSimulator(opts.simPort ?? (opts.check ? 0 : SIM_PREFERRED_PORT));
    say(
      demoCertificate
        ? `camera simulator at ${sim.url}/, HTTPS only (user ${SIM_USER}, password ${SIM_PASSWORD}, Basic over https; plain http ${sim.httpUrl} redirects), certificate SHA-256 ${demoCertificate.sha256}, pinned in the camera config`
        : `camera simulator at ${sim.url}/ (user ${SIM_USER}, password ${SIM_PASSWORD}, Digest)`,
    );

    // 2. the user dir
    const userDir = opts.userDir ?? (opts.check ? (tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'axis-mjpeg-demo-'))) : path.join(ROOT, '.demo'));
    const { settings, dashboard } = prepareUserDir(userDir);
    if (!dashboard) say(`warning: ${DASHBOARD_PKG} is not installed: the dashboard example will be skipped`);
    // Recorded while Node-RED starts; the playback example needs it only once deployed.
    const sample = recordSample(sim, path.join(userDir, SAMPLE_FILE));
    sample.catch(() => {});

    // 3. Node-RED
    let port = opts.port ?? (process.env.PORT ? Number(process.env.PORT) : null);
    if (port === null) port = !opts.check && (await portFree(NODE_RED_DEFAULT_PORT)) ? NODE_RED_DEFAULT_PORT : await freePort();
    if (port === 0) port = await freePort();
    const base = `http://${HOST}:${port}`;
    const log = (line) => {
      redLog.push(line);
      if (!opts.check || opts.verbose) console.log(`[node-red] ${line}`);
    };
    child = startNodeRed(userDir, settings, port, log);
    child.on('exit', (code, signal) => {
      if (!stopping) {
        say(`Node-RED exited (${code ?? signal})`);
        stop().then(() => process.exit(1));
      }
    });
    await waitForAdmin(base, child, ADMIN_READY_TIMEOUT_MS);
    say(`Node-RED ${nodeRed().version} (${nodeRed().from}) on Node.js ${process.version} ready at ${base}/ (user dir ${displayPath(userDir)})`);

    // 4. the flows
    const { types, errors } = await installedTypes(base);
    for (const e of errors) say(`warning: node set failed to load: ${e}`);
    const examples = readExamples();
    const usable = [];
    const skipped = [];
    for (const ex of examples) {
      const missing = [...new Set(ex.flow.map((n) => n.type).filter((t) => !types.has(t)))];
      if (missing.length) skipped.push(`${ex.file} (missing node types: ${missing.join(', ')})`);
      else usable.push(ex);
    }
    for (const s of skipped) say(`warning: skipping example ${s}`);
    const flows = demoFlows(usable, sim, userDir);
    await sample;
    await deploy(base, flows);
    // The deploy answers before the flows have started: wait for the page route.
    await waitForRoute(base + URLS.page, FLOWS_START_TIMEOUT_MS);
    say(`deployed ${usable.length} example flows (${flows.length} nodes)`);

    if (opts.check) {
      const results = await runChecks(base, userDir, sim, async () => {
        const s = sim;
        sim = null;
        await s.close();
      });
      if (skipped.length) results.unshift({ name: 'every example deployed', ok: false, detail: `skipped ${skipped.join('; ')}`, ms: 0 });
      for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail} (${r.ms} ms)`);
      const ok = results.every((r) => r.ok);
      if (!ok && !opts.verbose) {
        console.log('--- Node-RED log (last 60 lines) ---');
        for (const l of redLog.slice(-60)) console.log(l);
      }
      console.log(`${ok ? 'PASS' : 'FAIL'} demo check in ${since(t0)}`);
      await stop();
      process.exit(ok ? 0 : 1);
    }

    sim.events.startMotion(DEMO_MOTION_PERIOD_MS);
    setInterval(() => pruneClips(userDir), CLIP_PRUNE_INTERVAL_MS).unref();
    console.log(`
  Demo running: Node-RED + simulated Axis camera + example flows.

  Live video page   ${base}${URLS.page}
  MJPEG stream      ${base}${URLS.live}     (also VLC / ffplay; ${URLS.live}.jpg = one frame)
  Snapshot          ${base}${URLS.snapshot}
  Dashboard 2.0     ${base}${URLS.dashboard}
  Camera wall       ${base}${URLS.wall}     (${SIM_CHANNELS} camera widgets on one page, one WebSocket for all of them)
  Camera widget     ${base}${URLS.widget}
  Processed frames  ${base}${URLS.processed}
  File playback     ${base}${URLS.playback}
  Alert trigger     ${base}${URLS.alert}     (also the camera's motion every ${DEMO_MOTION_PERIOD_MS / 1000} s: snapshot -> e-mail/Telegram msgs, files in ${displayPath(path.join(userDir, SNAPSHOT_DIR))})
  Motion clips      ${displayPath(path.join(userDir, CLIP_DIR))}/     (axmjpeg-motion -> one .mjpg per motion; the demo's picture always moves, so clips are cut every ${DEMO_CLIP_MINUTES * 60} s and the newest ${DEMO_CLIPS_KEPT} kept)
  Camera control    ${base}${URLS.control}     (live video with preset buttons and a siren button: watch the picture turn)
  Output pulse      ${base}${URLS.pulse}   (output ${SIREN_PORT} on for 2 s: its lamp in the picture lights up)
  PTZ               ${base}${URLS.ptz}?preset=Parking   (motion also turns the camera to ${PTZ_ALARM_PRESET}, snapshot in ${displayPath(path.join(userDir, PTZ_DIR))}, home again after 20 s)
  Node-RED editor   ${base}/   (debug sidebar: motion, snapshot and clip alerts)
  Camera simulator  ${sim.url}/axis-cgi/mjpg/video.cgi (${SIM_USER} / ${SIM_PASSWORD}${demoCertificate ? `; HTTPS only, certificate SHA-256 ${demoCertificate.sha256}` : ''})

  Ctrl-C stops everything. kill -USR2 ${process.pid} stops the camera (the live view shows
  "camera offline" after 5 s) and starts it again the next time.
`);
  } catch (e) {
    console.error(`${opts.check ? 'FAIL' : 'error'}: ${e && e.message ? e.message : e}`);
    if (redLog.length && (opts.check || opts.verbose)) {
      console.error('--- Node-RED log (last 60 lines) ---');
      for (const l of redLog.slice(-60)) console.error(l);
    }
    await stop();
    process.exit(1);
  }
}

main();
