/**
 * Which Node-RED the tests run on (test/support/node-red-runtime.ts): CI's
 * second line sets NODE_RED_DIR to Node-RED 5 and must really get it, in the
 * test helper as in a node-red child process, or that line proves nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeRedRuntime } from './support/node-red-runtime';
import { helper, runtime } from './support/node-red';

function withEnv<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.NODE_RED_DIR;
  if (value === undefined) delete process.env.NODE_RED_DIR;
  else process.env.NODE_RED_DIR = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.NODE_RED_DIR;
    else process.env.NODE_RED_DIR = saved;
  }
}

describe('Node-RED under test (NODE_RED_DIR)', function () {
  let tmp = '';
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-red-runtime-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('the test helper runs the Node-RED the resolver names', function () {
    // Node-RED 4 appends -git when its folder has no .git beside it.
    assert.match(helper._RED.version(), new RegExp(`^${runtime.version.replace(/\./g, '\\.')}(-git)?$`));
    if (process.env.NODE_RED_DIR) assert.equal(runtime.from, 'NODE_RED_DIR');
    else assert.equal(runtime.from, 'devDependency');
  });

  it('its red.js starts that version on this Node.js', function () {
    this.timeout(30_000);
    // --version prints both and exits without starting a server.
    const r = spawnSync(process.execPath, [runtime.redJs, '--version'], { encoding: 'utf8', timeout: 25_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Node-RED v${runtime.version.replace(/\./g, '\\.')}\\b`));
    assert.match(r.stdout, new RegExp(`Node\\.js v${process.versions.node.replace(/\./g, '\\.')}\\b`));
  });

  it('takes the node-red folder itself or the folder it was npm-installed into', function () {
    const pkgDir = path.join(tmp, 'node_modules', 'node-red');
    fs.mkdirSync(pkgDir, { recursive: true });
    fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name: 'node-red', version: '9.9.9', main: 'lib/red.js' }));
    for (const dir of [tmp, pkgDir]) {
      const r = withEnv(dir, () => nodeRedRuntime());
      assert.deepEqual(
        { dir: r.dir, version: r.version, main: r.main, redJs: r.redJs, from: r.from },
        { dir: pkgDir, version: '9.9.9', main: path.join(pkgDir, 'lib', 'red.js'), redJs: path.join(pkgDir, 'red.js'), from: 'NODE_RED_DIR' },
      );
    }
  });

  it('names the folder and the install command when NODE_RED_DIR holds no node-red', function () {
    fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'not-node-red', version: '1.0.0' }));
    assert.throws(
      () => withEnv(tmp, () => nodeRedRuntime()),
      (e: Error) => e.message.includes(`NODE_RED_DIR=${tmp}`) && e.message.includes('npm install --prefix'),
    );
  });

  it('refuses a Node-RED whose engines this Node.js does not meet, naming both versions', function () {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    const write = (node: string) =>
      fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'node-red', version: '9.0.0', engines: { node } }));
    write(`>=${major}.${minor + 1}`);
    assert.throws(
      () => withEnv(tmp, () => nodeRedRuntime()),
      (e: Error) => e.message.includes(`needs Node.js >=${major}.${minor + 1}, this is ${process.version}`) && e.message.includes('NODE_RED_DIR'),
    );
    write(`>=${major}.${minor}`);
    assert.equal(withEnv(tmp, () => nodeRedRuntime()).version, '9.0.0');
  });

  it('without NODE_RED_DIR: the devDependency', function () {
    const r = withEnv(undefined, () => nodeRedRuntime());
    assert.equal(r.from, 'devDependency');
    assert.equal(r.dir, path.dirname(require.resolve('node-red/package.json')));
  });
});
