/**
 * Per-viewer framing of MjpegBroadcaster (src/relay/framing.ts) over real
 * sockets: browsers get the next part's headers ahead of each frame, tools
 * get Content-Length parts, WebKit viewers get the last frame of a series
 * once more.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { MjpegBroadcaster, WEBKIT_REPEAT_AFTER_MS } from '../src/relay/broadcaster';
import { viewerKind, isWebKit } from '../src/relay/framing';
import { MjpegParser } from '../src/parser';
import { fakeJpeg } from './support/jpeg-samples';
import { partsByLength } from './support/multipart';
import { waitFor } from './support/wait';

const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0';
const SAFARI_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15';
const IOS_CHROME_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/130.0 Mobile/15E148 Safari/604.1';

describe('relay framing: browser and standard parts per viewer', function () {
  let bc: MjpegBroadcaster;
  let server: http.Server;
  let base: string;
  const requests: http.ClientRequest[] = [];

  beforeEach(async function () {
    bc = new MjpegBroadcaster();
    server = http.createServer((req, res) => bc.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async function () {
    for (const r of requests.splice(0)) r.destroy();
    bc.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /** Opens a viewer and collects its raw body bytes. */
  async function open(path: string, headers: Record<string, string>): Promise<{ res: http.IncomingMessage; raw: () => Buffer }> {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`${base}${path}`, { agent: false, headers }, resolve);
      req.on('error', reject);
      requests.push(req);
    });
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    return { res, raw: () => Buffer.concat(chunks) };
  }

  it('chooses browser framing for what a browser renders, standard for tools and fetch(), and obeys ?framing=', function () {
    const k = (h: Record<string, string>, explicit?: 'browser' | 'standard') => viewerKind(h, explicit);
    assert.deepEqual(k({ 'sec-fetch-dest': 'image', 'user-agent': CHROME_UA }), { framing: 'browser', webkit: false });
    assert.deepEqual(k({ 'sec-fetch-dest': 'document', 'user-agent': FIREFOX_UA }), { framing: 'browser', webkit: false });
    assert.deepEqual(k({ 'sec-fetch-dest': 'image', 'user-agent': SAFARI_UA }), { framing: 'browser', webkit: true });
    // Safari before 16.4 sends no Fetch Metadata.
    assert.deepEqual(k({ 'user-agent': SAFARI_UA }), { framing: 'browser', webkit: true });
    assert.deepEqual(k({ 'user-agent': IOS_CHROME_UA }), { framing: 'browser', webkit: true });
    // fetch()/XHR: the page's script parses the bytes and may want Content-Length.
    assert.deepEqual(k({ 'sec-fetch-dest': 'empty', 'user-agent': CHROME_UA }), { framing: 'standard', webkit: false });
    for (const ua of ['Lavf/59.27.100', 'VLC/3.0.18 LibVLC/3.0.18', 'GStreamer souphttpsrc 1.22.0 libsoup/3.2.2', 'curl/7.88.1', 'undici', '']) {
      assert.deepEqual(k({ 'user-agent': ua }), { framing: 'standard', webkit: false }, ua);
    }
    assert.deepEqual(k({ 'sec-fetch-dest': 'image', 'user-agent': CHROME_UA }, 'standard'), { framing: 'standard', webkit: false });
    assert.deepEqual(k({ 'user-agent': 'curl/8' }, 'browser'), { framing: 'browser', webkit: false });
    assert.equal(isWebKit('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36'), false);
  });

  it('browser framing: the next part\'s headers follow each frame at once, and our own parser reads it back', async function () {
    const v = await open('/live', { 'sec-fetch-dest': 'image', 'user-agent': CHROME_UA });
    const B = bc.boundary;
    const next = `\r\n--${B}\r\nContent-Type: image/jpeg\r\n\r\n`;
    await waitFor(() => v.raw().length > 0, 2000, 'opening');
    assert.equal(v.raw().toString('latin1'), `--${B}\r\nContent-Type: image/jpeg\r\n\r\n`);
    const frames = [fakeJpeg(1, 300), fakeJpeg(2, 500), fakeJpeg(3, 200)];
    let expected = Buffer.from(`--${B}\r\nContent-Type: image/jpeg\r\n\r\n`, 'latin1');
    for (const f of frames) {
      bc.publish(f);
      expected = Buffer.concat([expected, f, Buffer.from(next, 'latin1')]);
      // Each frame is complete, and its successor's headers are there, before the next publish.
      await waitFor(() => v.raw().length === expected.length, 2000, 'frame and next headers');
      assert.deepEqual(v.raw(), expected);
    }
    assert.equal(bc.stats.perViewer[0]!.framing, 'browser');
    const got: Buffer[] = [];
    const parser = new MjpegParser({ boundary: B, onFrame: (fr) => got.push(Buffer.from(fr.data)) });
    parser.push(v.raw());
    parser.end();
    assert.deepEqual(got, frames);
  });

  it('standard framing for a tool and for ?framing=standard from a browser: Content-Length and X-Timestamp in every part', async function () {
    const tool = await open('/live', { 'user-agent': 'Lavf/59.27.100' });
    const forced = await open('/live?framing=standard', { 'sec-fetch-dest': 'image', 'user-agent': CHROME_UA });
    const frames = [fakeJpeg(1, 300), fakeJpeg(2, 400)];
    for (const f of frames) bc.publish(f, { time: 1_700_000_000_000 });
    for (const v of [tool, forced]) {
      await waitFor(() => partsByLength(v.raw()).length === 2, 2000, 'two parts');
      assert.deepEqual(partsByLength(v.raw()), frames);
      assert.match(v.raw().toString('latin1'), /X-Timestamp: 1700000000\.000\r\n/);
    }
  });

  it('answers 400 to an unknown ?framing=', async function () {
    const v = await open('/live?framing=fast', {});
    assert.equal(v.res.statusCode, 400);
    await once(v.res, 'end');
    assert.match(v.raw().toString(), /framing must be browser or standard/);
  });

  it('WebKit viewers get the last frame of a series once more; Chromium and fast series do not', async function () {
    const safari = await open('/live', { 'user-agent': SAFARI_UA });
    const chrome = await open('/live', { 'sec-fetch-dest': 'image', 'user-agent': CHROME_UA });
    const B = bc.boundary;
    const count = (raw: Buffer): number => raw.toString('latin1').split(`--${B}\r\n`).length - 2;
    // A fast series: no repeats while frames keep coming.
    for (let i = 1; i <= 6; i++) {
      bc.publish(fakeJpeg(i, 100));
      await sleep(WEBKIT_REPEAT_AFTER_MS / 6);
    }
    await waitFor(() => count(safari.raw()) === 6 && count(chrome.raw()) === 6, 2000, 'six frames each');
    // Then a pause: the sixth frame goes to Safari once more, and only once.
    await waitFor(() => count(safari.raw()) === 7, WEBKIT_REPEAT_AFTER_MS * 4, 'the repeat');
    await sleep(WEBKIT_REPEAT_AFTER_MS * 2);
    assert.equal(count(safari.raw()), 7);
    assert.equal(count(chrome.raw()), 6);
    const parts = safari.raw().toString('latin1').split(`\r\n--${B}\r\nContent-Type: image/jpeg\r\n\r\n`);
    assert.equal(parts[parts.length - 2], parts[parts.length - 3], 'the repeat is the last frame');
  });
});
