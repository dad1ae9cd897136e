/**
 * Security tests: credentials never leak, TLS verification stays on, the
 * relay is behind Node-RED's httpNodeAuth and its viewer cap, and a hostile
 * camera cannot make us buffer without bound.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import util from 'node:util';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { spawn, ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, CameraSimulator } from '../simulator';
import { testCerts } from './support/tls-certs';
import { makeJpeg, part } from './support/jpeg-samples';
import { helper, collect, startNodeRed, stopNodeRed, warningsOf, type Msg } from './support/node-red';
import { nodeRedRuntime, resolveFromNodeRed } from './support/node-red-runtime';
import { cameraConfig, mjpgIn } from './support/flow-nodes';
import { exposeGc } from './support/gc';
import { waitFor } from './support/wait';
import { startNodeRedCli, bcryptHash, NodeRedCli } from './support/node-red-cli';
import { startHttpRecorder, HttpRecorder } from './support/http-recorder';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../nodes/axmjpeg-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mjpgInNode = require('../nodes/axmjpeg-in');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debugNode = require(resolveFromNodeRed('@node-red/nodes/core/common/21-debug.js'));

const MB = 1024 * 1024;
/** Distinctive, so any appearance anywhere is a leak and not a coincidence. */
const SECRET = 'Zq7-unique-Pa55w0rd-xK';

/** Everything, errors with their cause chains and own properties included. */
function dump(x: unknown): string {
  return util.inspect(x, { depth: 12, maxArrayLength: null, maxStringLength: null, breakLength: Infinity, showHidden: true });
}

describe('security', function () {
  this.timeout(60_000);
  let sims: CameraSimulator[] = [];

  beforeEach(startNodeRed);

  afterEach(async () => {
    await stopNodeRed();
    for (const s of sims.splice(0)) await s.close();
  });

  it('a faulty run (wrong password, HTML, 401, reboot, broken streams) never shows the password or its Basic form anywhere', async () => {
    // Camera A: right password over Basic (so the base64 form is on the wire), faults switched on in turn.
    const simA = await startSimulator({ auth: 'basic', password: SECRET });
    // Camera B: the camera wants another password; ours is refused every time.
    const simB = await startSimulator({ auth: 'both', password: 'another-one' });
    sims.push(simA, simB);
    const basic = Buffer.from(`root:${SECRET}`).toString('base64');
    const needles = [SECRET, basic, Buffer.from(SECRET).toString('base64'), encodeURIComponent(SECRET), SECRET.split('').reverse().join('')];

    const out: string[] = [];
    const origOut = process.stdout.write;
    const origErr = process.stderr.write;
    const tap = (orig: typeof process.stdout.write) =>
      function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
        out.push(String(chunk));
        return (orig as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof process.stdout.write;
    process.stdout.write = tap(origOut);
    process.stderr.write = tap(origErr);
    let caught: Msg[] = [];
    let frames: Msg[] = [];
    let statusMsgs: Msg[] = [];
    try {
      await helper.load(
        [cameraNode, mjpgInNode, debugNode],
        [
          cameraConfig('camA', simA.port, { auth: 'basic' }),
          cameraConfig('camB', simB.port, { auth: 'auto' }),
          mjpgIn('inA', 'camA', {}, [['frames', 'dbg']]),
          mjpgIn('inB', 'camB', {}, [['frames']]),
          { id: 'frames', type: 'helper' },
          { id: 'c', type: 'catch', scope: null, uncaught: false, wires: [['caught', 'dbg']] },
          { id: 'caught', type: 'helper' },
          { id: 'st', type: 'status', scope: null, wires: [['stat', 'dbg']] },
          { id: 'stat', type: 'helper' },
          { id: 'dbg', type: 'debug', active: true, tosidebar: true, console: true, tostatus: true, complete: 'true', targetType: 'full', statusVal: 'payload', statusType: 'auto' },
        ],
        { camA: { user: 'root', password: SECRET }, camB: { user: 'root', password: SECRET } },
      );
      caught = collect('caught');
      frames = collect('frames');
      statusMsgs = collect('stat');
      const codes = () => caught.map((m) => m.payload?.code);
      await waitFor(() => frames.length >= 3, 10_000, 'frames from camera A');
      await waitFor(() => codes().includes('ERR_AUTH_FAILED'), 10_000, 'wrong password reported for B');

      simA.setFault({ kind: 'html' });
      // The running stream is not affected by html (it is an answer fault): force a reconnect.
      simA.setFault({ kind: 'drop-mid-frame' });
      await waitFor(() => simA.stats.streamRequests >= 2, 10_000, 'a reconnect');
      simA.setFault({ kind: 'html' });
      await waitFor(() => codes().includes('ERR_NOT_MJPEG'), 10_000, 'HTML answer reported');
      simA.setFault({ kind: 'status', status: 401 });
      await waitFor(() => caught.filter((m) => m.payload?.code === 'ERR_AUTH_FAILED').length >= 2, 15_000, '401 from A reported');
      simA.setFault(null);
      // The backoff has grown by now; a user would press restart.
      helper.getNode('inA').receive({ payload: 'restart' });
      let n = frames.length;
      await waitFor(() => frames.length >= n + 3, 20_000, 'frames after the 401s');
      simA.setFault({ kind: 'reboot', ms: 500 });
      await sleep(100);
      n = frames.length;
      await waitFor(() => frames.length >= n + 3, 20_000, 'frames after the reboot');
      simA.setFault({ kind: 'garbage' });
      await sleep(300);
      simA.setFault(null);
      await sleep(1100); // one status refresh
    } finally {
      process.stdout.write = origOut;
      process.stderr.write = origErr;
    }

    const anyNode = helper.getNode('inA');
    const calls: Record<string, unknown[]> = {};
    for (const m of ['status', 'error', 'warn', 'log', 'debug', 'trace', 'send']) {
      calls[m] = anyNode[m].getCalls().map((c: any) => (m === 'send' ? c.args.map((a: any) => ({ ...a, payload: Buffer.isBuffer(a?.payload) ? '<jpeg>' : a?.payload })) : c.args));
    }
    const everything = [
      dump(calls),
      dump(helper.log().args),
      dump(caught),
      dump(statusMsgs),
      dump(frames.map((f) => ({ ...f, payload: null }))),
      out.join(''),
      dump(helper.getNode('dbg').status.getCalls().map((c: any) => c.args)),
    ].join('\n');
    // The run really went through the scenario.
    assert.ok(caught.length >= 4, dump(caught.map((m) => m.payload?.code)));
    assert.ok(simA.stats.reboots === 1 && simB.stats.authFailures >= 2);
    assert.ok((calls.status as unknown[]).length > 5 && (calls.error as unknown[]).length > 3);
    for (const s of needles) assert.ok(!everything.includes(s), `leaked ${s === SECRET ? 'the password' : 'an encoded form of the password'}`);
    // The error texts are not empty shells: they name the camera and the cause.
    assert.match(everything, /ERR_AUTH_FAILED/);
    assert.match(everything, /127\.0\.0\.1/);
  });

  it('TLS verification refuses a self-signed camera unless the config node allows it (and sends it no request)', async function () {
    let certs;
    try {
      certs = testCerts();
    } catch {
      this.skip();
      return;
    }
    const sim = await startSimulator({ auth: 'digest', https: certs.selfSigned, password: SECRET });
    sims.push(sim);
    let requests = 0;
    sim.onRequest = () => requests++;
    await helper.load(
      [cameraNode, mjpgInNode],
      [
        cameraConfig('strict', sim.port, { protocol: 'https' }),
        cameraConfig('lax', sim.port, { protocol: 'https', allowSelfSigned: true }),
        mjpgIn('inStrict', 'strict', {}, [['outStrict']]),
        mjpgIn('inLax', 'lax', { resolution: '320x240' }, [['outLax']]),
        { id: 'outStrict', type: 'helper' },
        { id: 'outLax', type: 'helper' },
        { id: 'c', type: 'catch', scope: ['inStrict'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ],
      { strict: { user: 'root', password: SECRET }, lax: { user: 'root', password: SECRET } },
    );
    const strict = collect('outStrict');
    const lax = collect('outLax');
    const caught = collect('caught');
    await waitFor(() => caught.length >= 1 && lax.length >= 3, 10_000, 'refusal and lax frames');
    assert.equal(caught[0]!.payload.code, 'ERR_TLS_SELF_SIGNED');
    assert.match(caught[0]!.payload.hint, /self-signed/);
    assert.equal(strict.length, 0);
    assert.ok(lax.every((m) => m.frame.width === 320));
    // Every request the camera saw came from the lax node (320x240); the strict one never got past the handshake.
    assert.ok(requests >= 1);
    assert.equal(sim.stats.streamRequests, 1);
  });

  it('oversized part header (1 MB) from a camera is dropped with ERR_HEADER_TOO_LARGE, memory stays bounded, frames go on', async () => {
    const normal = makeJpeg(160, 120, { seed: 3 });
    const sockets = new Set<net.Socket>();
    const timers = new Set<NodeJS.Timeout>();
    const pad = Buffer.alloc(MB, 'a');
    const server = http.createServer((req) => {
      const s = req.socket;
      s.write('HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: multipart/x-mixed-replace; boundary=myboundary\r\n\r\n');
      s.write(part(normal));
      s.write('--myboundary\r\nContent-Type: image/jpeg\r\nX-Pad: ');
      s.write(pad);
      s.write(`\r\nContent-Length: ${normal.length}\r\n\r\n`);
      s.write(normal);
      s.write('\r\n');
      const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(part(normal))), 50);
      timers.add(t);
    });
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const gc = exposeGc();
    gc();
    const ab0 = process.memoryUsage().arrayBuffers;
    let abMax = ab0;
    const sampler = setInterval(() => {
      gc();
      abMax = Math.max(abMax, process.memoryUsage().arrayBuffers);
    }, 20);
    try {
      await helper.load(
        [cameraNode, mjpgInNode],
        [cameraConfig('cam', (server.address() as AddressInfo).port, { auth: 'none' }), mjpgIn('in', 'cam'), { id: 'out', type: 'helper' }],
      );
      const got = collect('out');
      const n = helper.getNode('in');
      const warns = () => warningsOf(n);
      await waitFor(() => warns().some((w: string) => /header exceeds/.test(w)), 10_000, 'ERR_HEADER_TOO_LARGE warning');
      await waitFor(() => got.length >= 5, 10_000, 'frames after the oversized header');
      for (const m of got) assert.equal(m.payload.length, normal.length);
    } finally {
      clearInterval(sampler);
      await helper.unload();
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
    // The 1 MB pad itself is held by the test; the parser may keep at most its 16 KB header limit.
    const held = (abMax - ab0 - pad.length) / MB;
    assert.ok(held < 2, `Buffer memory held grew by ${held.toFixed(1)} MB beyond the pad`);
  });

  describe('axmjpeg-out in a real Node-RED (node-red CLI, settings file)', function () {
    this.timeout(60_000);
    let child: ChildProcess | null = null;
    let dir = '';
    let base = '';
    let log = '';
    const USER = 'viewer';
    const PASS = 'view-pw-9';

    before(async function () {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bcrypt = require(resolveFromNodeRed('bcryptjs'));
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'security-nr-'));
      const nodesDir = path.resolve(__dirname, '..', 'nodes');
      const settings = {
        uiHost: '127.0.0.1',
        uiPort: 0,
        httpAdminRoot: false,
        httpNodeRoot: '/',
        httpNodeAuth: { user: USER, pass: bcrypt.hashSync(PASS, 8) },
        nodesDir: [nodesDir],
        flowFile: 'flows.json',
        credentialSecret: false,
        logging: { console: { level: 'info', metrics: false, audit: false } },
        editorTheme: { tours: false },
        externalModules: { autoInstall: false },
      };
      fs.writeFileSync(path.join(dir, 'settings.js'), `module.exports = ${JSON.stringify(settings)};\n`);
      fs.writeFileSync(
        path.join(dir, 'flows.json'),
        JSON.stringify([
          { id: 'tab', type: 'tab', label: 'sec' },
          { id: 'relay', z: 'tab', type: 'axmjpeg-out', name: '', url: '/sec/live', maxViewers: 1, fps: 0, stuckTimeout: 30, wires: [] },
        ]),
      );
      const red = nodeRedRuntime().redJs;
      // The child resolves undici from the repository even when built to another folder or run on NODE_RED_DIR's Node-RED.
      const env = { ...process.env, NODE_PATH: path.resolve(path.dirname(require.resolve('undici/package.json')), '..') };
      child = spawn(process.execPath, [red, '--userDir', dir, '--settings', path.join(dir, 'settings.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      try {
        await waitFor(() => /Server now running at http:\/\/127\.0\.0\.1:\d+/.test(log) && /Started flows/.test(log), 30_000, 'Node-RED started');
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${log}`);
      }
      base = /Server now running at (http:\/\/127\.0\.0\.1:\d+)/.exec(log)![1]!;
      assert.ok(!/axmjpeg-out.*(error|not found)|Waiting for missing types/i.test(log), log);
    });

    after(async () => {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([once(child, 'exit'), sleep(5000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      child = null;
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const opened: http.ClientRequest[] = [];
    afterEach(() => {
      for (const r of opened.splice(0)) r.destroy();
    });

    function get(p: string, auth?: string): Promise<http.IncomingMessage> {
      return new Promise((resolve, reject) => {
        const headers: Record<string, string> = auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {};
        const req = http.get(`${base}${p}`, { agent: false, headers }, resolve);
        req.on('error', reject);
        opened.push(req);
      });
    }

    it('httpNodeAuth: 401 without or with wrong credentials, 200 with them, for the stream and the snapshot', async () => {
      for (const p of ['/sec/live', '/sec/live.jpg']) {
        const none = await get(p);
        assert.equal(none.statusCode, 401, p);
        assert.match(String(none.headers['www-authenticate']), /Basic/);
        const wrong = await get(p, `${USER}:nope`);
        assert.equal(wrong.statusCode, 401, p);
      }
      const ok = await get('/sec/live', `${USER}:${PASS}`);
      assert.equal(ok.statusCode, 200);
      assert.match(String(ok.headers['content-type']), /^multipart\/x-mixed-replace/);
      ok.destroy();
      // The snapshot passes auth; with no frame yet the relay says so (not 401).
      const snap = await get('/sec/live.jpg', `${USER}:${PASS}`);
      assert.notEqual(snap.statusCode, 401);
      snap.resume();
    });

    it('max viewers: a second authenticated viewer gets 503 with Retry-After; the slot frees when the first leaves', async () => {
      await sleep(200); // the previous test's viewer socket is closed by now
      const first = await get('/sec/live', `${USER}:${PASS}`);
      assert.equal(first.statusCode, 200);
      const second = await get('/sec/live', `${USER}:${PASS}`);
      assert.equal(second.statusCode, 503);
      assert.ok(Number(second.headers['retry-after']) > 0);
      second.resume();
      first.destroy();
      let third: http.IncomingMessage | null = null;
      for (let i = 0; i < 50; i++) {
        const r = await get('/sec/live', `${USER}:${PASS}`);
        if (r.statusCode === 200) {
          third = r;
          break;
        }
        r.resume();
        await sleep(50);
      }
      assert.ok(third, 'slot freed after the first viewer left');
      (third as http.IncomingMessage).destroy();
    });
  });

  describe('Test connection (POST /axmjpeg-camera/test) in a real Node-RED, as a user with only axmjpeg-camera.write', function () {
    this.timeout(60_000);
    const CAM_PW = 'cam-Pw-7aQ-stored';
    const HR_PW = 'httpreq-Pw-3xZ-stored';
    const MQ_PW = 'mqtt-Pw-9kL-stored';
    const TOKEN = 'internal-Token-5fR-secret';
    let nr: NodeRedCli | null = null;
    let camRec: HttpRecorder;
    let other: HttpRecorder;
    let internal: HttpRecorder;
    let mtls: HttpRecorder | null = null;
    let token = '';
    let certs: ReturnType<typeof testCerts> | null = null;

    before(async () => {
      try {
        certs = testCerts();
      } catch {
        certs = null;
      }
      camRec = await startHttpRecorder();
      other = await startHttpRecorder();
      // An internal service with a secret in every part of its answers.
      internal = await startHttpRecorder((req, res) => {
        const url = req.url ?? '';
        if (url.startsWith('/json')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: TOKEN }));
        if (url.startsWith('/html')) return void res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body>token ${TOKEN}</body></html>`);
        if (url.startsWith('/redirect')) return void res.writeHead(302, `Moved ${TOKEN}`, { location: `/login?token=${TOKEN}` }).end(TOKEN);
        if (url.startsWith('/busy')) return void res.writeHead(503, { 'retry-after': TOKEN }).end(TOKEN);
        if (url.startsWith('/fail')) return void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: TOKEN }));
        // Every other path, the VAPIX ones included: a 404 quoting the secret, or (video.cgi) a 200 text.
        if (url.startsWith('/axis-cgi/mjpg/video.cgi')) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`token=${TOKEN}`);
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`no such path; token=${TOKEN}`);
      });
      if (certs) {
        // An mTLS-only API: only a client certificate signed by clientCa gets in.
        mtls = await startHttpRecorder((_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(TOKEN), {
          ...certs.selfSigned,
          ca: certs.clientCa.cert,
          requestCert: true,
          rejectUnauthorized: true,
        });
      }
      const flows: Record<string, unknown>[] = [
        { id: 'tab', type: 'tab', label: 'probe' },
        { ...cameraConfig('cam', camRec.port), name: 'deployed camera' },
        { id: 'hr', z: 'tab', type: 'http request', name: '', method: 'GET', ret: 'txt', paytoqs: 'ignore', url: `http://127.0.0.1:${other.port}/`, tls: '', persist: false, proxy: '', authType: 'basic', senderr: false, headers: [], wires: [[]] },
        { id: 'mq', type: 'mqtt-broker', name: '', broker: '127.0.0.1', port: '1', clientid: '', autoConnect: false, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
      ];
      const credentials: Record<string, Record<string, string>> = {
        cam: { user: 'root', password: CAM_PW },
        hr: { user: 'hr', password: HR_PW },
        mq: { user: 'mq', password: MQ_PW },
      };
      if (certs && mtls) {
        flows.push(
          { id: 'tlsOther', type: 'tls-config', name: 'client cert of another service', cert: '', key: '', ca: '', certname: '', keyname: '', caname: '', servername: '', verifyservercert: false },
          { id: 'tlsCam', type: 'tls-config', name: 'the camera TLS', cert: '', key: '', ca: '', certname: '', keyname: '', caname: '', servername: '', verifyservercert: false },
          { ...cameraConfig('camTls', mtls.port), name: 'https camera', protocol: 'https', tls: 'tlsCam', allowSelfSigned: true },
        );
        credentials.tlsOther = { certdata: certs.client.cert, keydata: certs.client.key };
      }
      nr = await startNodeRedCli({
        settings: {
          adminAuth: { type: 'credentials', users: [{ username: 'cam-editor', password: bcryptHash('editor-pw'), permissions: ['axmjpeg-camera.write'] }] },
          // The probe below runs more tests than a person would; the cap itself is tested in the node tests.
          axmjpegCameraTestsPerMinute: 1000,
        },
        flows,
        credentials,
      });
      const t = await fetch(`${nr.base}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: 'axmjpeg-camera.write', username: 'cam-editor', password: 'editor-pw' }),
      });
      assert.equal(t.status, 200, await t.clone().text());
      token = ((await t.json()) as { access_token: string }).access_token;
    });

    after(async () => {
      await nr?.stop();
      for (const r of [camRec, other, internal, mtls]) await r?.close();
    });

    async function probe(body: Record<string, unknown>): Promise<Record<string, any>> {
      const res = await fetch(`${nr!.base}/axmjpeg-camera/test`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
      return (await res.json()) as Record<string, any>;
    }

    const secrets = [CAM_PW, HR_PW, MQ_PW];
    const PH = '__PWRD__';

    it('the user really has only that permission: /flows is refused, the endpoint takes the token and wants one', async () => {
      // Node-RED answers a missing permission with 401, like a missing token.
      assert.equal((await fetch(`${nr!.base}/flows`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
      assert.equal((await probe({ host: '127.0.0.1', port: other.port, auth: 'none' })).code, 'ERR_AUTH_FAILED');
      const anon = await fetch(`${nr!.base}/axmjpeg-camera/test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(anon.status, 401);
      // The editors' source list uses the stored password too: it wants axmjpeg-camera.read, which nobody anonymous has.
      assert.equal((await fetch(`${nr!.base}/axmjpeg-camera/cam/sources`)).status, 401);
    });

    it('the PTZ preset and I/O port lists want their own read permission: refused to this user and to anyone anonymous', async () => {
      // Both ask the deployed camera with its stored password: only axmjpeg-ptz.read / axmjpeg-io.read may.
      for (const path of ['/axmjpeg-ptz/cam/presets', '/axmjpeg-io/cam/ports']) {
        assert.equal((await fetch(`${nr!.base}${path}`, { headers: { authorization: `Bearer ${token}` } })).status, 401, path);
        assert.equal((await fetch(`${nr!.base}${path}`)).status, 401, path);
      }
      assert.ok(!camRec.requests.some((r) => /ptz\.cgi|portmanagement|param\.cgi\?action=list&group=root\.(PTZ|IOPort)/.test(r.url)), 'the camera was never asked');
    });

    it('stored credentials of no node reach another address, and no other node type lends them', async () => {
      const answers: Record<string, any>[] = [];
      const tries: Record<string, unknown>[] = [
        // The probe's requests: a node id, the placeholder or no password at all, and a recording server as the camera.
        { id: 'cam', host: '127.0.0.1', port: other.port, user: 'root', password: PH },
        { id: 'cam', host: '127.0.0.1', port: other.port, user: 'root' },
        { id: 'cam', host: '127.0.0.1', port: other.port, auth: 'basic' },
        { id: 'cam', host: 'localhost', port: camRec.port, user: 'root', password: PH },
        { id: 'cam', host: '127.0.0.1', port: camRec.port, protocol: 'https', allowSelfSigned: true, user: 'root', password: PH },
        { id: 'hr', host: '127.0.0.1', port: other.port, auth: 'basic', user: 'hr', password: PH },
        { id: 'hr', host: '127.0.0.1', port: other.port, auth: 'basic' },
        { id: 'mq', host: '127.0.0.1', port: other.port, auth: 'basic', user: 'mq', password: PH },
        { id: 'mq', host: '127.0.0.1', port: other.port, auth: 'basic' },
        { id: 'no-such-node', host: '127.0.0.1', port: other.port, auth: 'basic', password: PH },
      ];
      for (const body of tries) answers.push(await probe(body));
      const seen = [...other.credentialsSeen(), ...camRec.credentialsSeen()].join('\n');
      for (const pw of secrets) assert.ok(!seen.includes(pw), `a stored password reached a recording server: ${seen}`);
      assert.equal(camRec.connections, 0, 'nothing went to the camera under another name or protocol');
      // Requests without a password did go out (so the recorder was reachable), and with no stored password.
      assert.ok(other.requests.length >= 2);
      for (const [i, a] of answers.entries()) {
        assert.equal(a.ok, false, JSON.stringify(a));
        if (tries[i]!.password === PH) assert.equal(a.reason, 'retype-password', JSON.stringify(a));
      }
      assert.ok(!secrets.some((pw) => JSON.stringify(answers).includes(pw)));

      // Control: the recorder does catch a stored password, when it is the deployed camera's own address.
      const own = await probe({ id: 'cam', host: '127.0.0.1', port: camRec.port, user: 'root', password: PH });
      assert.equal(own.code, 'ERR_AUTH_FAILED');
      assert.ok(camRec.credentialsSeen().includes(`root:${CAM_PW}`));

      // Each test is in Node-RED's log with node id, address and result, never a password.
      const log = nr!.log();
      assert.match(log, new RegExp(`\\[axmjpeg-camera\\] Test connection, node hr: http://127\\.0\\.0\\.1:${other.port}: refused \\(retype-password\\)`));
      assert.match(log, new RegExp(`Test connection, node cam: http://127\\.0\\.0\\.1:${other.port}: ERR_AUTH_FAILED \\(HTTP 401\\)`));
      assert.match(log, new RegExp(`Test connection, node cam: http://127\\.0\\.0\\.1:${camRec.port} \\(stored password\\): ERR_AUTH_FAILED`));
      for (const pw of secrets) assert.ok(!log.includes(pw));
    });

    it("answers of other servers are classified, never echoed: an internal service, Node-RED's own API", async () => {
      const cases: [Record<string, unknown>, string, number | undefined][] = [
        [{}, 'ERR_NOT_MJPEG', 200],
        [{ customPath: '/json' }, 'ERR_NOT_MJPEG', 200],
        [{ customPath: '/html' }, 'ERR_NOT_MJPEG', 200],
        [{ customPath: '/redirect' }, 'ERR_HTTP_STATUS', 302],
        [{ customPath: '/busy' }, 'ERR_CAMERA_BUSY', 503],
        [{ customPath: '/fail' }, 'ERR_HTTP_STATUS', 500],
        [{ customPath: '/secret.txt' }, 'ERR_NOT_FOUND', 404],
      ];
      for (const [extra, code, status] of cases) {
        const r = await probe({ host: '127.0.0.1', port: internal.port, auth: 'none', ...extra });
        assert.ok(!JSON.stringify(r).includes(TOKEN), `echoed: ${JSON.stringify(r)}`);
        assert.equal(r.code, code, JSON.stringify(r));
        assert.equal(r.statusCode, status, JSON.stringify(r));
        assert.ok(!('body' in r));
      }
      const html = await probe({ host: '127.0.0.1', port: internal.port, auth: 'none', customPath: '/html' });
      assert.equal(html.contentType, 'text/html');
      assert.match(html.message, /answered HTTP 200 with text\/html, not an MJPEG stream/);

      // Node-RED's own admin API, reached from inside: what it says there stays there.
      const direct = await (await fetch(`${nr!.base}/auth/login`)).text();
      assert.match(direct, /"prompts"/);
      for (const customPath of ['/auth/login', '/settings', '/flows', '/']) {
        const r = await probe({ host: '127.0.0.1', port: nr!.port, auth: 'none', customPath });
        assert.equal(r.ok, false);
        assert.ok(!/prompts|credentials|httpNodeRoot|<|\{/.test(JSON.stringify({ m: r.message, d: r.detail ?? '' }).slice(1, -1).replace(/"[md]":/g, '')), JSON.stringify(r));
        assert.deepEqual(Object.keys(r).filter((k) => !['ok', 'code', 'message', 'hint', 'statusCode', 'contentType', 'detail'].includes(k)), []);
      }
    });

    it("a tls-config node (another service's client certificate) is lent only to the camera deployed with it, at its address", async function () {
      if (!certs || !mtls) return this.skip();
      const tries: Record<string, unknown>[] = [
        { host: '127.0.0.1', port: mtls.port, protocol: 'https', tls: 'tlsOther', allowSelfSigned: true, auth: 'none', customPath: '/secret' },
        { id: 'camTls', host: '127.0.0.1', port: mtls.port, protocol: 'https', tls: 'tlsOther', allowSelfSigned: true, auth: 'none', customPath: '/secret' },
        { id: 'hr', host: '127.0.0.1', port: mtls.port, protocol: 'https', tls: 'tlsOther', allowSelfSigned: true, auth: 'none' },
        { id: 'tlsOther', host: '127.0.0.1', port: mtls.port, protocol: 'https', tls: 'tlsOther', allowSelfSigned: true, auth: 'none' },
        // The camera's own tls node, but to another address.
        { id: 'camTls', host: '127.0.0.1', port: other.port, protocol: 'https', tls: 'tlsCam', allowSelfSigned: true, auth: 'none' },
      ];
      for (const body of tries) {
        const r = await probe(body);
        assert.equal(r.reason, 'deploy-tls', JSON.stringify(r));
        assert.match(r.message, /deploy/);
      }
      assert.equal(mtls.connections, 0, 'the mTLS API saw no connection');
      assert.equal(mtls.requests.length, 0);
      // Control: the camera's own tls node at its deployed address is used (the mTLS API refuses it: not the right certificate).
      const own = await probe({ id: 'camTls', host: '127.0.0.1', port: mtls.port, protocol: 'https', tls: 'tlsCam', allowSelfSigned: true, auth: 'none', customPath: '/secret' });
      assert.notEqual(own.reason, 'deploy-tls', JSON.stringify(own));
      assert.ok(mtls.connections >= 1);
      assert.equal(mtls.requests.length, 0, 'no request got through without the client certificate');
      assert.ok(!JSON.stringify(own).includes(TOKEN));
    });
  });
});
