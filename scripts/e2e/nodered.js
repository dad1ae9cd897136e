'use strict';
/**
 * Packs the package exactly as `npm publish` would, installs the tarball into
 * a fresh Node-RED user dir, starts the real Node-RED and deploys flows
 * through the Admin HTTP API.
 */
const fs = require('node:fs');
const path = require('node:path');
const { HOST, start, run, request, waitFor, freePort } = require('./lib');
const { writeNodeRedSettings } = require('../lib/nodered-settings');

const ADMIN_READY_TIMEOUT_MS = 90_000;
const NPM_TIMEOUT_MS = 240_000;
/** Only protects this throw-away user dir's flows_cred.json. */
const CREDENTIAL_SECRET = 'axis-mjpeg-e2e-credential-secret';

function copyTree(src, dst) {
  fs.cpSync(src, dst, { recursive: true, dereference: true });
}

/**
 * `npm pack` of a staging copy: package.json's "files" plus the build from
 * `dist` (which may be an OUT_DIR outside the project). Returns the .tgz path
 * and the staging dir (for node-red-dev validate).
 */
async function packPackage({ root, dist, workDir }) {
  const stage = path.join(workDir, 'package');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  for (const entry of pkg.files || []) {
    const rel = entry.replace(/\/$/, '');
    const from = rel.startsWith('dist/') ? path.join(dist, rel.slice('dist/'.length)) : path.join(root, rel);
    if (!fs.existsSync(from)) throw new Error(`package.json "files" names ${entry}, but ${from} does not exist (build first)`);
    copyTree(from, path.join(stage, rel));
  }
  fs.copyFileSync(path.join(root, 'package.json'), path.join(stage, 'package.json'));
  const r = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', workDir], { cwd: stage, timeoutMs: NPM_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  const info = JSON.parse(r.stdout)[0];
  return { tgz: path.join(workDir, info.filename), stage, files: info.files.length, size: info.size };
}

function writeSettings(userDir, extra = {}) {
  return writeNodeRedSettings(userDir, { writer: 'scripts/e2e/nodered.js', host: HOST, credentialSecret: CREDENTIAL_SECRET, ...extra });
}

/** Fresh user dir with the tarball installed from npm (its dependencies from the registry or cache). */
async function prepareUserDir(userDir, tgz) {
  fs.rmSync(userDir, { recursive: true, force: true });
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-e2e-user', private: true, version: '0.0.0' }, null, 2));
  const t0 = Date.now();
  const r = await run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', tgz], { cwd: userDir, timeoutMs: NPM_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`npm install ${path.basename(tgz)} failed: ${r.stderr.slice(-2000)}`);
  return { settings: writeSettings(userDir), installMs: Date.now() - t0 };
}

/**
 * Starts red.js of the project's devDependency node-red, or of the Node-RED
 * $NODE_RED_DIR names (test/support/node-red-runtime.ts, loaded from the build
 * in `dist`); resolves once the admin API answers.
 */
async function startNodeRed({ root, dist = path.join(root, 'dist'), userDir, settings, echo = false, port: fixedPort = 0, name = 'node-red' }) {
  // A fixed port: the same instance started again (a restart its downstream readers must survive).
  const port = fixedPort || (await freePort());
  const runtime = require(path.join(dist, 'test', 'support', 'node-red-runtime.js')).nodeRedRuntime(root);
  const t0 = Date.now();
  const child = start(process.execPath, [runtime.redJs, '-u', userDir, '-p', String(port), '-s', settings], {
    name,
    echo,
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
  });
  const base = `http://${HOST}:${port}`;
  await waitFor(
    'Node-RED admin API',
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`Node-RED exited: ${child.output()}`);
      const r = await request(`${base}/settings`, { headers: { Accept: 'application/json' } });
      return r.status === 200;
    },
    ADMIN_READY_TIMEOUT_MS,
  );
  return { child, base, port, startMs: Date.now() - t0, version: runtime.version, from: runtime.from };
}

/** Node types from GET /nodes, and any load errors Node-RED reports for a module. */
async function loadedNodes(base, moduleName) {
  const r = await request(`${base}/nodes`, { headers: { Accept: 'application/json' } });
  if (r.status !== 200) throw new Error(`GET /nodes: HTTP ${r.status}`);
  const sets = JSON.parse(r.body.toString('utf8')).filter((s) => s.module === moduleName);
  return {
    types: sets.filter((s) => s.enabled !== false && s.loaded !== false).flatMap((s) => s.types || []),
    errors: sets.filter((s) => s.err).map((s) => `${s.name}: ${typeof s.err === 'string' ? s.err : s.err.message || JSON.stringify(s.err)}`),
    version: sets[0] && sets[0].version,
  };
}

async function deployFlows(base, flows) {
  const r = await request(`${base}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' },
    body: JSON.stringify({ flows }),
  });
  if (r.status !== 200 && r.status !== 204) throw new Error(`POST /flows: HTTP ${r.status} ${r.body.toString('utf8')}`);
}

module.exports = { packPackage, prepareUserDir, startNodeRed, loadedNodes, deployFlows, writeSettings };
