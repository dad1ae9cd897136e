/**
 * Frame metadata across hops (src/origin.ts), the one X-Timestamp reader for
 * seconds and ms, and X-Forwarded-For from a trusted proxy only.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeCameraName, encodeCameraName, originFrom, parseTimestampMs, isKeepAlivePart } from '../src/origin';
import { MjpegBroadcaster } from '../src/relay/broadcaster';
import { clientInfo, parseTrustedProxies } from '../src/relay/address';
import { partHeader } from '../src/relay/multipart';
import { MjpegFilePlayer } from '../src/recording/player';
import { frameUserProperties, originFromUserProperties } from '../src/mqtt-frame';
import { labelledJpegs } from './support/jpeg-samples';
import { waitFor } from './support/wait';

describe('origin: frame metadata across hops', function () {
  it('X-Timestamp in seconds (mjpg-streamer, axmjpeg-out) and in ms (axmjpeg-record) read as ms', function () {
    assert.equal(parseTimestampMs('1700000000.123'), 1_700_000_000_123);
    assert.equal(parseTimestampMs('1700000000123'), 1_700_000_000_123);
    assert.equal(parseTimestampMs(' 1700000000 '), 1_700_000_000_000);
    // ustreamer's monotonic clock: seconds too, good for pacing.
    assert.equal(parseTimestampMs('12345.678'), 12_345_678);
    for (const bad of [undefined, '', 'abc', '-5', '1e12', '17000.1.2']) assert.ok(Number.isNaN(parseTimestampMs(bad)), String(bad));
  });

  it('originFrom: the headers of another relay win, a camera without them gets this hop\'s values', function () {
    const local = { time: 1_800_000_000_000, seq: 7 };
    assert.deepEqual(originFrom({ 'x-timestamp': '1700000000.040', 'x-sequence': '42', 'x-camera': 'Front%20door' }, local), {
      time: 1_700_000_000_040,
      seq: 42,
      camera: 'Front door',
    });
    assert.deepEqual(originFrom({}, local), { time: local.time, seq: 7 });
    // A monotonic X-Timestamp is no capture time.
    assert.equal(originFrom({ 'x-timestamp': '12345.6' }, local).time, local.time);
    assert.equal(originFrom({ 'x-sequence': 'x1' }, local).seq, 7);
  });

  it('camera names round-trip through a header without CR/LF or non-latin1 bytes', function () {
    const name = 'Entrée\r\nX-Evil: 1 ☃';
    const enc = encodeCameraName(name);
    assert.match(enc, /^[\x21-\x7e]+$/);
    assert.equal(decodeCameraName(enc), name);
    assert.equal(decodeCameraName('%E0%A4%A'), '%E0%A4%A', 'broken escapes come back as they are');
  });

  it('part headers: new frame, resent, offline', function () {
    const meta = { time: 1_700_000_000_040, seq: 9, camera: 'a b' };
    assert.equal(
      partHeader(10, meta).toString('latin1'),
      'Content-Type: image/jpeg\r\nContent-Length: 10\r\nX-Timestamp: 1700000000.040\r\nX-Sequence: 9\r\nX-Camera: a%20b\r\n\r\n',
    );
    assert.match(partHeader(10, meta, 'resent').toString('latin1'), /X-Sequence: 9\r\nX-Camera: a%20b\r\nX-Resent: 1\r\n\r\n$/);
    assert.match(partHeader(10, meta, 'offline').toString('latin1'), /X-Source-Offline: 1\r\n\r\n$/);
    assert.equal(isKeepAlivePart({ 'x-resent': '1' }), 'resent');
    assert.equal(isKeepAlivePart({ 'x-source-offline': '1' }), 'offline');
    assert.equal(isKeepAlivePart({ 'x-sequence': '1' }), null);
  });

  it('a curl capture of axmjpeg-out (X-Timestamp in seconds) plays at its recorded 25 fps, not thousands', async function () {
    this.timeout(10_000);
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'origin-'));
    try {
      const frames = labelledJpegs(11);
      const t0 = 1_700_000_000_000;
      const parts = frames.map((f, i) => Buffer.concat([Buffer.from('--b\r\n'), partHeader(f.length, { time: t0 + i * 40, seq: i + 1 }), f, Buffer.from('\r\n')]));
      const file = path.join(dir, 'capture.mjpg');
      await fsp.writeFile(file, Buffer.concat(parts));
      const at: number[] = [];
      await new Promise<void>((resolve) => {
        const p = new MjpegFilePlayer({ path: file, onFrame: () => at.push(Date.now()), onEnd: () => resolve() });
        p.start();
      });
      assert.equal(at.length, 11);
      const span = at[10]! - at[0]!;
      assert.ok(span >= 380 && span < 2000, `10 gaps of 40 ms took ${span} ms`);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('mqtt-frame: frame metadata as MQTT v5 user properties', function () {
  it('round-trips capture time, sequence and camera (UTF-8, no encoding needed)', function () {
    const up = frameUserProperties({ time: 1_700_000_000_040, seq: 12, camera: 'Entrée ☃', width: 640, height: 480 });
    assert.deepEqual(up, { 'x-timestamp': '1700000000.040', 'x-sequence': '12', 'x-camera': 'Entrée ☃', 'x-width': '640', 'x-height': '480' });
    for (const v of Object.values(up)) assert.equal(typeof v, 'string', 'MQTT user properties are strings');
    assert.deepEqual(originFromUserProperties(up), { time: 1_700_000_000_040, seq: 12, camera: 'Entrée ☃' });
  });

  it('a repeated property (an array) counts once; anything without time and sequence is no origin', function () {
    assert.deepEqual(originFromUserProperties({ 'x-timestamp': ['1700000000.5', '9'], 'x-sequence': '3' }), { time: 1_700_000_000_500, seq: 3 });
    for (const bad of [undefined, null, 'x', {}, { 'x-timestamp': '1700000000' }, { 'x-timestamp': 'soon', 'x-sequence': '1' }, { 'x-timestamp': '1700000000', 'x-sequence': '-1' }]) {
      assert.equal(originFromUserProperties(bad), null, JSON.stringify(bad));
    }
  });
});

describe('relay: X-Forwarded-For only from trusted proxies', function () {
  const req = (peer: string, xff?: string) =>
    ({ socket: { remoteAddress: peer, remotePort: 5000 }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as http.IncomingMessage;

  it('parses the setting, and names the bad entry', function () {
    assert.deepEqual([...parseTrustedProxies('loopback')].sort(), ['127.0.0.1', '::1']);
    assert.deepEqual([...parseTrustedProxies(' 10.0.0.2,  ::ffff:10.0.0.3 ')], ['10.0.0.2', '10.0.0.3']);
    assert.equal(parseTrustedProxies('').size, 0);
    assert.throws(() => parseTrustedProxies('10.0.0.2, nginx'), /not an IP address: "nginx"/);
  });

  it('believes X-Forwarded-For from a listed proxy only, right to left past other listed proxies', function () {
    const t = parseTrustedProxies('127.0.0.1, 10.0.0.9');
    assert.deepEqual(clientInfo(req('10.1.1.1', '6.6.6.6')), { address: '10.1.1.1', label: '10.1.1.1:5000' }, 'no setting: the peer');
    assert.equal(clientInfo(req('10.1.1.1', '6.6.6.6'), t).address, '10.1.1.1', 'an unlisted peer cannot pose');
    assert.deepEqual(clientInfo(req('::ffff:127.0.0.1', '192.168.1.20'), t), { address: '192.168.1.20', label: '192.168.1.20 (via proxy 127.0.0.1:5000)' });
    assert.equal(clientInfo(req('127.0.0.1', '6.6.6.6, 192.168.1.20, 10.0.0.9'), t).address, '192.168.1.20', 'two tiers: the first untrusted hop from the right');
    assert.equal(clientInfo(req('127.0.0.1', 'garbage'), t).address, '127.0.0.1', 'no usable entry: the peer');
    assert.equal(clientInfo(req('127.0.0.1'), t).address, '127.0.0.1');
  });

  it('behind a trusted proxy the per-address limit counts viewers, not the proxy', async function () {
    this.timeout(10_000);
    const bc = new MjpegBroadcaster({ maxViewersPerAddress: 1, trustedProxies: parseTrustedProxies('loopback') });
    const plain = new MjpegBroadcaster({ maxViewersPerAddress: 1 });
    const server = http.createServer((rq, rs) => (rq.url!.startsWith('/t') ? bc : plain).handle(rq, rs));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const reqs: http.ClientRequest[] = [];
    const get = (p: string, xff: string) =>
      new Promise<number>((resolve, reject) => {
        const r = http.get({ host: '127.0.0.1', port, path: p, agent: false, headers: { 'x-forwarded-for': xff } }, (res) => {
          resolve(res.statusCode!);
          res.resume();
        });
        r.on('error', reject);
        reqs.push(r);
      });
    try {
      assert.deepEqual([await get('/t', '192.168.1.1'), await get('/t', '192.168.1.2'), await get('/t', '192.168.1.2')], [200, 200, 429]);
      assert.deepEqual([await get('/p', '192.168.1.1'), await get('/p', '192.168.1.2')], [200, 429], 'without the setting XFF is ignored');
      await waitFor(() => bc.viewerCount === 2, 2000, 'two viewers');
      assert.deepEqual(bc.stats.perViewer.map((v) => v.remote.split(' ')[0]).sort(), ['192.168.1.1', '192.168.1.2']);
    } finally {
      for (const r of reqs) r.destroy();
      bc.close();
      plain.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
