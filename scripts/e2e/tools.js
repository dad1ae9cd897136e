'use strict';
/**
 * The third-party programs the end-to-end check needs. Missing ones are
 * installed with apt-get (Debian/Ubuntu, as root or with password-less sudo);
 * whatever is still missing afterwards is reported as a failed check.
 */
const fs = require('node:fs');
const { run, has } = require('./lib');
const { unprivileged, runsAs } = require('./unprivileged');

const APT_PACKAGES = [
  'ffmpeg',
  'python3-opencv',
  'gstreamer1.0-tools',
  'gstreamer1.0-plugins-base',
  'gstreamer1.0-plugins-good',
  'chromium',
  // The live-view browser test (test/browser-live-view.test.ts) drives it over WebDriver BiDi.
  'firefox-esr',
  'apache2',
  'vlc-bin',
  'vlc-plugin-base',
  'motion',
  // Scaling out (scripts/e2e/scaling.js): a reverse proxy in front of Node-RED, and an MQTT broker.
  'nginx',
  'mosquitto',
];
/** Debian's packages enable and start these; the check runs its own instances with its own configs. */
const SERVICES_TO_STOP = { motion: 'motion.service', nginx: 'nginx.service', mosquitto: 'mosquitto.service' };
const FIREFOX = '/usr/bin/firefox-esr';
const APT_TIMEOUT_MS = 10 * 60_000;
const PROBE_TIMEOUT_MS = 30_000;
const GST_ELEMENTS = ['souphttpsrc', 'multipartdemux', 'jpegdec', 'identity', 'fakesink'];
/** VLC modules the reader uses (names as `vlc --list` prints them). */
const VLC_MODULES = ['dummy', 'http', 'mjpeg', 'avcodec', 'stream_out_transcode', 'stream_out_standard', 'mpjpeg', 'file'];
const APACHE_MODULES = ['mod_auth_digest.so', 'mod_authn_file.so', 'mod_proxy.so', 'mod_proxy_http.so', 'mod_mpm_event.so'];

const firstLine = (s) => String(s).trim().split('\n')[0].slice(0, 120);

async function probe(cmd, args, env) {
  const r = await run(cmd, args, { timeoutMs: PROBE_TIMEOUT_MS, env });
  return { ok: r.code === 0, out: r.stdout + r.stderr };
}

/** One entry per tool: { name, ok, version, detail }. */
async function probeAll() {
  const out = [];
  const add = (name, ok, version, detail) => out.push({ name, ok, version: ok ? version : '', detail: ok ? '' : detail });

  for (const cmd of ['ffmpeg', 'ffprobe']) {
    const p = has(cmd) ? await probe(cmd, ['-hide_banner', '-version']) : { ok: false, out: 'not on PATH' };
    add(cmd, p.ok, firstLine(p.out), p.out);
  }

  if (has('gst-launch-1.0') && has('gst-inspect-1.0')) {
    const v = await probe('gst-launch-1.0', ['--version']);
    const missing = [];
    for (const el of GST_ELEMENTS) if (!(await probe('gst-inspect-1.0', [el])).ok) missing.push(el);
    add('gstreamer', v.ok && missing.length === 0, `${firstLine(v.out.split('\n')[1] || v.out)}; ${GST_ELEMENTS.join(', ')}`, `missing elements: ${missing.join(', ')}`);
  } else add('gstreamer', false, '', 'gst-launch-1.0 / gst-inspect-1.0 not on PATH');

  const { SYSTEM_PYTHON, CHROMIUM } = require('./readers');
  const cv = fs.existsSync(SYSTEM_PYTHON) ? await probe(SYSTEM_PYTHON, ['-c', 'import cv2; print("OpenCV", cv2.__version__)']) : { ok: false, out: `${SYSTEM_PYTHON} missing` };
  add('python3-opencv', cv.ok, `${SYSTEM_PYTHON}: ${firstLine(cv.out)}`, cv.out);

  const ch = fs.existsSync(CHROMIUM) ? await probe(CHROMIUM, ['--version']) : { ok: false, out: `${CHROMIUM} missing` };
  add('chromium', ch.ok, firstLine(ch.out), ch.out);

  const ff = fs.existsSync(FIREFOX) ? await probe(FIREFOX, ['--version']) : { ok: false, out: `${FIREFOX} missing` };
  add('firefox-esr', ff.ok, firstLine(ff.out), ff.out);

  let pw = null;
  try {
    pw = require('playwright-core/package.json').version;
  } catch { /* reported */ }
  add('playwright-core', !!pw, `playwright-core ${pw}`, 'playwright-core is not installed (npm ci installs the devDependency)');

  if (has('apache2')) {
    const v = await probe('apache2', ['-v']);
    const missing = APACHE_MODULES.filter((m) => !fs.existsSync(`/usr/lib/apache2/modules/${m}`));
    add('apache2', v.ok && missing.length === 0, firstLine(v.out), `${v.out} missing modules: ${missing.join(', ')}`);
  } else add('apache2', false, '', 'apache2 not on PATH');

  if (has('vlc')) {
    // As the reader runs it: VLC exits at once when started as root.
    const vlc = (...args) => probe(...unprivileged('vlc', args), { PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C' });
    const v = await vlc('--version');
    const list = await vlc('--list');
    const listed = new Set(list.out.split('\n').map((l) => l.trim().split(/\s+/)[0]));
    const missing = VLC_MODULES.filter((m) => !listed.has(m));
    add('vlc', v.ok && list.ok && missing.length === 0, `${firstLine(v.out)}; run as ${runsAs()}; ${VLC_MODULES.join(', ')}`, `${firstLine(v.out)} missing modules: ${missing.join(', ')}`);
  } else add('vlc', false, '', 'vlc not on PATH');

  if (has('motion')) {
    // `motion -h` prints its version and exits 1.
    const m = await probe('motion', ['-h']);
    const version = /motion Version ([\d.]+)/.exec(m.out);
    add('motion', !!version, version ? `motion ${version[1]}` : '', m.out);
  } else add('motion', false, '', 'motion not on PATH');

  const nginx = has('nginx') ? await probe('nginx', ['-v']) : { ok: false, out: 'nginx not on PATH' };
  add('nginx', nginx.ok, firstLine(nginx.out), nginx.out);
  if (has('mosquitto')) {
    // `mosquitto -h` prints its version and exits 3.
    const m = await probe('mosquitto', ['-h']);
    const version = /mosquitto version ([\d.]+)/.exec(m.out);
    add('mosquitto', !!version, version ? `mosquitto ${version[1]}` : '', m.out);
  } else add('mosquitto', false, '', 'mosquitto not on PATH');
  return out;
}

async function aptInstall() {
  const root = process.getuid && process.getuid() === 0;
  const prefix = root ? [] : has('sudo') ? ['sudo', '-n'] : null;
  if (!prefix) return { ok: false, detail: 'not root and no sudo: cannot apt-get install' };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const exec = (args) => {
    const [cmd, ...rest] = [...prefix, ...args];
    return run(cmd, rest, { timeoutMs: APT_TIMEOUT_MS, env });
  };
  const had = Object.fromEntries(Object.keys(SERVICES_TO_STOP).map((cmd) => [cmd, has(cmd)]));
  const u = await exec(['apt-get', 'update']);
  if (u.code !== 0) return { ok: false, detail: `apt-get update: ${u.stderr.slice(-1000)}` };
  const i = await exec(['apt-get', 'install', '-y', '--no-install-recommends', ...APT_PACKAGES]);
  // Where systemd runs, Debian's motion, nginx and mosquitto packages enable and
  // start their service (motion on /dev/video0 and ports 8080/8081, nginx on
  // port 80, mosquitto on 1883). The check starts its own instances; a system
  // daemon it installed would only hold ports and CPU. One that was there
  // before is the machine owner's and is left alone.
  if (i.code === 0 && fs.existsSync('/run/systemd/system')) {
    for (const [cmd, unit] of Object.entries(SERVICES_TO_STOP)) {
      if (had[cmd]) continue;
      const s = await exec(['systemctl', 'disable', '--now', unit]);
      console.log(`      ${unit}, started by the ${cmd} package: ${s.code === 0 ? 'stopped and disabled' : `systemctl disable --now failed: ${s.stderr.trim().slice(-300)}`}`);
    }
  }
  return { ok: i.code === 0, detail: i.code === 0 ? '' : `apt-get install: ${i.stderr.slice(-1000)}` };
}

/** Probes, installs what is missing, probes again. */
async function ensureTools() {
  let checks = await probeAll();
  let installMs = 0;
  if (checks.some((c) => !c.ok && c.name !== 'playwright-core')) {
    console.log(`      missing: ${checks.filter((c) => !c.ok).map((c) => c.name).join(', ')} → apt-get install ${APT_PACKAGES.join(' ')}`);
    const t0 = Date.now();
    const r = await aptInstall();
    installMs = Date.now() - t0;
    checks = await probeAll();
    if (!r.ok) checks.push({ name: 'apt-get install', ok: false, version: '', detail: r.detail });
  }
  return { checks, installMs };
}

module.exports = { ensureTools, APT_PACKAGES };

// `node scripts/e2e/tools.js`: install the tools before `npm test` too, so the
// unit tests that read our output with ffmpeg or GStreamer run instead of
// skipping on a fresh machine. Exits non-zero when a tool is still missing.
if (require.main === module) {
  ensureTools().then(
    ({ checks, installMs }) => {
      for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'MISSING'}  ${c.name}${c.ok ? ` — ${c.version}` : `: ${String(c.detail).slice(0, 300)}`}`);
      if (installMs) console.log(`(apt-get install took ${(installMs / 1000).toFixed(1)} s)`);
      process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
