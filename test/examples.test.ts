/**
 * The example flows in examples/ (Import > Examples in the editor) and the
 * `npm start` demo: every example is a well-formed flow whose node types exist,
 * each loads into Node-RED, the live-view and alert examples work end to end
 * against the camera simulator, and `node scripts/demo.js --check` passes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { startSimulator, CameraSimulator } from '../simulator';
import { helper, startNodeRed, stopNodeRed } from './support/node-red';
import { nodeRedRuntime, resolveFromNodeRed } from './support/node-red-runtime';

type FlowNode = { id: string; type: string; z?: string; wires?: string[][]; [k: string]: unknown };
type NodeModule = (RED: unknown) => unknown;
type App = (req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => void;

/** The project folder: the one with our package.json above this (built) file, else the working directory. */
function findRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg.name === '@axmjpeg/node-red-axis-mjpeg') return dir;
    } catch {
      /* not here */
    }
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

const ROOT = findRoot();
/** The build this test belongs to (dist/ or OUT_DIR): the demo must use the same one. */
const DIST = path.resolve(__dirname, '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const OUR_NODES: Record<string, string> = PKG['node-red'].nodes;
const EXAMPLES_DIR = path.join(ROOT, 'examples');
const runtime = nodeRedRuntime();
const CORE_DIR = path.join(path.dirname(resolveFromNodeRed('@node-red/nodes/package.json')), 'core');
const DASHBOARD_TYPES = new Set(
  Object.keys(JSON.parse(fs.readFileSync(require.resolve('@flowfuse/node-red-dashboard/package.json', { paths: [ROOT] }), 'utf8'))['node-red'].nodes),
);
const CONTAINER_TYPES = new Set(['tab', 'group', 'subflow', 'junction']);
const USER = 'root';
const PASSWORD = 'pass';
const DEMO_CHECK_TIMEOUT_MS = 120_000;

/** The demo's own HTTP checks (scripts/lib), so test and demo agree on what a whole JPEG part is. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { boundaryOf, freePort, isWholeJpeg } = require(path.join(ROOT, 'scripts', 'lib', 'http-check.js')) as {
  boundaryOf(contentType: string | undefined): string | null;
  freePort(): Promise<number>;
  isWholeJpeg(b: Buffer): boolean;
};

function readExamples(): { file: string; flow: FlowNode[] }[] {
  return fs
    .readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, flow: JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as FlowNode[] }));
}

/** type -> core node file, read from node-red's own node sources. */
function coreNodeFiles(): Map<string, string> {
  const map = new Map<string, string>();
  for (const cat of fs.readdirSync(CORE_DIR)) {
    const dir = path.join(CORE_DIR, cat);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.js'))) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      for (const m of src.matchAll(/registerType\(\s*["']([^"']+)["']/g)) map.set(m[1]!, path.join(dir, f));
    }
  }
  return map;
}

const CORE = coreNodeFiles();

/** Our node modules, as built beside this test. */
function ourModules(): Map<string, NodeModule> {
  const map = new Map<string, NodeModule>();
  for (const [type, file] of Object.entries(OUR_NODES)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    map.set(type, require(path.join(DIST, path.relative('dist', file))));
  }
  return map;
}

/** A copy of an example that Node-RED can run here: the camera is the simulator, files go to `dir`, no dashboard nodes. */
function localize(flow: FlowNode[], simPort: number, dir: string): { flow: FlowNode[]; creds: Record<string, unknown> } {
  const drop = new Set(flow.filter((n) => DASHBOARD_TYPES.has(n.type)).map((n) => n.id));
  const creds: Record<string, unknown> = {};
  const out = flow
    .filter((n) => !drop.has(n.id))
    .map((orig) => {
      const n = JSON.parse(JSON.stringify(orig)) as FlowNode;
      if (n.wires) n.wires = n.wires.map((w) => w.filter((id) => !drop.has(id)));
      if (n.type === 'axmjpeg-camera') {
        // Never the example's 192.168.0.90: tests talk to loopback only.
        Object.assign(n, { host: '127.0.0.1', port: String(simPort), protocol: 'http' });
        creds[n.id] = { user: USER, password: PASSWORD };
      }
      if (n.type === 'axmjpeg-in' && n.source === 'file') n.file = path.join(dir, 'missing.mjpg');
      for (const key of ['directory', 'dir', 'folder', 'path']) {
        if (n.type === 'axmjpeg-record' && typeof n[key] === 'string') n[key] = path.join(dir, 'recordings');
      }
      return n;
    });
  return { flow: out, creds };
}

function modulesFor(flow: FlowNode[], ours: Map<string, NodeModule>): NodeModule[] {
  const mods = new Set<NodeModule>();
  for (const n of flow) {
    if (CONTAINER_TYPES.has(n.type) || n.type === 'catch' || n.type === 'status' || n.type === 'complete') continue;
    const mine = ours.get(n.type);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mods.add(mine ?? require(CORE.get(n.type)!));
  }
  // The camera config node is needed by every node that names it.
  mods.add(ours.get('axmjpeg-camera')!);
  return [...mods];
}

function get(port: number, p: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

/** The JPEGs of an axmjpeg-record file, read by each part's Content-Length. */
function clipParts(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < file.length) {
    const end = file.indexOf('\r\n\r\n', at);
    assert.ok(end > 0, `part header at byte ${at}`);
    const head = file.subarray(at, end).toString('latin1');
    const len = /Content-Length: (\d+)/i.exec(head);
    assert.ok(head.startsWith('--') && len, `part header at byte ${at}: ${head.slice(0, 80)}`);
    out.push(file.subarray(end + 4, end + 4 + Number(len[1])));
    at = end + 4 + Number(len[1]);
    while (file[at] === 0x0d || file[at] === 0x0a) at++;
  }
  return out;
}

/** Reads a multipart/x-mixed-replace response until `want` whole JPEG parts arrived. */
function receiveFrames(port: number, p: string, want: number, timeoutMs = 15_000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const frames: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      const boundary = boundaryOf(res.headers['content-type']);
      if (res.statusCode !== 200 || !boundary) {
        res.resume();
        return done(new Error(`HTTP ${res.statusCode} ${res.headers['content-type']}`));
      }
      const delim = Buffer.from(`--${boundary}`);
      res.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        for (;;) {
          const a = buf.indexOf(delim);
          const b = a < 0 ? -1 : buf.indexOf(delim, a + delim.length);
          if (b < 0) break;
          const part = buf.subarray(a + delim.length, b);
          const body = part.subarray(part.indexOf('\r\n\r\n') + 4, part.length - 2);
          frames.push(Buffer.from(body));
          buf = buf.subarray(b);
          if (frames.length >= want) return done(null);
        }
      });
      res.on('error', (e) => done(e));
    });
    req.on('error', (e) => done(e));
    const timer = setTimeout(() => done(new Error(`only ${frames.length} of ${want} frames in ${timeoutMs} ms`)), timeoutMs);
    function done(err: Error | null): void {
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else resolve(frames);
    }
  });
}

describe('example flows', function () {
  const examples = readExamples();

  it('are flow arrays with a tab, unique ids, resolvable wires and config references', function () {
    assert.ok(examples.length >= 6, `only ${examples.length} examples`);
    for (const { file, flow } of examples) {
      assert.ok(Array.isArray(flow), file);
      const ids = new Set(flow.map((n) => n.id));
      assert.equal(ids.size, flow.length, `${file}: duplicate ids`);
      const tabs = flow.filter((n) => n.type === 'tab');
      assert.equal(tabs.length, 1, `${file}: one tab`);
      for (const n of flow) {
        assert.match(n.id, /^[0-9a-f]{16}$/, `${file}: id ${n.id}`);
        if (n.z !== undefined) assert.equal(n.z, tabs[0]!.id, `${file}: ${n.id} on its tab`);
        for (const w of n.wires ?? []) for (const target of w) assert.ok(ids.has(target), `${file}: ${n.id} wired to missing ${target}`);
        for (const key of ['camera', 'group', 'page', 'ui', 'theme']) {
          const ref = n[key];
          if (typeof ref === 'string' && ref !== '') assert.ok(ids.has(ref), `${file}: ${n.id}.${key} -> missing ${ref}`);
        }
      }
    }
  });

  it('each explain in a comment node what to change for a real camera', function () {
    for (const { file, flow } of examples) {
      const comments = flow.filter((n) => n.type === 'comment');
      assert.ok(comments.length >= 1, `${file}: no comment node`);
      const text = comments.map((c) => `${c.name}\n${c.info}`).join('\n');
      if (flow.some((n) => n.type === 'axmjpeg-camera')) assert.match(text, /Host/, `${file}: comment does not say where to set the camera`);
    }
  });

  it('use only node types that exist: ours, node-red core, or Dashboard 2.0 (ui-*)', function () {
    for (const { file, flow } of examples) {
      for (const n of flow) {
        if (CONTAINER_TYPES.has(n.type) || n.type in OUR_NODES || CORE.has(n.type)) continue;
        assert.ok(n.type.startsWith('ui-') && DASHBOARD_TYPES.has(n.type), `${file}: unknown node type ${n.type}`);
      }
    }
  });

  it('use every non-config node type of this package at least once', function () {
    const used = new Set(examples.flatMap(({ flow }) => flow.map((n) => n.type)));
    const nonConfig = Object.entries(OUR_NODES)
      .filter(([, file]) => !/category:\s*'config'/.test(fs.readFileSync(path.join(ROOT, file.replace(/^dist\//, '').replace(/\.js$/, '.html')), 'utf8')))
      .map(([type]) => type);
    assert.ok(nonConfig.length >= 3, `found only ${nonConfig.join(', ')}`);
    for (const t of nonConfig) assert.ok(used.has(t), `no example uses ${t}`);
  });

  it('point the live view of the dashboard at an axmjpeg-out path, not at the websocket', function () {
    const flow = examples.find((e) => e.file.startsWith('02-'))!.flow;
    const paths = new Set(flow.filter((n) => n.type === 'axmjpeg-out').map((n) => String(n.url)));
    const templates = flow.filter((n) => n.type === 'ui-template').map((n) => String(n.format));
    assert.ok(templates.some((t) => [...paths].some((p) => t.includes(`'${p}'`) || t.includes(`"${p}"`))), 'no ui-template shows an axmjpeg-out path');
  });

  describe('in Node-RED with the camera simulator', function () {
    let sim: CameraSimulator;
    let server: http.Server | null = null;
    let app: App | null = null;
    let dir: string;
    const ours = ourModules();
    /** Captures the RED.httpNode app the nodes mount their routes on. */
    const capture: NodeModule = (RED) => {
      app = (RED as { httpNode: App }).httpNode;
    };

    before(async function () {
      sim = await startSimulator({ auth: 'digest', username: USER, password: PASSWORD });
    });
    after(async function () {
      await sim.close();
    });

    beforeEach(async function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axis-examples-'));
      helper.settings({ fileWorkingDirectory: dir, httpNodeRoot: '/' });
      await startNodeRed();
    });

    afterEach(async function () {
      await stopNodeRed();
      helper.settings({});
      if (server) {
        server.closeAllConnections();
        await new Promise((r) => server!.close(r));
        server = null;
      }
      app = null;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function load(file: string, tweak?: (flow: FlowNode[]) => void): Promise<{ flow: FlowNode[]; port: number }> {
      const ex = examples.find((e) => e.file === file)!;
      const { flow, creds } = localize(ex.flow, sim.port, dir);
      tweak?.(flow);
      await helper.load([...modulesFor(flow, ours), capture], flow, creds);
      server = http.createServer((req, res) => {
        if (!app) return res.writeHead(503).end();
        app(req, res, () => res.writeHead(404).end());
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return { flow, port: (server.address() as net.AddressInfo).port };
    }

    for (const { file } of readExamples()) {
      it(`${file}: every node starts`, async function () {
        const { flow } = await load(file);
        for (const n of flow) {
          if (CONTAINER_TYPES.has(n.type)) continue;
          assert.ok(helper.getNode(n.id), `${file}: node ${n.id} (${n.type}) did not start`);
        }
      });
    }

    it('01-live-view: a browser gets live video, the page and a snapshot', async function () {
      const { port } = await load('01-live-view.json');
      const frames = await receiveFrames(port, '/camera/live', 5);
      assert.equal(frames.length, 5);
      for (const f of frames) assert.ok(isWholeJpeg(f), 'a whole JPEG per part');
      assert.ok(sim.stats.streamRequests >= 1);

      const page = await get(port, '/camera');
      assert.equal(page.status, 200);
      assert.match(page.type, /^text\/html/);
      assert.match(page.body.toString(), /<img id="live"/);

      const snap = await get(port, '/camera/snapshot');
      assert.equal(snap.status, 200);
      assert.equal(snap.type, 'image/jpeg');
      assert.ok(isWholeJpeg(snap.body));
    });

    it('03-alert-snapshot: an alert gives an e-mail msg, a Telegram msg and a saved file', async function () {
      const { flow, port } = await load('03-alert-snapshot.json');
      const byName = (name: string) => flow.find((n) => n.name === name)!.id;
      const got = (id: string): Promise<Record<string, any>> => new Promise((r) => helper.getNode(id).once('input', r));
      const email = got(byName('to e-mail node'));
      const telegram = got(byName('to Telegram sender'));
      const saved = got(byName('saved as'));

      const ack = await get(port, '/camera/alert');
      assert.equal(ack.status, 202);

      const e = await email;
      assert.equal(e.attachments.length, 1);
      assert.ok(isWholeJpeg(e.attachments[0].content));
      assert.match(e.attachments[0].filename, /\.jpg$/);
      assert.equal(typeof e.payload, 'string');
      assert.match(e.topic, /^Motion: /);

      const t = await telegram;
      assert.equal(t.payload.type, 'photo');
      assert.equal(typeof t.payload.chatId, 'number');
      assert.ok(isWholeJpeg(t.payload.content));

      const s = await saved;
      const file = path.resolve(dir, s.filename);
      assert.ok(file.startsWith(path.join(dir, 'camera-snapshots')), file);
      assert.ok(isWholeJpeg(fs.readFileSync(file)));
    });

    it('03-alert-snapshot: the camera\'s motion event triggers the snapshot', async function () {
      const { flow } = await load('03-alert-snapshot.json');
      const emailOut = flow.find((n) => n.name === 'to e-mail node')!.id;
      let email: Record<string, any> | null = null;
      helper.getNode(emailOut).once('input', (m: Record<string, any>) => (email = m));
      // Toggled until it arrives: the event WebSocket connects after the deploy, and only changes are sent.
      const end = Date.now() + 15_000;
      let on = false;
      while (!email && Date.now() < end) {
        on = !on;
        sim.events.setMotion(on);
        await new Promise((r) => setTimeout(r, 300));
      }
      sim.events.setMotion(false);
      assert.ok(email, 'no e-mail msg after motion');
      assert.ok(isWholeJpeg(email!.attachments[0].content));
    });

    it('08-clip-on-motion: motion starts a clip, N s after motion stops it is completed and notified', async function () {
      // N shortened from the example's 10 s so the test stays quick; the wiring is the example's own.
      const CLIP_STOP_S = 1;
      const { flow } = await load('08-clip-on-motion.json', (f) => {
        for (const n of f) if (n.type === 'trigger') n.duration = String(CLIP_STOP_S);
      });
      const byName = (name: string) => flow.find((n) => n.name === name)!.id;
      const got = (id: string): Promise<Record<string, any>> => new Promise((r) => helper.getNode(id).once('input', r));
      // The switch sees axmjpeg-motion's msgs unchanged (the change node after it moves msg.image).
      const trigger = new Promise<Buffer>((r) =>
        helper.getNode(byName('started / stopped')).once('input', (m: Record<string, any>) => r(Buffer.from(m.image))),
      );
      const ready = got(byName('clip ready'));
      const email = got(byName('to e-mail node'));
      const telegram = got(byName('to Telegram sender'));

      // The simulator's picture always moves: axmjpeg-motion starts a clip by itself.
      const triggerImage = await trigger;
      // Let a few live frames follow the one that triggered, then report the motion over.
      await new Promise((r) => setTimeout(r, 1500));
      const stoppedAt = Date.now();
      helper.getNode(byName('started / stopped')).receive({ topic: 'motion', payload: { motion: false, score: 0, changedBlocks: 0 } });

      const clip = await ready;
      assert.ok(Date.now() - stoppedAt >= CLIP_STOP_S * 1000 - 50, 'clip completed before the trigger delay');
      const file = path.resolve(dir, clip.filename);
      assert.match(path.basename(file), /^clip-\d{8}-\d{6}.*\.mjpg$/);
      assert.ok(clip.payload.frames >= 2, `only ${clip.payload.frames} frames`);
      assert.equal(clip.payload.dropped, 0);
      const bytes = fs.readFileSync(file);
      assert.equal(bytes.length, clip.payload.bytes);
      const jpegs = clipParts(bytes);
      assert.equal(jpegs.length, clip.payload.frames);
      for (const j of jpegs) assert.ok(isWholeJpeg(j), 'a whole JPEG per part');
      assert.ok(jpegs[0]!.equals(triggerImage), 'the clip starts with the frame that started the motion');

      const e = await email;
      assert.match(e.topic, /^Motion clip \d{4}-\d\d-\d\d /);
      assert.equal(typeof e.payload, 'string');
      assert.match(e.payload, new RegExp(`${clip.payload.frames} frames`));
      assert.equal(e.attachments.length, 1);
      assert.equal(e.attachments[0].path, clip.filename);
      assert.equal(e.attachments[0].filename, path.basename(file));

      const t = await telegram;
      assert.equal(t.payload.type, 'document');
      assert.equal(typeof t.payload.chatId, 'number');
      assert.equal(t.payload.content, clip.filename);
    });
  });
});

describe('npm start demo (scripts/demo.js --check)', function () {
  this.timeout(DEMO_CHECK_TIMEOUT_MS + 10_000);

  it('starts the simulator and Node-RED, deploys the examples and the live view delivers frames: PASS', async function () {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'demo.js'), '--check', '--port', String(port)], {
      cwd: ROOT,
      env: { ...process.env, OUT_DIR: DIST },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), DEMO_CHECK_TIMEOUT_MS);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 0, out);
    assert.match(out, /^PASS demo check/m, out);
    // The demo must run the Node-RED under test (NODE_RED_DIR on CI's second line), on this Node.js.
    assert.ok(out.includes(`Node-RED ${runtime.version} (${runtime.from}) on Node.js ${process.version} ready`), out);
    assert.match(out, /^ok {3}live view \/camera\/live delivers >= 5 frames: [5-9] frames/m, out);
    assert.match(out, /^ok {3}dashboard \/dashboard\/camera: HTTP 200/m, out);
    assert.match(out, /^ok {3}axmjpeg-motion -> axmjpeg-record: a completed clip in motion-clips\/: clip-\d{8}-\d{6}.*\.mjpg: \d+ whole JPEGs/m, out);
  });
});
