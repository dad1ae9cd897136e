'use strict';
/**
 * The settings.js every Node-RED this project starts runs with (the demo, the
 * end-to-end check, the fan-out bench): loopback only, no telemetry, no
 * palette or module installs, no projects, so a run needs no network and
 * touches nothing outside its user dir.
 */
const fs = require('node:fs');
const path = require('node:path');

/**
 * Writes `<userDir>/settings.js` and returns its path.
 * opts: { writer: who writes it (first-line comment), host, credentialSecret,
 *         logLevel (default 'info'), httpNodeRoot (default '/'; the Home
 *         Assistant add-on serves flows under '/endpoint/'),
 *         lines: extra `key: value` source lines }.
 */
function writeNodeRedSettings(userDir, opts) {
  const lines = [
    `uiHost: ${JSON.stringify(opts.host || '127.0.0.1')},`,
    ...(opts.lines || []),
    "flowFile: 'flows.json',",
    `credentialSecret: ${JSON.stringify(opts.credentialSecret)},`,
    "httpAdminRoot: '/',",
    `httpNodeRoot: ${JSON.stringify(opts.httpNodeRoot || '/')},`,
    `logging: { console: { level: ${JSON.stringify(opts.logLevel || 'info')}, metrics: false, audit: false } },`,
    'diagnostics: { enabled: false, ui: false },',
    'telemetry: { enabled: false, updateNotification: false },',
    'externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },',
    'editorTheme: { projects: { enabled: false }, tours: false, palette: { catalogues: [] } },',
    'functionExternalModules: false,',
  ];
  const file = path.join(userDir, 'settings.js');
  fs.writeFileSync(file, `// Written by ${opts.writer}: edit that script, not this file.\nmodule.exports = {\n${lines.map((l) => `    ${l}`).join('\n')}\n};\n`);
  return file;
}

module.exports = { writeNodeRedSettings };
