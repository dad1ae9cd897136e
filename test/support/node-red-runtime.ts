/**
 * Which Node-RED the tests, the e2e and the demo run: the devDependency by
 * default, or the one NODE_RED_DIR names, so CI can run the same tests on
 * another major release (installed beside the project, e.g. .ci/runtimes/)
 * without changing package-lock.json. No dependencies: scripts/demo.js and
 * scripts/e2e load this file from the build.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface NodeRedRuntime {
  /** The node-red package folder (holds red.js and package.json). */
  dir: string;
  version: string;
  /** What `require('node-red')` loads: the module node-red-node-test-helper is given. */
  main: string;
  /** The CLI entry point. */
  redJs: string;
  /** Where it came from, for logs. */
  from: string;
}

interface NodeRedPackage {
  version: string;
  main?: string;
  engines?: { node?: string };
}

function readNodeRedPackage(dir: string): NodeRedPackage | null {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    return pkg.name === 'node-red' ? pkg : null;
  } catch {
    return null;
  }
}

/**
 * NODE_RED_DIR may name the node-red package folder itself or a folder it was
 * npm-installed into (`npm install --prefix X node-red@5`: X/node_modules/node-red).
 * `from` is where the devDependency is looked up (the project root).
 */
export function nodeRedRuntime(from: string = __dirname): NodeRedRuntime {
  const env = process.env.NODE_RED_DIR;
  let dir: string;
  let source: string;
  if (env) {
    const base = path.resolve(env);
    const found = [base, path.join(base, 'node_modules', 'node-red')].find((d) => readNodeRedPackage(d));
    if (!found) throw new Error(`NODE_RED_DIR=${env}: no node-red package there nor in its node_modules/ (npm install --prefix ${env} node-red@5)`);
    dir = found;
    source = 'NODE_RED_DIR';
  } else {
    dir = path.dirname(require.resolve('node-red/package.json', { paths: [from] }));
    source = 'devDependency';
  }
  const pkg = readNodeRedPackage(dir)!;
  const floor = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(pkg.engines?.node?.trim() ?? '');
  if (floor && olderThan(process.versions.node, floor[1]!)) {
    // Else Node-RED 5 on Node 20 fails somewhere inside its dependencies.
    throw new Error(
      `Node-RED ${pkg.version} (${source}, ${dir}) needs Node.js ${pkg.engines!.node}, this is ${process.version}: ` +
        'put a newer node first on PATH (.ci/run installs one into .ci/runtimes/) or unset NODE_RED_DIR',
    );
  }
  return {
    dir,
    version: pkg.version,
    main: path.join(dir, pkg.main || 'lib/red.js'),
    redJs: path.join(dir, 'red.js'),
    from: source,
  };
}

function olderThan(version: string, floor: string): boolean {
  const a = version.split('.').map(Number);
  const b = floor.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/** A module as this Node-RED itself resolves it (its core nodes, its bcryptjs). */
export function resolveFromNodeRed(request: string, runtime: NodeRedRuntime = nodeRedRuntime()): string {
  return require.resolve(request, { paths: [runtime.dir] });
}
