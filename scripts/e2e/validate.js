'use strict';
/**
 * `node-red-dev validate` — the Flow Library's own scorecard tool — on the
 * staged package (exactly the files `npm pack` ships).
 *
 * node-red-dev downloads https://catalogue.nodered.org/catalogue.json for two
 * checks (P08 similar package names, N01 unique node type names). Where that
 * host cannot be reached (offline CI), the tool would stop with ENOTFOUND
 * before checking the nodes at all; then a preload answers that single URL
 * with an empty catalogue, and the result says plainly that P08/N01 were NOT
 * verified. Everything else (registry look-ups, node and example checks) runs
 * unchanged.
 */
const dns = require('node:dns');
const fs = require('node:fs');
const path = require('node:path');
const { run } = require('./lib');

/** Pinned so the scorecard does not change under us. */
const NODE_RED_DEV = 'node-red-dev@0.1.6';
const CATALOGUE_HOST = 'catalogue.nodered.org';
const VALIDATE_TIMEOUT_MS = 5 * 60_000;

const PRELOAD = `'use strict';
// Written by scripts/e2e/validate.js: ${CATALOGUE_HOST} is unreachable here.
const Module = require('module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const mod = load.apply(this, arguments);
  if (request === 'axios' && mod && typeof mod.get === 'function' && !mod.__e2eCatalogueStub) {
    const get = mod.get.bind(mod);
    mod.get = (url, ...rest) =>
      String(url).startsWith(${JSON.stringify(`https://${CATALOGUE_HOST}/`)})
        ? Promise.resolve({ status: 200, data: { modules: [] } })
        : get(url, ...rest);
    mod.__e2eCatalogueStub = true;
  }
  return mod;
};
`;

function resolvable(host) {
  return new Promise((resolve) => dns.lookup(host, (err) => resolve(!err)));
}

/**
 * Returns { ok, figures, detail, output, warnings, errors, catalogue }.
 * ok: exit 0, "Complete" printed and no error line. Warnings never fail it.
 */
async function validatePackage(stageDir) {
  const catalogue = await resolvable(CATALOGUE_HOST);
  const env = { ...process.env, npm_config_update_notifier: 'false' };
  const scoreFile = path.join(path.dirname(stageDir), 'scorecard.json');
  if (!catalogue) {
    const preload = path.join(path.dirname(stageDir), 'node-red-dev-catalogue-stub.js');
    fs.writeFileSync(preload, PRELOAD);
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ? `${env.NODE_OPTIONS} ` : ''}--require ${preload}`;
  }
  const r = await run('npx', ['-y', NODE_RED_DEV, 'validate', '-p', stageDir, '-o', scoreFile], { env, timeoutMs: VALIDATE_TIMEOUT_MS, cwd: path.dirname(stageDir) });
  const output = (r.stdout + r.stderr)
    .split('\n')
    .filter((l) => !/^npm warn Unknown user config/.test(l))
    .join('\n')
    .trimEnd();
  // Only node-red-dev's own "› Warning: <code>" lines: Node 24 adds a DeprecationWarning (punycode) of node-red-dev's dependencies.
  const warnings = output.split('\n').filter((l) => /^\s*›\s*Warning:/.test(l)).map((l) => l.replace(/^\s*›\s*Warning:\s*/, '').trim());
  const errors = output.split('\n').filter((l) => /^\s*(›\s*)?Error:|\u274c/.test(l)).map((l) => l.trim());
  let failedTests = [];
  try {
    const card = JSON.parse(fs.readFileSync(scoreFile, 'utf8'));
    failedTests = Object.entries(card).filter(([, v]) => v && v.test === false).map(([k]) => k);
  } catch { /* no scorecard: reported through ok */ }
  const complete = /^Complete$/m.test(output);
  const ok = r.code === 0 && complete && errors.length === 0;
  const note = catalogue ? '' : `; ${CATALOGUE_HOST} unreachable: P08/N01 (name uniqueness) NOT verified`;
  return {
    ok,
    output,
    warnings,
    errors,
    failedTests,
    catalogue,
    figures: `${NODE_RED_DEV}: ${errors.length} errors, ${warnings.length} warnings (${warnings.map((w) => w.split(' ')[0]).join(', ') || '-'}), scorecard tests false: ${failedTests.join(', ') || '-'}${note}`,
    detail: `exit ${r.code}${r.timedOut ? ' (timeout)' : ''}${complete ? '' : ', did not complete'}; errors: ${errors.join(' | ') || '-'}`,
  };
}

module.exports = { validatePackage, NODE_RED_DEV };
