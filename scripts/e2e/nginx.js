'use strict';
/**
 * Debian's nginx, started by the e2e check with its own config on 127.0.0.1
 * (never the system service): the reverse-proxy setup the README documents
 * for axmjpeg-out, plus the variants the figures compare.
 */
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const { HOST, start, waitFor, freePort, run } = require('./lib');

const READY_TIMEOUT_MS = 15_000;

/**
 * The proxy settings the README gives for axmjpeg-out (one block, used as is
 * by the e2e check). Kept here so the documented text and the tested one
 * cannot drift apart.
 */
const DOCUMENTED = [
  'proxy_http_version 1.1;',
  'proxy_set_header Host $host;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  // WebSocket upgrade (the dashboard's connection, the editor's /comms).
  'proxy_set_header Upgrade $http_upgrade;',
  'proxy_set_header Connection $connection_upgrade;',
  // MJPEG: hand every frame on at once, hold nothing back for a slow viewer.
  'proxy_buffering off;',
  // nginx obeys X-Accel-Buffering but does not forward it: pass it on, so a second nginx tier streams too.
  'proxy_pass_header X-Accel-Buffering;',
];

function location(prefix, upstream, lines) {
  return `    location ${prefix} {\n        proxy_pass ${upstream};\n${lines.map((l) => `        ${l}`).join('\n')}\n    }`;
}

/**
 * Two nginx servers (tier 1 in front of the Node-REDs, tier 2 in front of
 * tier 1). `readTimeoutS` is tier 1's proxy_read_timeout, short so an outage
 * longer than it fits into the check.
 */
function nginxConf({ workDir, tier1, tier2, a, b, bRoot, readTimeoutS }) {
  const tmp = (n) => path.join(workDir, 'tmp', n);
  const timeout = `proxy_read_timeout ${readTimeoutS}s;`;
  const plain = ['proxy_http_version 1.1;', 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;', timeout];
  return `# Written by scripts/e2e/nginx.js
worker_processes 1;
pid ${path.join(workDir, 'nginx.pid')};
error_log ${path.join(workDir, 'error.log')} warn;
events { worker_connections 2048; }
http {
    access_log off;
    client_body_temp_path ${tmp('body')};
    proxy_temp_path ${tmp('proxy')};
    fastcgi_temp_path ${tmp('fastcgi')};
    uwsgi_temp_path ${tmp('uwsgi')};
    scgi_temp_path ${tmp('scgi')};
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen ${HOST}:${tier1};
        # The documented setup.
${location('/a/', `http://${HOST}:${a}/`, [...DOCUMENTED, timeout])}
        # Node-RED under a path prefix (httpNodeRoot '/endpoint/', as the Home Assistant add-on).
${location('/ha/', `http://${HOST}:${b}${bRoot}`, [...DOCUMENTED, timeout])}
        # nginx's defaults (proxy_buffering on): only our X-Accel-Buffering: no makes it stream.
${location('/default/', `http://${HOST}:${a}/`, plain)}
        # Defaults with the header ignored: what a stream without X-Accel-Buffering gets.
${location('/ignored/', `http://${HOST}:${a}/`, [...plain, 'proxy_ignore_headers X-Accel-Buffering;'])}
    }
    server {
        listen ${HOST}:${tier2};
        # Tier 2 with nginx's defaults, in front of tier 1's documented setup (which passes X-Accel-Buffering on) ...
${location('/pass/', `http://${HOST}:${tier1}/a/`, ['proxy_http_version 1.1;', 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;'])}
        # ... and in front of tier 1 with defaults, which swallows the header: tier 2 buffers.
${location('/nopass/', `http://${HOST}:${tier1}/default/`, ['proxy_http_version 1.1;', 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;'])}
    }
}
`;
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, HOST);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function startNginx({ workDir, a, b, bRoot = '/endpoint/', readTimeoutS = 8 }) {
  fs.mkdirSync(path.join(workDir, 'tmp'), { recursive: true });
  fs.chmodSync(workDir, 0o755);
  for (const n of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    fs.mkdirSync(path.join(workDir, 'tmp', n), { recursive: true });
    // Workers run as nobody when the master is root.
    fs.chmodSync(path.join(workDir, 'tmp', n), 0o777);
  }
  const tier1 = await freePort();
  const tier2 = await freePort();
  const conf = path.join(workDir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConf({ workDir, tier1, tier2, a, b, bRoot, readTimeoutS }));
  const test = await run('nginx', ['-t', '-p', workDir, '-c', conf, '-g', 'daemon off;'], { timeoutMs: 10_000 });
  if (test.code !== 0) throw new Error(`nginx -t: ${test.stderr}`);
  const child = start('nginx', ['-p', workDir, '-c', conf, '-g', 'daemon off;'], { name: 'nginx' });
  await waitFor('nginx', async () => {
    if (child.proc.exitCode !== null) throw new Error(`nginx exited: ${child.output()}`);
    return (await portOpen(tier1)) && (await portOpen(tier2));
  }, READY_TIMEOUT_MS);
  const version = (await run('nginx', ['-v'])).stderr.trim();
  return { child, tier1, tier2, conf, version, tempDir: path.join(workDir, 'tmp', 'proxy'), errorLog: path.join(workDir, 'error.log') };
}

/** Bytes in nginx's proxy temp files (what it buffered to disk for slow clients). */
function dirBytes(dir) {
  let n = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          n += fs.statSync(p).size;
        } catch { /* removed meanwhile */ }
      }
    }
  };
  try {
    walk(dir);
  } catch { /* not there yet */ }
  return n;
}

/**
 * Bytes nginx holds in proxy temp files, counted through its workers' open
 * file descriptors too (a temp file may be unlinked while still in use).
 */
function tempBytes(masterPid, tempDir) {
  let n = 0;
  const seen = new Set();
  const pids = [masterPid];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === masterPid) pids.push(Number(p));
    } catch { /* gone */ }
  }
  for (const pid of pids) {
    let fds = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch { continue; }
    for (const fd of fds) {
      try {
        const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (!target.startsWith(tempDir)) continue;
        const st = fs.statSync(`/proc/${pid}/fd/${fd}`);
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
        n += st.size;
      } catch { /* closed meanwhile */ }
    }
  }
  return Math.max(n, dirBytes(tempDir));
}

module.exports = { startNginx, nginxConf, DOCUMENTED, dirBytes, tempBytes };
