/**
 * Hostile answers to the PTZ and I/O requests: mutated real answers
 * (test/fixtures/axis) and arbitrary text never make the parsers throw
 * anything but a CameraError, never take long, and an answer far larger
 * than any command answer is cut off at the command limit with a typed error.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import fc from 'fast-check';
import { parseParamList } from '../src/device-info';
import { CameraError, ErrorCodes } from '../src/errors';
import { CameraHttpClient } from '../src/http';
import { parseGetPorts, parseVirtualInputResponse, portsFromParams, IoController } from '../src/io';
import { capabilitiesFromParams, parsePosition, parsePresetList, PtzController } from '../src/ptz';
import { COMMAND_MAX_BYTES } from '../src/vapix-command';

const SEED = process.env.FUZZ_SEED === 'random' ? undefined : Number(process.env.FUZZ_SEED) || 20261203;
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, ...(SEED !== undefined ? { seed: SEED } : {}) });
const KANE = path.join(__dirname, 'fixtures', 'axis', 'kane610-axis');
const REAL_TEXTS = [
  readFileSync(path.join(KANE, 'param-cgi', 'ptz-dome.txt'), 'utf8'),
  readFileSync(path.join(KANE, 'param-cgi', 'ptz-M3058-fw10.12.txt'), 'utf8'),
  readFileSync(path.join(KANE, 'ptz-cgi', 'query-position.txt'), 'utf8'),
  readFileSync(path.join(KANE, 'ptz-cgi', 'query-presetposall.txt'), 'utf8'),
  readFileSync(path.join(__dirname, 'fixtures', 'axis', 'vapix-docs', 'virtualinput-activate-ok.xml'), 'utf8'),
];
const TOKENS = ['=', '\n', '\r\n', ':', 'root.PTZ.Support.S1.AbsolutePan=', 'presetposno', 'Preset Positions for camera ', '<ErrorCode>', '</StateChanged>', '<Error>', 'pan=', 'NaN', '1e999', '-'];

/** A real answer with inserted tokens, deleted ranges and repeats. */
const mutated = fc
  .tuple(fc.constantFrom(...REAL_TEXTS), fc.array(fc.tuple(fc.nat(), fc.nat(40), fc.constantFrom(...TOKENS), fc.boolean()), { maxLength: 12 }))
  .map(([text, edits]) => {
    let s = text;
    for (const [at, len, tok, del] of edits) {
      const i = s.length ? at % s.length : 0;
      s = del ? s.slice(0, i) + s.slice(i + len) : s.slice(0, i) + tok.repeat(1 + (len % 5)) + s.slice(i);
    }
    return s;
  });
const anyText = fc.oneof(mutated, fc.string({ maxLength: 2000 }), fc.string({ unit: 'binary', maxLength: 500 }));

function onlyTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CameraError, `threw ${String(e)}`);
  }
}

describe('PTZ and I/O parsers on hostile answers', function () {
  this.timeout(30_000);

  it('never throw an untyped error, whatever the text', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const values = parseParamList(text).values;
        onlyTyped(() => capabilitiesFromParams(values));
        onlyTyped(() => portsFromParams(values));
        onlyTyped(() => parsePosition(text));
        onlyTyped(() => parsePresetList(text, 1));
        onlyTyped(() => parseVirtualInputResponse(text, 'v'));
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON: parseGetPorts sees other shapes below */
        }
        for (const j of [json, { data: { items: text } }, { data: { items: [text, { port: text }] } }, { error: text }]) onlyTyped(() => parseGetPorts(j));
      }),
      params(500),
    );
  });

  it('positions are numbers or absent, never NaN or Infinity', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        for (const v of Object.values(parsePosition(text))) assert.ok(Number.isFinite(v), String(v));
      }),
      params(500),
    );
  });

  it('a list of 100 000 presets parses in bounded time', () => {
    const big = `Preset Positions for camera 1\n${Array.from({ length: 100_000 }, (_, i) => `presetposno${i + 1}=P${i}`).join('\n')}`;
    const t0 = Date.now();
    assert.equal(parsePresetList(big).length, 100_000);
    assert.ok(Date.now() - t0 < 2000);
  });
});

describe('PTZ and I/O against a camera answering far too much', function () {
  this.timeout(10_000);
  let server: http.Server | null = null;
  let client: CameraHttpClient | null = null;

  afterEach(async () => {
    await client?.close();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = client = null;
  });

  it('a 1 MB position or port list is cut at the command limit: ERR_FRAME_TOO_LARGE, the socket closed', async () => {
    const huge = Buffer.alloc(1024 * 1024, 'pan=1\n');
    server = http.createServer((req, res) => {
      if ((req.url ?? '').startsWith('/axis-cgi/param.cgi')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('root.PTZ.Support.S1.AbsolutePan=true\n');
        return;
      }
      // Chunked, no length: the client has to count.
      res.writeHead(200, { 'content-type': (req.url ?? '').includes('portmanagement') ? 'application/json' : 'text/plain' });
      res.end(huge);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    assert.ok(huge.length > COMMAND_MAX_BYTES);
    for (const p of [new PtzController(client).position(), new IoController(client).ports()]) {
      await assert.rejects(p, (e: CameraError) => e instanceof CameraError && e.code === ErrorCodes.FRAME_TOO_LARGE && /few lines/.test(e.hint));
    }
  });
});
