#!/usr/bin/env node
'use strict';
/**
 * End-to-end proof with software nobody here wrote (`npm run test:e2e`):
 *
 *   npm pack → npm install into a fresh Node-RED user dir → real Node-RED →
 *   flows deployed through the Admin HTTP API → video from
 *     (a) the camera simulator with Digest,
 *     (b) ffmpeg's own MJPEG HTTP server (custom path, chunked, its boundary),
 *     (c) Apache httpd (mod_auth_digest + mod_proxy) in front of a simulator,
 *     (d) the motion daemon's stream port (Digest) fed by a simulator,
 *     (e) an HTTPS-only simulator (self-signed certificate made at start-up,
 *         Basic over https) with its certificate pinned; a wrong pin refused
 *   → read back from axmjpeg-out by ffprobe/ffmpeg, Python OpenCV,
 *     GStreamer, VLC and headless Chromium; a snapshot endpoint decoded by ffprobe;
 *     the Node-RED editor in Chromium (our editor script, types, validators);
 *     `node-red-dev validate` (the Flow Library scorecard);
 *   scaling out (scaling.js): Debian's nginx in front (documented config,
 *     defaults, two tiers, 100 viewers, a path prefix), one Node-RED reading
 *     another's stream, frames over a real mosquitto.
 *
 * Prints one PASS/FAIL line per check with the measured figures and exits
 * non-zero if any check fails. Missing tools are installed with apt-get (as
 * root); a tool that still is missing is a failure, never a skip.
 *
 * Uses the build in dist/ (or $OUT_DIR, like scripts/build.js): build first.
 * Options: --keep (keep the work dir), --verbose (echo Node-RED's log).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { HOST, stopAll, countParts, sleep, request, run } = require('./lib');
const { ensureTools } = require('./tools');
const { packPackage, prepareUserDir, startNodeRed, loadedNodes, deployFlows } = require('./nodered');
const { startHttpsOnlySimulator, startSimulatorProcess, startFfmpegServer, startApacheFront, startMotion } = require('./sources');
const readers = require('./readers');
const { validatePackage } = require('./validate');
const { editorCheck } = require('./editor');
const { installNeighbours, neighbourFlow, NEIGHBOUR_ROUTE } = require('./neighbours');
const { scalingChecks } = require('./scaling');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.resolve(ROOT, process.env.OUT_DIR || 'dist');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
/** The simulator and Node-RED find undici & co. here when DIST is outside the project. */
const NODE_PATH = [path.join(ROOT, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);

const USER = 'root';
const PASS = 'pass';
const WIDTH = 640;
const HEIGHT = 480;
const SOURCE_FPS = 10;
const THROTTLE_FPS = 2;
/** A throttle may round up a little, but not pass the source rate through. */
const THROTTLE_MAX_FACTOR = 1.5;
const STREAM_FRAMES = 20;
const FFMPEG_MULTIPART_TYPE = 'multipart/x-mixed-replace;boundary=ffmpeg';
const THROTTLE_FRAMES = 5;
const READER_FRAMES = 20;
/** VLC writes its first second (network cache) at once; 30 leaves about a second at the stream's own pace. */
const VLC_FRAMES = 30;
const FIRST_FRAMES_TIMEOUT_MS = 45_000;
const ROUTE_POLL_MS = 100;
/** The scaling checks (scaling.js) take about 2.5 minutes of it. */
const OVERALL_TIMEOUT_MS = 20 * 60_000;
const EXIT_GRACE_MS = 5_000;
/** Every node type the package must register in Node-RED. */
const EXPECTED_TYPES = Object.keys(PKG['node-red'].nodes);

const ROUTES = {
  sim: '/e2e/sim',
  throttled: '/e2e/throttled',
  ffmpeg: '/e2e/ffmpeg',
  ffmpegTyped: '/e2e/ffmpeg-typed',
  apache: '/e2e/apache',
  motion: '/e2e/motion',
  snapshot: '/e2e/snapshot',
  https: '/e2e/https-pinned',
};
/** A pin no camera matches: the wrong-pin camera must be refused, never streamed. */
const WRONG_PIN = Array(32).fill('AB').join(':');
const PIN_REFUSAL_TIMEOUT_MS = 20_000;

const results = [];
const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const f1 = (n) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(1) : '?');

function report(name, ok, figures, detail) {
  results.push({ name, ok, figures, detail });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${figures ? ` — ${figures}` : ''}${!ok && detail ? `\n      ${String(detail).replace(/\n/g, '\n      ')}` : ''}`);
}

/** Runs one check; an exception is that check's failure, not the end of the run. */
async function check(name, fn) {
  try {
    const r = await fn();
    report(name, r.ok, r.figures, r.detail);
    return r;
  } catch (e) {
    report(name, false, '', e && e.stack ? e.stack.split('\n').slice(0, 3).join('\n') : String(e));
    return { ok: false };
  }
}

function camera(id, name, port, extra, credentials) {
  return {
    id, type: 'axmjpeg-camera', name, host: HOST, port: String(port), protocol: 'http', auth: 'auto',
    allowSelfSigned: false, ca: '', tls: '', resolution: `${WIDTH}x${HEIGHT}`, fps: String(SOURCE_FPS), compression: '30',
    cameraNumber: '', rotation: '0', clock: false, date: false, text: false, textstring: '', customPath: '',
    stallTimeout: 10, linger: 10, maxFrameMB: 16, ...extra, ...(credentials ? { credentials } : {}),
  };
}

function mjpgIn(id, cam, wires) {
  return {
    id, type: 'axmjpeg-in', z: 'e2e-tab', name: id, source: 'camera', camera: cam, file: '', fileFps: '', loop: false,
    resolution: '', fps: '', compression: '', cameraNumber: '', startOnDeploy: true, topic: id, x: 150, y: 60, wires: [wires],
  };
}

function httpOut(id, url) {
  return { id, type: 'axmjpeg-out', z: 'e2e-tab', name: id, url, maxViewers: 20, fps: 0, stuckTimeout: 30, x: 450, y: 60, wires: [] };
}

function buildFlows({ simPort, ffmpeg, ffmpegTyped, apachePort, motion, https }) {
  return [
    ...(https
      ? [
        camera('cam-https', 'HTTPS-only simulator, certificate pinned', https.port, { protocol: 'https', pinSha256: https.sha256 }, { user: USER, password: PASS }),
        mjpgIn('in-https', 'cam-https', ['out-https']),
        httpOut('out-https', ROUTES.https),
        camera('cam-https-wrongpin', 'HTTPS-only simulator, wrong pin', https.port, { protocol: 'https', pinSha256: WRONG_PIN }, { user: USER, password: PASS }),
        mjpgIn('in-https-wrongpin', 'cam-https-wrongpin', []),
      ]
      : []),
    { id: 'e2e-tab', type: 'tab', label: 'e2e', disabled: false, info: '' },
    camera('cam-sim', 'simulator (Digest)', simPort, { auth: 'digest' }, { user: USER, password: PASS }),
    camera('cam-ffmpeg', 'ffmpeg server', ffmpeg.port, { auth: 'none', customPath: ffmpeg.path, resolution: '', fps: '', compression: '' }),
    camera('cam-apache', 'Apache Digest proxy', apachePort, { auth: 'digest' }, { user: USER, password: PASS }),
    mjpgIn('in-sim', 'cam-sim', ['out-sim', 'throttle']),
    httpOut('out-sim', ROUTES.sim),
    { id: 'throttle', type: 'axmjpeg-throttle', z: 'e2e-tab', name: '', mode: 'fps', fps: THROTTLE_FPS, nth: 2, readyTopic: 'ready', readyAtStart: true, x: 300, y: 120, wires: [['out-throttled']] },
    httpOut('out-throttled', ROUTES.throttled),
    mjpgIn('in-ffmpeg', 'cam-ffmpeg', ['out-ffmpeg']),
    httpOut('out-ffmpeg', ROUTES.ffmpeg),
    camera('cam-ffmpeg-typed', 'ffmpeg server, multipart Content-Type', ffmpegTyped.port, { auth: 'none', customPath: ffmpegTyped.path, resolution: '', fps: '', compression: '' }),
    mjpgIn('in-ffmpeg-typed', 'cam-ffmpeg-typed', ['out-ffmpeg-typed']),
    httpOut('out-ffmpeg-typed', ROUTES.ffmpegTyped),
    mjpgIn('in-apache', 'cam-apache', ['out-apache']),
    httpOut('out-apache', ROUTES.apache),
    // motion's stream has no VAPIX parameters: its own path, its own rate and size.
    ...(motion
      ? [
        camera('cam-motion', 'motion daemon (Digest)', motion.port, { auth: 'digest', customPath: motion.path, resolution: '', fps: '', compression: '' }, { user: USER, password: PASS }),
        mjpgIn('in-motion', 'cam-motion', ['out-motion']),
        httpOut('out-motion', ROUTES.motion),
      ]
      : []),
    { id: 'snap-in', type: 'http in', z: 'e2e-tab', name: '', url: ROUTES.snapshot, method: 'get', upload: false, swaggerDoc: '', x: 150, y: 300, wires: [['snap']] },
    // maxAge 0: always a fresh still from the camera, through Digest, not the live stream's frame.
    { id: 'snap', type: 'axmjpeg-snapshot', z: 'e2e-tab', name: '', camera: 'cam-sim', resolution: '', cameraNumber: '', compression: '', maxAge: 0, timeout: 10, x: 350, y: 300, wires: [['snap-out']] },
    { id: 'snap-out', type: 'http response', z: 'e2e-tab', name: '', statusCode: '', headers: { 'content-type': 'image/jpeg' }, x: 550, y: 300, wires: [] },
  ];
}

async function main() {
  const args = new Set(process.argv.slice(2));
  const verbose = args.has('--verbose');
  const keep = args.has('--keep');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'axis-mjpeg-e2e-'));
  // Apache's workers run as www-data and must reach their password file in here.
  fs.chmodSync(work, 0o755);
  console.log(`e2e: package ${PKG.name}@${PKG.version}, build ${path.relative(ROOT, DIST) || '.'}, work dir ${work}`);

  const tools = await ensureTools();
  for (const t of tools.checks) report(`tool: ${t.name}`, t.ok, t.version, t.detail);
  if (tools.installMs) console.log(`      (apt-get install took ${(tools.installMs / 1000).toFixed(1)} s)`);

  // ---- package → user dir → Node-RED
  const packed = await packPackage({ root: ROOT, dist: DIST, workDir: work });
  report('npm pack', true, `${path.basename(packed.tgz)}, ${packed.files} files, ${(packed.size / 1024).toFixed(0)} kB`);
  const userDir = path.join(work, 'user');
  const prepared = await prepareUserDir(userDir, packed.tgz);
  report('npm install <tarball> into a fresh user dir', true, `${(prepared.installMs / 1000).toFixed(1)} s`);
  const neighbours = installNeighbours(userDir);

  const red = await startNodeRed({ root: ROOT, dist: DIST, userDir, settings: prepared.settings, echo: verbose });
  const loaded = await loadedNodes(red.base, PKG.name);
  const missing = EXPECTED_TYPES.filter((t) => !loaded.types.includes(t));
  report(
    'Node-RED loads the installed package',
    missing.length === 0 && loaded.errors.length === 0,
    `Node-RED ${red.version} (${red.from}) on Node.js ${process.version} up in ${(red.startMs / 1000).toFixed(1)} s, ${loaded.types.length} types (${loaded.types.join(', ')})`,
    `missing: ${missing.join(', ') || '-'}; errors: ${loaded.errors.join('; ') || '-'}`,
  );
  // Node-RED would refuse a package whose types another installed package already registers.
  for (const n of neighbours) {
    const other = await loadedNodes(red.base, n.name);
    const absent = n.types.filter((t) => !other.types.includes(t));
    report(
      `loads beside ${n.name} (registers ${n.types.join(', ')})`,
      absent.length === 0 && other.errors.length === 0 && missing.length === 0 && loaded.errors.length === 0,
      `both packages loaded: ${other.types.length} + ${loaded.types.length} types`,
      `neighbour missing: ${absent.join(', ') || '-'}; neighbour errors: ${other.errors.join('; ') || '-'}; ours missing: ${missing.join(', ') || '-'}`,
    );
  }

  // ---- sources
  const sim = await startSimulatorProcess({ dist: DIST, nodePath: NODE_PATH, auth: 'digest', user: USER, pass: PASS });
  const upstream = await startSimulatorProcess({ dist: DIST, nodePath: NODE_PATH, auth: 'none' });
  // As the brief's command line gives it (Content-Type application/octet-stream) …
  const ffmpeg = await startFfmpegServer({ size: `${WIDTH}x${HEIGHT}`, rate: SOURCE_FPS });
  // … and told to label the stream as multipart, which isolates framing from header checks.
  const ffmpegTyped = await startFfmpegServer({ size: `${WIDTH}x${HEIGHT}`, rate: SOURCE_FPS, contentType: FFMPEG_MULTIPART_TYPE });
  let apache = null;
  try {
    apache = await startApacheFront({ workDir: path.join(work, 'apache'), upstreamPort: upstream.port, user: USER, pass: PASS });
  } catch (e) {
    report('Apache httpd (mod_auth_digest + mod_proxy) starts', false, '', e.message);
  }
  let motion = null;
  try {
    motion = await startMotion({
      workDir: path.join(work, 'motion'),
      netcamUrl: `http://${HOST}:${upstream.port}/axis-cgi/mjpg/video.cgi?resolution=${WIDTH}x${HEIGHT}&fps=${SOURCE_FPS}`,
      width: WIDTH, height: HEIGHT, fps: SOURCE_FPS, user: USER, pass: PASS,
    });
  } catch (e) {
    report('motion daemon starts', false, '', e.message);
  }
  let httpsCam = null;
  try {
    httpsCam = await startHttpsOnlySimulator({ dist: DIST, nodePath: NODE_PATH, user: USER, pass: PASS });
  } catch (e) {
    report('HTTPS-only simulator starts (certificate made at start-up, http redirects)', false, '', e.message);
  }
  console.log(`      sources up at ${since()}:${httpsCam ? ` https-only simulator :${httpsCam.port} (SHA-256 ${httpsCam.sha256}),` : ''} simulator :${sim.port}, ffmpeg :${ffmpeg.port}, apache :${apache ? apache.port : '-'} and motion :${motion ? motion.port : '-'} → simulator :${upstream.port}`);

  // ---- deploy and first frames through Node-RED
  const flows = [
    ...buildFlows({ simPort: sim.port, ffmpeg, ffmpegTyped, apachePort: apache ? apache.port : upstream.port, motion, https: httpsCam }),
    ...neighbourFlow('e2e-neighbours'),
  ];
  const tDeploy = Date.now();
  await deployFlows(red.base, flows);
  const url = (route) => `${red.base}${route}`;
  // Start-up: from POST /flows to the first frame a viewer gets, per source, measured in parallel.
  const startup = {};
  await Promise.all(
    [['sim', ROUTES.sim], ['ffmpeg', ROUTES.ffmpeg], ['ffmpegTyped', ROUTES.ffmpegTyped], ['apache', ROUTES.apache], ...(motion ? [['motion', ROUTES.motion]] : []), ...(httpsCam ? [['https', ROUTES.https]] : [])].map(async ([k, route]) => {
      // The route appears once the flow has started: until then Node-RED answers 404.
      for (;;) {
        const left = FIRST_FRAMES_TIMEOUT_MS - (Date.now() - tDeploy);
        try {
          await countParts(url(route), 1, Math.max(left, 1));
          startup[k] = `start-up (deploy → first frame at a viewer) ${Date.now() - tDeploy} ms`;
          return;
        } catch (e) {
          // countParts says "<url>: HTTP 404, ...".
          if (/\bHTTP 404\b/.test(e.message) && left > ROUTE_POLL_MS) {
            await sleep(ROUTE_POLL_MS);
            continue;
          }
          startup[k] = `no first frame: ${e.message}`;
          return;
        }
      }
    }),
  );
  const sourceOk = {};
  /** Node-RED's last log line about one node: the reason a source failed, in the package's own words. */
  const lastLog = (nodeId) => red.child.output().split('\n').filter((l) => l.includes(`:${nodeId}]`)).pop() || '';
  const stream = async (name, key, route) => {
    const r = await check(name, async () => {
      let r;
      try {
        r = await countParts(url(route), STREAM_FRAMES, FIRST_FRAMES_TIMEOUT_MS);
      } catch (e) {
        const log = lastLog(`in-${key === 'ffmpegTyped' ? 'ffmpeg-typed' : key}`);
        return { ok: false, detail: `${e.message}${log ? `\nNode-RED: ${log.slice(0, 400)}` : ''}` };
      }
      return { ok: r.bad === 0, figures: `${r.frames} whole JPEGs at ${f1(r.fps)} fps, ${r.bad} bad parts; ${startup[key]}`, detail: `${r.bad} bad parts` };
    });
    sourceOk[route] = r.ok;
  };

  await stream(`(a) simulator, Digest → axmjpeg-in → axmjpeg-out ${ROUTES.sim}`, 'sim', ROUTES.sim);
  await check(`axmjpeg-throttle ${THROTTLE_FPS} fps → axmjpeg-out ${ROUTES.throttled}`, async () => {
    const r = await countParts(url(ROUTES.throttled), THROTTLE_FRAMES, FIRST_FRAMES_TIMEOUT_MS);
    const ok = r.bad === 0 && r.fps > 0 && r.fps <= THROTTLE_FPS * THROTTLE_MAX_FACTOR;
    return { ok, figures: `${r.frames} frames at ${f1(r.fps)} fps (source ${SOURCE_FPS}, limit ${THROTTLE_FPS})`, detail: `${r.bad} bad parts, ${f1(r.fps)} fps` };
  });
  await stream(`(b) ffmpeg -f mpjpeg -listen 1 server as is (chunked, boundary "ffmpeg", Content-Type application/octet-stream, custom path) → ${ROUTES.ffmpeg}`, 'ffmpeg', ROUTES.ffmpeg);
  console.log(`      ffmpeg server restarts so far (one client per run): ${ffmpeg.connections}`);
  await stream(`(b2) ffmpeg server with -content_type ${FFMPEG_MULTIPART_TYPE} → ${ROUTES.ffmpegTyped}`, 'ffmpegTyped', ROUTES.ffmpegTyped);
  if (apache) await stream(`(c) Apache mod_auth_digest + mod_proxy → ${ROUTES.apache}`, 'apache', ROUTES.apache);
  else report(`(c) Apache mod_auth_digest + mod_proxy → ${ROUTES.apache}`, false, '', 'Apache did not start');
  const motionName = `(d) motion daemon stream port (libmicrohttpd Digest, chunked, boundary "BoundaryString") → ${ROUTES.motion}`;
  if (motion) {
    await stream(motionName, 'motion', ROUTES.motion);
    if (!sourceOk[ROUTES.motion]) console.log(`      motion's output and log:\n      ${motion.output().slice(-1500).replace(/\n/g, '\n      ')}`);
  } else {
    report(motionName, false, '', 'motion did not start');
    sourceOk[ROUTES.motion] = false;
  }

  const httpsName = `(e) HTTPS-only simulator (AXIS OS 13 style: self-signed, Basic over https), certificate pinned → ${ROUTES.https}`;
  if (httpsCam) {
    await stream(httpsName, 'https', ROUTES.https);
    await check('(e) the same camera with another pinned certificate: refused with ERR_TLS_PIN_MISMATCH naming both fingerprints', async () => {
      const t = Date.now();
      for (;;) {
        const line = lastLog('in-https-wrongpin');
        if (/ERR_TLS_PIN_MISMATCH|other than the trusted one/.test(line)) {
          const both = line.includes(WRONG_PIN) && line.includes(httpsCam.sha256);
          return { ok: both, figures: `after ${Date.now() - t} ms`, detail: line.slice(0, 400) };
        }
        if (Date.now() - t > PIN_REFUSAL_TIMEOUT_MS) return { ok: false, detail: `no refusal logged; last: ${line.slice(0, 400) || '-'}` };
        await sleep(ROUTE_POLL_MS);
      }
    });
  } else {
    report(httpsName, false, '', 'the HTTPS-only simulator did not start');
  }

  // ---- third-party readers of axmjpeg-out
  const simUrl = url(ROUTES.sim);
  const size = { width: WIDTH, height: HEIGHT };
  await check('ffprobe -f mpjpeg reads the relay', async () => {
    const r = await readers.ffprobeStream(simUrl);
    return { ...r, figures: `${r.codec} ${r.width}x${r.height}` };
  });
  for (const [name, route] of [['relay (simulator)', ROUTES.sim], ['relay (ffmpeg source)', ROUTES.ffmpeg], ['relay (typed ffmpeg source)', ROUTES.ffmpegTyped], ['relay (Apache source)', ROUTES.apache], ['relay (motion source)', ROUTES.motion]]) {
    await check(`ffmpeg -f mpjpeg decodes ${READER_FRAMES} frames from the ${name}`, async () => {
      // Its source already failed above: waiting out the timeout again proves nothing.
      if (sourceOk[route] === false) return { ok: false, detail: 'not run: the source feeding this relay failed above' };
      const r = await readers.ffmpegDecode(url(route), READER_FRAMES);
      return { ...r, figures: `${r.frames} frames in ${(r.ms / 1000).toFixed(1)} s (${f1(r.fps)} fps incl. start)` };
    });
  }
  await check('Python OpenCV cv2.VideoCapture reads the relay', async () => {
    const r = await readers.opencvRead(simUrl, READER_FRAMES, size);
    return { ...r, figures: `OpenCV ${r.cv}, ${r.frames} frames of ${r.shape ? r.shape.join('x') : '?'}, ${f1(r.fps)} fps, first after ${f1(r.firstMs)} ms` };
  });
  await check('GStreamer souphttpsrc ! multipartdemux ! jpegdec decodes the relay', async () => {
    const r = await readers.gstDecode(simUrl, READER_FRAMES, size);
    return { ...r, figures: `${r.frames} decoded ${r.width}x${r.height} buffers in ${(r.ms / 1000).toFixed(1)} s` };
  });
  await check(`VLC (vlc -I dummy, http access, mjpeg demuxer, avcodec decoder) decodes ${VLC_FRAMES} frames of the relay`, async () => {
    const r = await readers.vlcDecode(simUrl, VLC_FRAMES, size, work);
    const written = r.firstMs === null ? 'no frame written' : `first ${r.firstCount} written ${r.firstMs} ms after launch (network cache), then ${f1(r.fps)} fps`;
    const read = r.read ? `ffprobe reads ${r.read} ${r.codec} ${r.width}x${r.height} frames from its output` : 'ffprobe reads no frame from its output';
    return { ...r, figures: `run as ${r.runsAs}; ${r.frames} frames decoded and re-encoded by #transcode, ${read}; ${written}` };
  });
  await check('headless Chromium shows a moving <img>', async () => {
    const r = await readers.chromiumImg(simUrl, size, work);
    return { ...r, figures: `${r.width}x${r.height}, first picture ${r.firstMs} ms after launch, ${r.distinct}/${r.shots} distinct screenshots` };
  });
  await check(`Node-RED editor in Chromium: resources/ script served, ${EXPECTED_TYPES.length} types registered, validators accept defaults and reject bad values`, () =>
    editorCheck({ base: red.base, root: ROOT, moduleName: PKG.name, types: EXPECTED_TYPES, cameraId: 'cam-sim', throttleId: 'throttle' }));
  await check(`snapshot behind http in ${ROUTES.snapshot} returns a JPEG ffprobe decodes`, async () => {
    const r = await readers.snapshotJpeg(url(ROUTES.snapshot), path.join(work, 'snapshot.jpg'));
    return { ...r, figures: `${r.bytes} bytes ${r.contentType}, ${r.width}x${r.height}, ${r.ms} ms` };
  });

  await check(`other camera packages' nodes (${neighbours.flatMap((n) => n.types).join(', ')}) run in the same flows: GET ${NEIGHBOUR_ROUTE} passes through all of them`, async () => {
    const r = await request(url(`${NEIGHBOUR_ROUTE}?probe=1`));
    return { ok: r.status === 200, figures: `HTTP ${r.status}`, detail: r.body.toString('utf8').slice(0, 200) };
  });

  // Node-RED must still be healthy after all of that.
  report('Node-RED still running', red.child.proc.exitCode === null, '', red.child.output());

  await red.child.stop();
  await ffmpeg.stop();
  await ffmpegTyped.stop();
  await stopAll();

  // ---- scaling out: nginx, relay tree, MQTT (their own Node-REDs on the installed package)
  try {
    await scalingChecks({ root: ROOT, dist: DIST, nodePath: NODE_PATH, work, userDir, check, report, echo: verbose });
  } catch (e) {
    report('scaling out (nginx, relay tree, MQTT)', false, '', e && e.stack ? e.stack : String(e));
  }
  await stopAll();

  // ---- Flow Library scorecard
  await check('node-red-dev validate (Flow Library scorecard)', async () => {
    const r = await validatePackage(packed.stage);
    console.log(r.output.replace(/^/gm, '      | '));
    return r;
  });
  // The Dashboard 2.0 widget is its own package (dashboard/): the Flow Library scores it on its own.
  await check('node-red-dev validate: the dashboard widget package (dashboard/)', async () => {
    const stageDir = path.join(work, 'widget-stage');
    fs.mkdirSync(stageDir, { recursive: true });
    const packedWidget = await run('npm', ['pack', path.join(ROOT, 'dashboard'), '--pack-destination', stageDir, '--silent'], { cwd: stageDir, timeoutMs: 120_000 });
    const tgz = fs.readdirSync(stageDir).find((f) => f.endsWith('.tgz'));
    if (packedWidget.code !== 0 || !tgz) return { ok: false, figures: '', detail: `npm pack exit ${packedWidget.code}: ${packedWidget.stderr}` };
    const untar = await run('tar', ['xzf', tgz], { cwd: stageDir, timeoutMs: 60_000 });
    if (untar.code !== 0) return { ok: false, figures: '', detail: `tar exit ${untar.code}` };
    const r = await validatePackage(path.join(stageDir, 'package'));
    console.log(r.output.replace(/^/gm, '      | '));
    return r;
  });

  if (!keep) fs.rmSync(work, { recursive: true, force: true });
  else console.log(`      work dir kept: ${work}`);
}

const watchdog = setTimeout(() => {
  console.error(`FAIL  e2e did not finish within ${OVERALL_TIMEOUT_MS / 60000} min`);
  stopAll().finally(() => process.exit(1));
}, OVERALL_TIMEOUT_MS);

main()
  .catch((e) => report('e2e run', false, '', e && e.stack ? e.stack : String(e)))
  .finally(async () => {
    await stopAll();
    clearTimeout(watchdog);
    const failed = results.filter((r) => !r.ok);
    console.log(`\ne2e: ${results.length - failed.length}/${results.length} checks passed in ${since()}`);
    if (failed.length) {
      console.log(`FAILED: ${failed.map((r) => r.name).join('; ')}`);
      process.exitCode = 1;
    }
    // A child that ignored its stop (or a relaunch timer) must not keep CI waiting.
    setTimeout(() => process.exit(process.exitCode ?? 0), EXIT_GRACE_MS).unref();
  });
