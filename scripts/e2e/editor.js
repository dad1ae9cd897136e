'use strict';
/**
 * The package's editor side in the real Node-RED editor, in headless
 * Chromium: the shared editor script is served from the package's
 * resources/ folder, every node type registers without a page or console
 * error, and each node's `defaults` validators, run through the editor's own
 * RED.editor.validateNode, accept the defaults and reject values the node
 * does not take.
 */
const fs = require('node:fs');
const path = require('node:path');
const { request } = require('./lib');
const { CHROMIUM, CHROMIUM_ARGS } = require('./readers');

const EDITOR_TIMEOUT_MS = 30_000;
/** The shared script every node .html loads (resources/ at the package root). */
const EDITOR_SCRIPT = 'editor.js';
/** Stands for the id of an axmjpeg-camera node that exists in the editor (a deployed one). */
const CAMERA = '$camera';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----';

/** Values that, with the node's defaults, make a valid node (axmjpeg-camera needs a host, others a camera). */
const BASE = {
  'axmjpeg-camera': { host: 'camera.example' },
  'axmjpeg-in': { camera: CAMERA },
  'axmjpeg-snapshot': { camera: CAMERA },
  'axmjpeg-event': { camera: CAMERA },
  'axmjpeg-ptz': { camera: CAMERA },
  'axmjpeg-io': { camera: CAMERA },
};

/**
 * [type, values set on top of defaults + BASE, the properties the editor must
 * flag]. The rules are the ones in nodes/<type>.html; [] means valid.
 */
const CASES = [
  ['axmjpeg-camera', { port: '8080', resolution: '640x480', fps: '12.5', compression: '30', cameraNumber: 'quad' }, []],
  ['axmjpeg-camera', { protocol: 'https', ca: CERT }, []],
  ['axmjpeg-camera', { port: '70000' }, ['port']],
  ['axmjpeg-camera', { port: 'http' }, ['port']],
  ['axmjpeg-camera', { host: '' }, ['host']],
  ['axmjpeg-camera', { sourceType: 'mjpeg-url', customPath: '/camera/live' }, []],
  ['axmjpeg-camera', { sourceType: 'mjpeg-url', customPath: '' }, ['customPath']],
  ['axmjpeg-camera', { host: 'http://camera.example' }, ['host']],
  ['axmjpeg-camera', { fps: '-1', compression: '50.5' }, ['fps', 'compression']],
  ['axmjpeg-camera', { resolution: '640*480', cameraNumber: '0' }, ['resolution', 'cameraNumber']],
  ['axmjpeg-camera', { ca: 'not a certificate', customPath: 'mjpg/video.mjpg', maxFrameMB: 0 }, ['ca', 'customPath', 'maxFrameMB']],
  ['axmjpeg-in', { source: 'file', camera: '', file: '/recordings/camera.mjpg', fileFps: '5' }, []],
  ['axmjpeg-in', { fps: '-1' }, ['fps']],
  ['axmjpeg-in', { fileFps: '1001', compression: '101', resolution: 'big' }, ['fileFps', 'compression', 'resolution']],
  ['axmjpeg-in', { camera: '' }, ['camera']],
  ['axmjpeg-in', { source: 'file', camera: '', file: '' }, ['file']],
  ['axmjpeg-throttle', { mode: 'nth', fps: 0, nth: 3 }, []],
  ['axmjpeg-throttle', { mode: 'ready', fps: '', nth: '' }, []],
  ['axmjpeg-throttle', { fps: 0 }, ['fps']],
  ['axmjpeg-throttle', { fps: 1001 }, ['fps']],
  ['axmjpeg-throttle', { mode: 'nth', nth: 0 }, ['nth']],
  ['axmjpeg-throttle', { mode: 'nth', nth: 2.5 }, ['nth']],
  ['axmjpeg-throttle', { mode: 'every' }, ['mode']],
  ['axmjpeg-throttle', { maxKB: 64 }, []],
  ['axmjpeg-throttle', { maxKB: 'big' }, ['maxKB']],
  ['axmjpeg-snapshot', { timeout: '0.1', compression: '0', resolution: '1920x1080' }, []],
  ['axmjpeg-snapshot', { compression: '101', maxAge: '1.5', timeout: '0' }, ['compression', 'maxAge', 'timeout']],
  ['axmjpeg-snapshot', { camera: '' }, ['camera']],
  ['axmjpeg-out', { url: '/a/b.c_d-e~f' }, []],
  ['axmjpeg-out', { url: 'camera/live' }, ['url']],
  ['axmjpeg-out', { url: '/camera/../admin' }, ['url']],
  ['axmjpeg-out', { maxViewers: 0, fps: -1, stuckTimeout: 3601 }, ['maxViewers', 'fps', 'stuckTimeout']],
  ['axmjpeg-out', { maxViewers: 2.5, fps: '' }, ['maxViewers', 'fps']],
  ['axmjpeg-out', { maxPerAddress: 0, fps: 0.1 }, []],
  ['axmjpeg-out', { maxPerAddress: -1, fps: 0.05 }, ['maxPerAddress', 'fps']],
  ['axmjpeg-out', { trustProxy: 'loopback, 10.0.0.2, ::1' }, []],
  ['axmjpeg-out', { trustProxy: 'nginx' }, ['trustProxy']],
  ['axmjpeg-record', { filename: '', folder: '/recordings' }, []],
  ['axmjpeg-record', { filename: '', folder: '' }, ['filename']],
  ['axmjpeg-record', { rotateMB: -1, rotateMinutes: 10081 }, ['rotateMB', 'rotateMinutes']],
  ['axmjpeg-event', { topics: 'tns1:Device/Trigger/DigitalInput, tnsaxis:CameraApplicationPlatform/VMD/Camera1Profile1' }, []],
  ['axmjpeg-event', { topics: ' , ' }, ['topics']],
  ['axmjpeg-event', { camera: '' }, ['camera']],
  ['axmjpeg-motion', { maskType: 'grid', mask: '0011\n0011' }, []],
  ['axmjpeg-motion', { maskType: 'rects', mask: '0 0 10 10; 50,50,10,10' }, []],
  ['axmjpeg-motion', { fps: 0, threshold: 0, area: 101 }, ['fps', 'threshold', 'area']],
  ['axmjpeg-motion', { startFrames: 1.5, alpha: 0, cooldown: '' }, ['startFrames', 'alpha', 'cooldown']],
  ['axmjpeg-motion', { maskType: 'circle' }, ['maskType']],
  ['axmjpeg-motion', { maskType: 'grid', mask: '0102' }, ['mask']],
  ['axmjpeg-motion', { maskType: 'rects', mask: '0 0 50' }, ['mask']],
  ['axmjpeg-ptz', { action: 'absolute', pan: '-45.5', tilt: '10', zoom: '2000', speed: '50', timeout: '0.5' }, []],
  ['axmjpeg-ptz', { action: 'continuous', pan: '50', duration: '2.5', channel: '2' }, []],
  ['axmjpeg-ptz', { action: 'presets', preset: '' }, []],
  ['axmjpeg-ptz', { action: 'spin' }, ['action']],
  ['axmjpeg-ptz', { pan: '400', speed: '0', timeout: '301' }, ['pan', 'speed', 'timeout']],
  ['axmjpeg-ptz', { duration: '0', channel: '1.5' }, ['channel', 'duration']],
  ['axmjpeg-ptz', { camera: '' }, ['camera']],
  ['axmjpeg-io', { action: 'set', port: '0', value: 'off' }, []],
  ['axmjpeg-io', { action: 'virtual', port: '3', duration: '10' }, []],
  ['axmjpeg-io', { action: 'toggle', value: 'maybe' }, ['action', 'value']],
  ['axmjpeg-io', { port: '-1', ms: '0', duration: '1.5' }, ['duration', 'ms', 'port']],
  ['axmjpeg-io', { camera: '' }, ['camera']],
];

/**
 * Runs in the page: validates each case with the editor's own validateNode on a
 * node built from the registered type's defaults.
 */
function validateInEditor({ cases, base, camera, cameraToken }) {
  const sub = (o) => Object.fromEntries(Object.entries(o || {}).map(([k, v]) => [k, v === cameraToken ? camera : v]));
  const failures = [];
  const defaultsOf = {};
  for (const [type, values, want] of cases) {
    const def = window.RED.nodes.getType(type);
    if (!def) {
      failures.push(`${type}: not registered`);
      continue;
    }
    const node = { id: 'e2e-validate', type, _def: def };
    for (const [k, d] of Object.entries(def.defaults)) node[k] = d.value;
    defaultsOf[type] = Object.keys(def.defaults).length;
    Object.assign(node, sub(base[type]), sub(values));
    window.RED.editor.validateNode(node);
    const got = (node.validationErrors || []).map(String).sort();
    const expected = [...want].sort();
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      failures.push(`${type} ${JSON.stringify(values)}: flagged [${got.join(', ')}], expected [${expected.join(', ')}]`);
    }
  }
  return { failures, defaultsOf };
}

/**
 * Opens the deployed axmjpeg-throttle's edit dialog, switches the mode to "nth"
 * without saving: the validators must judge by the dialog (fps no longer
 * checked, nth checked), not by the saved mode "fps".
 */
async function dialogCheck(page, nodeId) {
  await page.evaluate((id) => window.RED.editor.edit(window.RED.nodes.node(id)), nodeId);
  await page.waitForFunction(() => window.$('#node-input-mode').is(':visible'), null, { timeout: EDITOR_TIMEOUT_MS });
  const r = await page.evaluate((id) => {
    const $ = window.$;
    const node = window.RED.nodes.node(id);
    $('#node-input-mode').val('nth').trigger('change');
    const d = node._def.defaults;
    const out = {
      savedMode: node.mode,
      fpsZeroAccepted: d.fps.validate.call(node, 0),
      nthZeroAccepted: d.nth.validate.call(node, 0),
      nthRowShown: $('.axmjpeg-throttle-nth').is(':visible'),
    };
    window.RED.tray.close();
    return out;
  }, nodeId);
  const ok = r.savedMode === 'fps' && r.fpsZeroAccepted === true && r.nthZeroAccepted === false && r.nthRowShown;
  return { ok, detail: ok ? '' : `axmjpeg-throttle dialog: ${JSON.stringify(r)}` };
}

/**
 * Returns { ok, figures, detail }. `cameraId`: an axmjpeg-camera the editor loads
 * with the deployed flows; `throttleId`: a deployed axmjpeg-throttle.
 */
async function editorCheck({ base, root, moduleName, types, cameraId, throttleId }) {
  const problems = [];
  const scriptPath = `resources/${moduleName}/${EDITOR_SCRIPT}`;
  const local = fs.readFileSync(path.join(root, 'resources', EDITOR_SCRIPT), 'utf8');
  const served = await request(`${base}/${scriptPath}`);
  const contentType = String(served.headers['content-type'] || '');
  if (served.status !== 200) problems.push(`GET /${scriptPath}: HTTP ${served.status}`);
  else if (served.body.toString('utf8') !== local) problems.push(`GET /${scriptPath}: not the project's resources/${EDITOR_SCRIPT}`);
  if (!/javascript/.test(contentType)) problems.push(`GET /${scriptPath}: Content-Type ${contentType}`);

  const { chromium } = require('playwright-core');
  const t0 = Date.now();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: EDITOR_TIMEOUT_MS });
  try {
    const page = await browser.newPage();
    const pageErrors = [];
    const consoleErrors = [];
    const badResponses = [];
    const scriptLoads = [];
    page.on('pageerror', (e) => pageErrors.push(String(e && e.stack ? e.stack.split('\n').slice(0, 2).join(' ') : e)));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url || '?'})`);
    });
    page.on('requestfailed', (req) => badResponses.push(`${req.url()}: ${req.failure() ? req.failure().errorText : 'failed'}`));
    page.on('response', (res) => {
      if (res.url().includes(`/${scriptPath}`)) scriptLoads.push(res.status());
      if (res.status() >= 400) badResponses.push(`${res.url()}: HTTP ${res.status()}`);
    });

    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded', timeout: EDITOR_TIMEOUT_MS });
    // Loaded: every node set appended, the deployed flows imported, the toolbar shown (completeLoad).
    try {
      await page.waitForFunction(
        ({ types, cameraId }) => {
          const RED = window.RED;
          return !!(RED && RED.nodes && RED.editor && types.every((t) => RED.nodes.getType(t)) && RED.nodes.node(cameraId) &&
            window.$('.red-ui-header-toolbar').is(':visible'));
        },
        { types, cameraId },
        { timeout: EDITOR_TIMEOUT_MS },
      );
    } catch (e) {
      const registered = await page.evaluate((ts) => ts.filter((t) => window.RED && window.RED.nodes && window.RED.nodes.getType(t)), types).catch(() => []);
      problems.push(`editor not loaded within ${EDITOR_TIMEOUT_MS} ms; registered: ${registered.join(', ') || '-'}`);
      return { ok: false, detail: [...problems, ...pageErrors, ...consoleErrors, ...badResponses].join('\n') };
    }
    const loadMs = Date.now() - t0;

    const global = await page.evaluate(() => (window.AxisMjpegEditor ? Object.keys(window.AxisMjpegEditor).sort() : null));
    if (!global) problems.push('window.AxisMjpegEditor is not defined');
    // Every node type also comes out of the deployed flows valid (no red triangle).
    const invalidDeployed = await page.evaluate((ts) => {
      const bad = [];
      const see = (n) => {
        if (ts.includes(n.type) && n.valid === false) bad.push(`${n.type} ${n.id}: ${(n.validationErrors || []).join(', ')}`);
      };
      window.RED.nodes.eachNode(see);
      window.RED.nodes.eachConfig(see);
      return bad;
    }, types);
    problems.push(...invalidDeployed.map((s) => `deployed node shown invalid: ${s}`));

    // Each type's defaults (plus BASE) first: a node dropped from the palette must not start out invalid.
    const cases = [...types.map((t) => [t, {}, []]), ...CASES];
    const v = await page.evaluate(validateInEditor, { cases, base: BASE, camera: cameraId, cameraToken: CAMERA });
    problems.push(...v.failures);
    const untested = types.filter((t) => !CASES.some(([ct]) => ct === t));
    if (untested.length) problems.push(`no validator cases for ${untested.join(', ')}`);

    const dialog = await dialogCheck(page, throttleId);
    if (!dialog.ok) problems.push(dialog.detail);

    if (!scriptLoads.length) problems.push(`the editor never requested ${scriptPath}`);
    if (scriptLoads.some((s) => s !== 200 && s !== 304)) problems.push(`${scriptPath} answered ${scriptLoads.join(', ')}`);
    problems.push(...pageErrors.map((e) => `page error: ${e}`), ...consoleErrors.map((e) => `console error: ${e}`), ...badResponses.map((e) => `failed request: ${e}`));

    const invalid = cases.filter(([, , want]) => want.length).length;
    return {
      ok: problems.length === 0,
      figures: [
        `GET /${scriptPath} ${served.status} ${contentType.split(';')[0]}`,
        `editor loaded in ${loadMs} ms (${scriptLoads.length} loads of ${EDITOR_SCRIPT}, AxisMjpegEditor {${(global || []).join(', ')}})`,
        `${types.length}/${types.length} types registered, deployed nodes ${invalidDeployed.length ? `${invalidDeployed.length} invalid` : 'all valid'}`,
        `${cases.length} validateNode cases (${cases.length - invalid} valid incl. each type's defaults, ${invalid} invalid): ${v.failures.length ? `${v.failures.length} not as expected` : 'all as expected'}`,
        `axmjpeg-throttle dialog: ${dialog.ok ? 'validators follow the mode being edited' : 'FAILED'}`,
        `${pageErrors.length} page errors, ${consoleErrors.length} console errors, ${badResponses.length} failed requests`,
        `${Date.now() - t0} ms with browser start`,
      ].join('; '),
      detail: problems.join('\n'),
    };
  } finally {
    await browser.close();
  }
}

module.exports = { editorCheck };
