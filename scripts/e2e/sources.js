'use strict';
/**
 * Video sources for the end-to-end check, each a separate process:
 *  - the camera simulator (its CLI), with Digest or without auth;
 *  - an ffmpeg MJPEG HTTP server (chunked HTTP/1.1, its own boundary);
 *  - Apache httpd with mod_auth_digest + mod_proxy in front of a simulator,
 *    so Digest is checked by a server implementation nobody here wrote;
 *  - the motion daemon (motionEye's engine) re-serving a simulator's stream
 *    on its own stream port (libmicrohttpd, Digest, its own boundary);
 *  - the simulator as an HTTPS-only camera (AXIS OS 13 style): a self-signed
 *    certificate made at start-up, Basic over https, plain http redirecting.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { HOST, start, freePort, waitFor, request, sleep } = require('./lib');
const { unprivileged, ownedDir } = require('./unprivileged');

const SOURCE_READY_TIMEOUT_MS = 20_000;
const APACHE_MODULES_DIR = '/usr/lib/apache2/modules';
/** Modules the front needs; unixd, core and logging are compiled into Debian's httpd. */
const APACHE_MODULES = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['authz_user_module', 'mod_authz_user.so'],
  ['authn_core_module', 'mod_authn_core.so'],
  ['authn_file_module', 'mod_authn_file.so'],
  ['auth_digest_module', 'mod_auth_digest.so'],
  ['proxy_module', 'mod_proxy.so'],
  ['proxy_http_module', 'mod_proxy_http.so'],
];
const APACHE_REALM = 'AXIS_E2E';

/** Starts `node <dist>/simulator/cli.js` and waits until it answers. */
async function startSimulatorProcess({ dist, nodePath, auth, user, pass }) {
  const port = await freePort();
  const cli = path.join(dist, 'simulator', 'cli.js');
  const args = [cli, '--host', HOST, '--port', String(port), '--auth', auth];
  if (auth !== 'none') args.push('--user', user, '--pass', pass);
  const child = start(process.execPath, args, { name: `simulator(${auth})`, env: { ...process.env, NODE_PATH: nodePath } });
  await waitFor(
    `simulator (${auth})`,
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`exited: ${child.output()}`);
      const r = await request(`http://${HOST}:${port}/axis-cgi/jpg/image.cgi`);
      return auth === 'none' ? r.status === 200 : r.status === 401;
    },
    SOURCE_READY_TIMEOUT_MS,
  );
  return { child, port };
}

/**
 * ffmpeg's own HTTP server serves one client and then exits, so it is
 * restarted whenever it ends; `connections` counts how often that was.
 * Left alone, ffmpeg 5.x labels the stream `application/octet-stream` (the
 * body is still `--ffmpeg` multipart); `contentType` sets the header instead.
 */
async function startFfmpegServer({ size = '640x480', rate = 10, contentType = null } = {}) {
  const port = await freePort();
  const url = `http://${HOST}:${port}/feed.mjpg`;
  const state = { port, path: '/feed.mjpg', url, connections: 0, child: null, stopped: false, lastOutput: '' };
  const launch = () => {
    const child = start(
      'ffmpeg',
      ['-hide_banner', '-nostats', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}`,
        '-q:v', '5', '-f', 'mpjpeg', ...(contentType ? ['-content_type', contentType] : []), '-listen', '1', url],
      { name: 'ffmpeg-server' },
    );
    state.child = child;
    child.exited.then(() => {
      state.lastOutput = child.output();
      if (state.stopped) return;
      state.connections++;
      // Avoid a hot loop if ffmpeg cannot start at all.
      setTimeout(() => {
        if (!state.stopped) launch();
      }, 200);
    });
  };
  // Defined before the first launch: a server that never gets ready must still
  // stop relaunching, or the e2e process would never exit.
  state.stop = async () => {
    state.stopped = true;
    if (state.child) await state.child.stop();
  };
  launch();
  // Readiness: the port accepts connections. Probing with a GET would use up
  // ffmpeg's single client, so only check that something listens.
  await waitFor(
    'ffmpeg server',
    () =>
      new Promise((resolve) => {
        const s = require('node:net').connect(port, HOST);
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
    SOURCE_READY_TIMEOUT_MS,
  ).catch(async (e) => {
    await state.stop();
    throw e;
  });
  // The probe connection itself ends one ffmpeg run; wait for the relaunch.
  await sleep(1_000);
  state.connections = 0;
  return state;
}

/** htdigest line: user:realm:MD5(user:realm:password). */
function htdigestLine(user, realm, pass) {
  const ha1 = crypto.createHash('md5').update(`${user}:${realm}:${pass}`).digest('hex');
  return `${user}:${realm}:${ha1}\n`;
}

/** Apache in the foreground, Digest-protected reverse proxy to `upstreamPort`. */
async function startApacheFront({ workDir, upstreamPort, user, pass }) {
  const port = await freePort();
  fs.mkdirSync(workDir, { recursive: true });
  const pw = path.join(workDir, 'digest.pw');
  fs.writeFileSync(pw, htdigestLine(user, APACHE_REALM, pass));
  fs.chmodSync(workDir, 0o755);
  fs.chmodSync(pw, 0o644);
  const conf = path.join(workDir, 'httpd.conf');
  const runAs = process.getuid && process.getuid() === 0 ? 'User www-data\nGroup www-data\n' : '';
  fs.writeFileSync(
    conf,
    `# Written by scripts/e2e/sources.js
ServerRoot "${workDir}"
ServerName ${HOST}
Listen ${HOST}:${port}
PidFile "${workDir}/httpd.pid"
DefaultRuntimeDir "${workDir}"
ErrorLog "${workDir}/error.log"
LogLevel warn
${runAs}${APACHE_MODULES.map(([n, f]) => `LoadModule ${n} ${APACHE_MODULES_DIR}/${f}`).join('\n')}
<Location "/">
    AuthType Digest
    AuthName "${APACHE_REALM}"
    AuthDigestDomain "/"
    AuthDigestProvider file
    AuthUserFile "${pw}"
    Require valid-user
</Location>
# flushpackets: pass each MJPEG part on at once instead of buffering.
ProxyPass "/" "http://${HOST}:${upstreamPort}/" flushpackets=on
ProxyPassReverse "/" "http://${HOST}:${upstreamPort}/"
`,
  );
  const child = start('apache2', ['-f', conf, '-DFOREGROUND'], { name: 'apache2' });
  await waitFor(
    'apache2',
    async () => {
      if (child.proc.exitCode !== null) {
        let log = '';
        try {
          log = fs.readFileSync(path.join(workDir, 'error.log'), 'utf8');
        } catch { /* none */ }
        throw new Error(`exited: ${child.output()} ${log}`);
      }
      const r = await request(`http://${HOST}:${port}/axis-cgi/jpg/image.cgi`);
      return r.status === 401 && /Digest/i.test(String(r.headers['www-authenticate']));
    },
    SOURCE_READY_TIMEOUT_MS,
  );
  return { child, port, errorLog: path.join(workDir, 'error.log') };
}

const readLog = (file) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/**
 * motion in the foreground (-n) with only the config written here: its
 * netcam reads `netcamUrl` (a simulator without auth), its stream port
 * re-serves the pictures behind Digest; no pictures, movies, web control or
 * motion detection (-m), log in `workDir`. Runs unprivileged.
 */
async function startMotion({ workDir, netcamUrl, width, height, fps, user, pass }) {
  const port = await freePort();
  ownedDir(workDir);
  const conf = path.join(workDir, 'motion.conf');
  const log = path.join(workDir, 'motion.log');
  fs.writeFileSync(
    conf,
    `# Written by scripts/e2e/sources.js
daemon off
setup_mode off
log_file ${log}
log_level 6
target_dir ${workDir}
netcam_url ${netcamUrl}
width ${width}
height ${height}
framerate ${fps}
picture_output off
movie_output off
webcontrol_port 0
stream_port ${port}
stream_localhost on
stream_maxrate ${fps}
stream_quality 75
stream_auth_method 2
stream_authentication ${user}:${pass}
`,
  );
  const [cmd, args] = unprivileged('motion', ['-n', '-m', '-c', conf]);
  const child = start(cmd, args, { name: 'motion' });
  const output = () => `${child.output()}\n${readLog(log).slice(-1500)}`.trim();
  await waitFor(
    'motion',
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`exited: ${output()}`);
      const r = await request(`http://${HOST}:${port}/`);
      return r.status === 401 && /Digest/i.test(String(r.headers['www-authenticate']));
    },
    SOURCE_READY_TIMEOUT_MS,
  );
  return { child, port, path: '/', output };
}

/**
 * The simulator CLI with --https-only --auth per-scheme. Its certificate's
 * fingerprint is read from what it prints and checked against the one a TLS
 * handshake of our own sees, so the pin the flow uses is the camera's.
 */
async function startHttpsOnlySimulator({ dist, nodePath, user, pass }) {
  const tls = require('node:tls');
  const port = await freePort();
  const cli = path.join(dist, 'simulator', 'cli.js');
  const args = [cli, '--host', HOST, '--port', String(port), '--auth', 'per-scheme', '--user', user, '--pass', pass, '--https-only'];
  const child = start(process.execPath, args, { name: 'simulator(https-only)', env: { ...process.env, NODE_PATH: nodePath } });
  let printed = null;
  let httpPort = null;
  await waitFor(
    'simulator (https-only)',
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`exited: ${child.output()}`);
      const out = child.output();
      printed = /certificate SHA-256 ([0-9A-F:]{95})/.exec(out)?.[1] ?? null;
      httpPort = Number(/plain http http:\/\/[^:]+:(\d+) redirects/.exec(out)?.[1] ?? NaN);
      return printed !== null && Number.isInteger(httpPort);
    },
    SOURCE_READY_TIMEOUT_MS,
  );
  const seen = await new Promise((resolve, reject) => {
    const s = tls.connect({ host: HOST, port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.once('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('TLS handshake timeout')));
  });
  if (seen !== printed) throw new Error(`printed fingerprint ${printed} is not the served ${seen}`);
  const redirect = await request(`http://${HOST}:${httpPort}/axis-cgi/jpg/image.cgi`);
  if (redirect.status !== 301 || !String(redirect.headers.location).startsWith(`https://${HOST}:${port}/`)) {
    throw new Error(`plain http answered ${redirect.status} ${redirect.headers.location}, not a 301 to https`);
  }
  return { child, port, httpPort, sha256: seen };
}

module.exports = { startHttpsOnlySimulator, startSimulatorProcess, startFfmpegServer, startApacheFront, startMotion };
