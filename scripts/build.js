#!/usr/bin/env node
'use strict';
// Compiles TypeScript to dist/ and copies each node's editor .html, locales and
// icons beside its compiled .js, where Node-RED looks for them.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
// OUT_DIR lets parallel work build into its own folder without clobbering dist/.
const dist = path.resolve(root, process.env.OUT_DIR || 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root, '--outDir', dist], { stdio: 'inherit' });

function copyTree(src, dst, filter) {
  if (!fs.existsSync(src)) return;
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, entry.name);
    const d = path.join(dst, entry.name);
    if (entry.isDirectory()) copyTree(s, d, filter);
    else if (filter(entry.name)) {
      fs.mkdirSync(dst, { recursive: true });
      fs.copyFileSync(s, d);
    }
  }
}

const assets = (name) => !name.endsWith('.ts');
copyTree(path.join(root, 'nodes'), path.join(dist, 'nodes'), assets);
// Test fixtures (JPEG samples etc.) live beside the tests that use them.
copyTree(path.join(root, 'test', 'fixtures'), path.join(dist, 'test', 'fixtures'), () => true);

// The Dashboard 2.0 widget (dashboard/, its own package): its Vue component built to the UMD file the
// dashboard loads. The built file is committed too, so a checkout without vite (an install from git,
// a worktree sharing an older node_modules) still has a working widget.
function buildWidget() {
  let vite;
  try {
    vite = path.join(path.dirname(require.resolve('vite/package.json', { paths: [root] })), 'bin', 'vite.js');
    require.resolve('@vitejs/plugin-vue/package.json', { paths: [root] });
  } catch {
    console.log('build: vite is not installed, keeping the committed dashboard/resources/ui-axmjpeg-camera.umd.js');
    return;
  }
  execFileSync(process.execPath, [vite, 'build', '--config', path.join(root, 'dashboard', 'vite.config.mjs')], { cwd: path.join(root, 'dashboard'), stdio: 'inherit' });
}
buildWidget();
