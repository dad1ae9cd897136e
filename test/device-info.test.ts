/**
 * param.cgi is ISO-8859-1 on real Axis firmware. The M1065-LW list in
 * test/fixtures/axis (Kane610/axis, see SOURCES.md) names its PTZ presets
 * `Entrée` and `Haustür`; served the way that library serves it (latin1 bytes,
 * `text/plain; charset=iso-8859-1`) and with no charset at all, the names must
 * come out as the camera meant them. A real HTTP server on 127.0.0.1:0 stands in
 * for the camera; basicdeviceinfo.cgi answers 404 like old firmware, so
 * fetchDeviceInfo takes the param.cgi path.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { CameraHttpClient } from '../src/http';
import { contentTypeCharset, fetchDeviceInfo, paramCgiText, parseParamList } from '../src/device-info';
import { startSimulator } from '../simulator';

const FIXTURES = path.join(__dirname, 'fixtures', 'axis', 'kane610-axis', 'param-cgi');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const PARAM_ALL = fixture('param-all-M1065-LW.txt');

async function camera(body: Buffer, contentType: string): Promise<{ client: CameraHttpClient; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url?.startsWith('/axis-cgi/param.cgi')) {
      res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<HTML><BODY><H1>404 Not Found</H1></BODY></HTML>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  return {
    client,
    requests,
    close: async () => {
      await client.close();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('device info: param.cgi text as the camera encodes it', function () {
  this.timeout(10_000);

  for (const [label, body, type] of [
    ['ISO-8859-1 with the charset Axis sends', Buffer.from(PARAM_ALL, 'latin1'), 'text/plain; charset=iso-8859-1'],
    ['ISO-8859-1 without a charset (the default)', Buffer.from(PARAM_ALL, 'latin1'), 'text/plain'],
    ['UTF-8 when the header says so', Buffer.from(PARAM_ALL, 'utf8'), 'text/plain; charset=UTF-8'],
  ] as const) {
    it(`${label}: preset names Entrée and Haustür, model, firmware and serial`, async () => {
      const cam = await camera(body, type);
      try {
        const res = await cam.client.fetchBuffer('/axis-cgi/param.cgi?action=list');
        const { values, error } = parseParamList(paramCgiText(res));
        assert.equal(error, undefined);
        assert.equal(values['root.PTZ.Preset.P0.Position.P1.Name'], 'Entrée');
        assert.equal(values['root.PTZ.Preset.P1.Position.P1.Name'], 'Haustür');
        assert.ok(!JSON.stringify(values).includes('\uFFFD'), 'no replacement characters');

        const info = await fetchDeviceInfo(cam.client);
        assert.deepEqual(info, {
          model: values['root.Brand.ProdFullName'],
          firmware: values['root.Properties.Firmware.Version'],
          serial: values['root.Properties.System.SerialNumber'],
          brand: 'AXIS',
          api: 'param',
        });
        assert.match(info.model ?? '', /^AXIS M1065-LW/);
        assert.ok(cam.requests.some((u) => u.startsWith('/axis-cgi/basicdeviceinfo.cgi')), 'tried the JSON API first');
      } finally {
        await cam.close();
      }
    });
  }

  it('the Brand answers of real firmware (M1065-LW, M3024-L on 5.51) give model and brand', async () => {
    for (const [name, model] of [
      ['brand-M1065-LW.txt', 'AXIS M1065-LW Network Camera'],
      ['brand-M3024-L-fw5.51.txt', 'AXIS M3024-L Network Camera'],
    ]) {
      const cam = await camera(Buffer.from(fixture(name), 'latin1'), 'text/plain; charset=iso-8859-1');
      try {
        const info = await fetchDeviceInfo(cam.client);
        assert.equal(info.model, model, name);
        assert.equal(info.brand, 'AXIS');
      } finally {
        await cam.close();
      }
    }
  });

  it('reads the charset from a Content-Type, quoted or not, any case', () => {
    assert.equal(contentTypeCharset('text/plain; charset=ISO-8859-1'), 'iso-8859-1');
    assert.equal(contentTypeCharset('text/plain;charset="utf-8"'), 'utf-8');
    assert.equal(contentTypeCharset('text/plain'), undefined);
    assert.equal(contentTypeCharset(undefined), undefined);
    // An unknown label falls back to latin1 for param.cgi.
    assert.equal(paramCgiText({ body: Buffer.from('a=\xe9', 'latin1'), contentType: 'text/plain; charset=x-nonsense' }), 'a=é');
  });

  it('the simulator serves param.cgi as ISO-8859-1, saying so in the header', async () => {
    const sim = await startSimulator({ model: 'Tür-1' });
    const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port, username: 'root', password: 'pass' });
    try {
      const res = await client.fetchBuffer('/axis-cgi/param.cgi?action=list&group=root.Brand.ProdNbr');
      assert.match(res.contentType, /charset=ISO-8859-1/i);
      assert.deepEqual([...res.body.subarray(res.body.indexOf('=') + 1, res.body.indexOf('=') + 4)], [0x54, 0xfc, 0x72], 'ü is one byte, FC');
      assert.equal(parseParamList(paramCgiText(res)).values['root.Brand.ProdNbr'], 'Tür-1');
    } finally {
      await client.close();
      await sim.close();
    }
  });
});
