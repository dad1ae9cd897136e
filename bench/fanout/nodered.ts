/**
 * A real Node-RED for the benches: the project's devDependency (or $NODE_RED_DIR's) started as a
 * child process on a throw-away user dir where this package is linked (as
 * scripts/demo.js does), flows deployed through the Admin API. Starting and
 * deploying reuse scripts/e2e/nodered.js.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';

/** The compiled benches live in <dist>/bench/…; dist may be an OUT_DIR outside the project. */
export const DIST = path.resolve(__dirname, '..', '..');
const PKG_NAME = '@axmjpeg/node-red-axis-mjpeg';

/** The project folder: the working directory (npm run sets it), else the parent of dist. */
export const ROOT = ((): string => {
  for (const dir of [process.cwd(), path.dirname(DIST)]) {
    try {
      if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === PKG_NAME) return dir;
    } catch {
      /* not here */
    }
  }
  throw new Error(`run from the ${PKG_NAME} project folder`);
})();

interface E2eChild {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}
interface E2eNodeRed {
  startNodeRed(o: { root: string; dist?: string; userDir: string; settings: string; echo?: boolean }): Promise<{ child: E2eChild; base: string; port: number; startMs: number }>;
  deployFlows(base: string, flows: object[]): Promise<void>;
}
interface HttpCheck {
  request(url: string, o?: { timeoutMs?: number }): Promise<{ status: number; body: Buffer }>;
}
// Plain JS helpers of the e2e run, shared rather than copied.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const e2e = require(path.join(ROOT, 'scripts', 'e2e', 'nodered.js')) as E2eNodeRed;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const httpCheck = require(path.join(ROOT, 'scripts', 'lib', 'http-check.js')) as HttpCheck;
interface NodeRedSettings {
  writeNodeRedSettings(userDir: string, opts: { writer: string; host?: string; credentialSecret: string; logLevel?: string; lines?: string[] }): string;
}
const nodeRedSettings = require(path.join(ROOT, 'scripts', 'lib', 'nodered-settings.js')) as NodeRedSettings;

const FIRST_FRAME_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

export interface RunningNodeRed {
  pid: number;
  base: string;
  deploy(flows: object[]): Promise<void>;
  /** Everything Node-RED printed so far (for a failing test's message). */
  output(): string;
  /** Resolves once `<base><path>.jpg` (axmjpeg-out's snapshot of the last frame) answers 200. */
  waitForFrames(streamPath: string): Promise<void>;
  stop(): Promise<void>;
}

function linkPackage(userDir: string): void {
  const link = path.join(userDir, 'node_modules', PKG_NAME);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  if (DIST === path.join(ROOT, 'dist')) {
    fs.symlinkSync(ROOT, link, 'dir');
    return;
  }
  // OUT_DIR build: package.json names dist/…, so give Node-RED a folder whose dist/ is the build.
  fs.mkdirSync(link);
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(link, 'package.json'));
  fs.symlinkSync(DIST, path.join(link, 'dist'), 'dir');
}

function writeSettings(userDir: string, lines: string[] = []): string {
  return nodeRedSettings.writeNodeRedSettings(userDir, { writer: 'bench/fanout/nodered.ts', credentialSecret: 'axis-mjpeg-bench', logLevel: 'warn', lines });
}

/**
 * Dashboard 2.0 and the camera widget (dashboard/) as scripts/demo.js installs them: the
 * widget in node_modules and named in the user dir's package.json (the dashboard serves only
 * widgets named there), the dashboard linked unless Node-RED finds it next to itself.
 */
function linkDashboardWidget(userDir: string): void {
  const widgetDir = path.join(ROOT, 'dashboard');
  const name = JSON.parse(fs.readFileSync(path.join(widgetDir, 'package.json'), 'utf8')).name as string;
  const link = path.join(userDir, 'node_modules', name);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(widgetDir, link, 'dir');
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'bench-user-dir', version: '0.0.0', private: true, dependencies: { [name]: `file:${widgetDir}` } }));
  const dash = path.dirname(require.resolve('@flowfuse/node-red-dashboard/package.json', { paths: [ROOT] }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const redDir = (require(path.join(DIST, 'test', 'support', 'node-red-runtime')) as { nodeRedRuntime(from: string): { dir: string } }).nodeRedRuntime(ROOT).dir;
  if (path.dirname(redDir) !== path.dirname(path.dirname(dash))) {
    fs.mkdirSync(path.join(userDir, 'node_modules', '@flowfuse'), { recursive: true });
    fs.symlinkSync(dash, path.join(userDir, 'node_modules', '@flowfuse', 'node-red-dashboard'), 'dir');
  }
}

export interface StartOptions {
  /** Also Dashboard 2.0 and the camera widget package. */
  dashboardWidget?: boolean;
  /** Extra settings.js lines (`key: value,`). */
  settingsLines?: string[];
}

export async function startNodeRed(opts: StartOptions = {}): Promise<RunningNodeRed> {
  // A build outside the project finds undici & co. only through NODE_PATH.
  const modules = path.join(ROOT, 'node_modules');
  if (!(process.env.NODE_PATH ?? '').split(path.delimiter).includes(modules)) {
    process.env.NODE_PATH = [modules, process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
  }
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'axis-mjpeg-bench-'));
  linkPackage(userDir);
  if (opts.dashboardWidget) linkDashboardWidget(userDir);
  const settings = writeSettings(userDir, opts.settingsLines);
  const { child, base } = await e2e.startNodeRed({ root: ROOT, dist: DIST, userDir, settings });
  return {
    pid: child.proc.pid!,
    base,
    deploy: (flows) => e2e.deployFlows(base, flows),
    output: () => child.output(),
    async waitForFrames(streamPath) {
      const t0 = Date.now();
      for (;;) {
        const r = await httpCheck.request(`${base}${streamPath}.jpg`, { timeoutMs: 5000 }).catch(() => null);
        if (r?.status === 200) return;
        if (Date.now() - t0 > FIRST_FRAME_TIMEOUT_MS) throw new Error(`no frame at ${streamPath} within ${FIRST_FRAME_TIMEOUT_MS} ms:\n${child.output()}`);
        await new Promise((res) => setTimeout(res, POLL_MS));
      }
    },
    async stop() {
      await child.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

export interface CameraNodeOptions {
  port: number;
  resolution: string;
  fps: number;
  /** VAPIX compression 0..100; the simulator's synthetic picture needs a low one to weigh what a real scene does. */
  compression: number;
  username?: string;
  password?: string;
  /** Any MJPEG source: the path requested instead of VAPIX video.cgi. */
  customPath?: string;
}

/** The axmjpeg-camera config node, without overlays so every frame comes from the simulator's cache. */
export function cameraNode(id: string, o: CameraNodeOptions): object {
  return {
    id,
    type: 'axmjpeg-camera',
    name: 'bench camera',
    host: '127.0.0.1',
    port: String(o.port),
    protocol: 'http',
    auth: o.username ? 'auto' : 'none',
    allowSelfSigned: false,
    ca: '',
    tls: '',
    resolution: o.resolution,
    fps: String(o.fps),
    compression: String(o.compression),
    cameraNumber: '',
    rotation: '0',
    clock: false,
    date: false,
    text: false,
    textstring: '',
    customPath: o.customPath ?? '',
    stallTimeout: 10,
    linger: 10,
    maxFrameMB: 16,
    credentials: o.username ? { user: o.username, password: o.password ?? '' } : {},
  };
}
