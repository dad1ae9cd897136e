import assert from 'node:assert/strict';
import { startSimulator, CameraSimulator } from '../../simulator';
import { helper, callsOf, startNodeRed, stopNodeRed, warningsOf } from '../support/node-red';
import { cameraConfig } from '../support/flow-nodes';
import { endpointFrom } from '../../nodes/lib/endpoint';
import { MAX_TESTS_PER_MINUTE, rateLimiter } from '../../nodes/lib/connection-test';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameraNode = require('../../nodes/axmjpeg-camera');

const SECRET = 'T3st-conn-secret';

async function testConnection(body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await helper.request().post('/axmjpeg-camera/test').send(body).expect(200);
  return res.body;
}

describe('axmjpeg-camera config node', function () {
  let sim: CameraSimulator;

  beforeEach(startNodeRed);

  afterEach(async () => {
    await stopNodeRed();
    await sim?.close();
  });

  it('Test connection reports model, firmware and the first frame size', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load(cameraNode, []);
    const r = await testConnection({ host: '127.0.0.1', port: sim.port, protocol: 'http', auth: 'auto', user: 'root', password: SECRET, resolution: '320x240' });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.match(r.model, /AXIS/);
    assert.ok(r.firmware);
    assert.equal(r.width, 320);
    assert.equal(r.height, 240);
    const end = Date.now() + 3000;
    while (sim.stats.activeStreams !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sim.stats.activeStreams, 0, 'test stream closed');
  });

  it('Test connection uses the stored password when the editor sends the placeholder', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load(cameraNode, [{ id: 'cam', type: 'axmjpeg-camera', host: '127.0.0.1', port: sim.port }], { cam: { user: 'root', password: SECRET } });
    const r = await testConnection({ id: 'cam', host: '127.0.0.1', port: sim.port, user: 'root', password: '__PWRD__' });
    assert.equal(r.ok, true, JSON.stringify(r));
  });

  it('Test connection explains each failure with a code and hint and never echoes the password', async () => {
    sim = await startSimulator({ auth: 'digest', password: 'right' });
    await helper.load(cameraNode, []);
    const wrong = await testConnection({ host: '127.0.0.1', port: sim.port, user: 'root', password: SECRET });
    assert.equal(wrong.ok, false);
    assert.equal(wrong.code, 'ERR_AUTH_FAILED');
    assert.match(wrong.hint, /Digest/);
    assert.ok(!JSON.stringify(wrong).includes(SECRET));

    const badCam = await testConnection({ host: '127.0.0.1', port: sim.port, user: 'root', password: 'right', cameraNumber: '9' });
    assert.equal(badCam.code, 'ERR_NOT_MJPEG');
    // The camera's own error text is the one body form passed on.
    assert.equal(badCam.detail, 'Camera 9 not available.');
    assert.equal(badCam.body, undefined);

    const port = sim.port;
    await sim.close();
    const refused = await testConnection({ host: '127.0.0.1', port, user: 'root', password: 'right' });
    assert.equal(refused.code, 'ERR_CONN_REFUSED');
    assert.match(refused.hint, /HTTPS/);

    const badHost = await testConnection({ host: 'http://root:x@cam', port });
    assert.equal(badHost.code, 'ERR_INVALID_SETTING');

    const badCa = await testConnection({ host: '127.0.0.1', port, protocol: 'https', ca: '/etc/ssl/camera.pem' });
    assert.equal(badCa.code, 'ERR_INVALID_SETTING');
    assert.match(badCa.message, /PEM/);
  });

  it('a config error is reported at deploy, not thrown', async () => {
    await helper.load(cameraNode, [{ id: 'cam', type: 'axmjpeg-camera', host: 'http://10.0.0.1/', port: 'eighty' }]);
    const n = helper.getNode('cam');
    const errs = callsOf(n, 'error').map((c) => c.args[0]);
    assert.equal(errs.length, 1);
    assert.match(errs[0], /host name or IP address only/);
  });

  it('Test connection sends the stored password only while host, port and protocol are the deployed ones', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load(cameraNode, [cameraConfig('cam', sim.port)], { cam: { user: 'root', password: SECRET } });
    const moved = await testConnection({ id: 'cam', host: '127.0.0.1', port: sim.port + 1, user: 'root', password: '__PWRD__' });
    assert.equal(moved.ok, false);
    assert.equal(moved.reason, 'retype-password');
    assert.equal(moved.code, 'ERR_INVALID_SETTING');
    assert.match(moved.message, /re-type the password/);
    const https = await testConnection({ id: 'cam', host: '127.0.0.1', port: sim.port, protocol: 'https', user: 'root', password: '__PWRD__' });
    assert.equal(https.reason, 'retype-password');
    // "host:port" in Host with Port blank is the same address as deployed.
    const same = await testConnection({ id: 'cam', host: `127.0.0.1:${sim.port}`, port: '', user: 'root', password: '__PWRD__', resolution: '160x120' });
    assert.equal(same.ok, true, JSON.stringify(same));
    // A re-typed password goes wherever the user points it.
    const typed = await testConnection({ id: 'cam', host: 'localhost', port: sim.port, user: 'root', password: SECRET, resolution: '160x120' });
    assert.equal(typed.ok, true, JSON.stringify(typed));
    // The placeholder never counts as a password: without a deployed camera it is refused, not sent.
    const fresh = await testConnection({ host: '127.0.0.1', port: sim.port, user: 'root', password: '__PWRD__' });
    assert.equal(fresh.reason, 'retype-password');
  });

  it('Test connection is logged with node id, address and result, never the password', async () => {
    sim = await startSimulator({ auth: 'digest', password: SECRET });
    await helper.load(cameraNode, [cameraConfig('cam', sim.port)], { cam: { user: 'root', password: SECRET } });
    await testConnection({ id: 'cam', host: '127.0.0.1', port: sim.port, user: 'root', password: '__PWRD__', resolution: '160x120' });
    await testConnection({ id: 'cam', host: '127.0.0.1', port: sim.port, user: 'root', password: 'wrong-one' });
    await testConnection({ id: 'cam', host: '127.0.0.1', port: 1, user: 'root', password: '__PWRD__' });
    const lines = helper
      .log()
      .args.map((a: any[]) => a[0]?.msg)
      .filter((m: unknown) => typeof m === 'string' && m.includes('Test connection'));
    assert.deepEqual(lines, [
      `[axmjpeg-camera] Test connection, node cam: http://127.0.0.1:${sim.port} (stored password): ok`,
      `[axmjpeg-camera] Test connection, node cam: http://127.0.0.1:${sim.port}: ERR_AUTH_FAILED (HTTP 401)`,
      '[axmjpeg-camera] Test connection, node cam: http://127.0.0.1:1: refused (retype-password)',
    ]);
    assert.ok(!JSON.stringify(helper.log().args).includes(SECRET));
  });

  it('Host: "address:port" is understood or clearly refused, IPv6 literals still work', () => {
    const ep = (host: string, port: string | number = '') => endpointFrom({ host, port, protocol: 'http' }, {});
    assert.deepEqual([ep('192.168.0.90:8080').host, ep('192.168.0.90:8080').port], ['192.168.0.90', 8080]);
    assert.equal(ep('192.168.0.90:8080', 8080).port, 8080);
    assert.throws(() => ep('192.168.0.90:8080', 80), /includes port 8080, but the Port field says 80: put only the address in Host/);
    assert.throws(() => ep('cam.local:http'), /not a port number: put the port in the Port field/);
    assert.throws(() => ep('192.168.0.90:99999'), /port must be 1-65535, got "99999"/);
    assert.deepEqual([ep('fe80::1').host, ep('fe80::1').port], ['fe80::1', 80]);
    assert.deepEqual([ep('[fe80::1]').host, ep('[fe80::1]').port], ['fe80::1', 80]);
    assert.deepEqual([ep('[fe80::1]:8080').host, ep('[fe80::1]:8080').port], ['fe80::1', 8080]);
    assert.throws(() => ep('[cam.local]'), /not a valid IPv6 address/);
    assert.throws(() => ep('fe80::1%eth0'), /zone ids/);
    assert.throws(() => ep('fe80::1]'), /\[address\]:port/);
  });

  it('Basic over http: allowed by default with one warning, refused with a hint when forbidden', async () => {
    sim = await startSimulator({ auth: 'basic', password: SECRET });
    const basicSent: string[] = [];
    sim.onRequest = (req) => {
      if (/^Basic /i.test(req.headers.authorization ?? '')) basicSent.push(req.url ?? '');
    };
    await helper.load(
      cameraNode,
      [
        cameraConfig('old', sim.port),
        cameraConfig('strict', sim.port, { allowBasicHttp: false }),
        cameraConfig('both', sim.port, { auth: 'basic', allowBasicHttp: false }),
      ],
      { old: { user: 'root', password: SECRET }, strict: { user: 'root', password: SECRET }, both: { user: 'root', password: SECRET } },
    );
    // A config saved before the option (no allowBasicHttp) keeps working, and says what it costs once.
    const old = helper.getNode('old');
    await old.snapshot({ resolution: '160x120' });
    await old.snapshot({ resolution: '160x120' });
    const warns = warningsOf(old);
    assert.equal(warns.length, 1, JSON.stringify(warns));
    assert.match(warns[0]!, /only Basic auth, so the password crosses the network readable over http/);
    assert.ok(!warns[0]!.includes(SECRET));
    assert.equal(basicSent.length, 2);

    basicSent.length = 0;
    const strict = helper.getNode('strict');
    await assert.rejects(strict.snapshot({ resolution: '160x120' }), (e: any) => {
      assert.equal(e.code, 'ERR_AUTH_FAILED');
      assert.match(e.message, /Basic auth, which is not allowed over http/);
      assert.match(e.hint, /Use https, or enable Digest/);
      return true;
    });
    assert.equal(basicSent.length, 0, 'no Basic header went out');
    assert.equal(warningsOf(strict).length, 0);

    const both = helper.getNode('both');
    const errs = callsOf(both, 'error').map((c) => String(c.args[0]));
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /Auth is Basic over http, but "Allow Basic over http" is off/);

    // Test connection: a warning with the success, the same refusal when forbidden.
    const t1 = await testConnection({ host: '127.0.0.1', port: sim.port, user: 'root', password: SECRET, resolution: '160x120' });
    assert.equal(t1.ok, true, JSON.stringify(t1));
    assert.equal(t1.warning, 'basic-over-http');
    basicSent.length = 0;
    const t2 = await testConnection({ host: '127.0.0.1', port: sim.port, user: 'root', password: SECRET, allowBasicHttp: false });
    assert.equal(t2.code, 'ERR_AUTH_FAILED');
    assert.match(t2.hint, /Allow Basic over http/);
    assert.equal(basicSent.length, 0);
    // With the stored password, the deployed camera's "forbid" wins over the request's "allow".
    const t3 = await testConnection({ id: 'strict', host: '127.0.0.1', port: sim.port, user: 'root', password: '__PWRD__', allowBasicHttp: true });
    assert.equal(t3.code, 'ERR_AUTH_FAILED');
    assert.equal(basicSent.length, 0);
  });

  it('Test connection runs at most 20 times a minute, so a port scan through it crawls', async () => {
    await helper.load(cameraNode, []);
    const codes: number[] = [];
    // Refused ports answer at once: exactly what a scan would send.
    for (let i = 0; i <= MAX_TESTS_PER_MINUTE; i++) {
      const res = await helper.request().post('/axmjpeg-camera/test').send({ host: '127.0.0.1', port: 1 + i, auth: 'none' });
      codes.push(res.status);
      if (res.status === 429) assert.match(res.body.message, /At most 20 connection tests a minute/);
    }
    assert.deepEqual(codes, [...Array(MAX_TESTS_PER_MINUTE).fill(200), 429]);
    const logged = helper.log().args.map((a: any[]) => String(a[0]?.msg)).filter((m: string) => m.includes('rate limit'));
    assert.equal(logged.length, 1);

    let now = 0;
    const allow = rateLimiter(2, () => now);
    assert.deepEqual([allow(), allow(), allow()], [true, true, false]);
    now = 59_999;
    assert.equal(allow(), false);
    now = 60_000;
    assert.deepEqual([allow(), allow(), allow()], [true, true, false]);
  });
});
