/**
 * A real Node-RED (node-red/red.js as a child process) with this package's
 * nodes, for tests where Node-RED's own HTTP stack matters: adminAuth and
 * permissions, body parsing, its admin API beside ours.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from './wait';

export interface NodeRedCli {
  /** http://127.0.0.1:<port> */
  base: string;
  port: number;
  /** Everything the child printed so far. */
  log(): string;
  stop(): Promise<void>;
}

export interface NodeRedCliOptions {
  /** Merged over loopback-only defaults (uiPort 0, no telemetry, no installs). */
  settings?: Record<string, unknown>;
  flows: unknown[];
  /** flows_cred.json in plain text (credentialSecret false). */
  credentials?: Record<string, Record<string, string>>;
}

/** bcrypt hash for adminAuth / httpNodeAuth, with Node-RED's own bcryptjs. */
export function bcryptHash(password: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bcrypt = require(require.resolve('bcryptjs', { paths: [path.dirname(require.resolve('node-red'))] }));
  return bcrypt.hashSync(password, 8);
}

export async function startNodeRedCli(opts: NodeRedCliOptions): Promise<NodeRedCli> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-cli-'));
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: 0,
    nodesDir: [path.resolve(__dirname, '..', '..', 'nodes')],
    flowFile: 'flows.json',
    credentialSecret: false,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    diagnostics: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    externalModules: { autoInstall: false },
    ...opts.settings,
  };
  fs.writeFileSync(path.join(dir, 'settings.js'), `module.exports = ${JSON.stringify(settings)};\n`);
  fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(opts.flows));
  if (opts.credentials) fs.writeFileSync(path.join(dir, 'flows_cred.json'), JSON.stringify(opts.credentials));
  const red = path.join(path.dirname(require.resolve('node-red/package.json')), 'red.js');
  // The child resolves undici from the repository even when built to another folder.
  const env = { ...process.env, NODE_PATH: path.resolve(path.dirname(require.resolve('node-red/package.json')), '..') };
  const child: ChildProcess = spawn(process.execPath, [red, '--userDir', dir, '--settings', path.join(dir, 'settings.js')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => /Server now running at http:\/\/127\.0\.0\.1:\d+/.test(out) && /Started flows/.test(out), 30_000, 'Node-RED started');
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  const port = Number(/Server now running at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  return { base: `http://127.0.0.1:${port}`, port, log: () => out, stop };
}
