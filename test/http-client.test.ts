import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { errors as undiciErrors } from 'undici';
import { CameraError } from '../src/errors';
import { CameraEndpoint, CameraHttpClient, CameraResponse } from '../src/http/client';
import { mapRequestError } from '../src/http/map-error';
import { testCerts } from './support/tls-certs';

// ---------------------------------------------------------------------------
// helpers: every server and client opened in a test is closed in afterEach.

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length) await (cleanups.pop() as () => Promise<void> | void)();
});

interface Tracked<S extends net.Server> {
  server: S;
  port: number;
  sockets: Set<net.Socket>;
  /** Resolves when the server has seen `n` connections closed. */
  closed: number;
  opened: number;
  waitClosed(n: number): Promise<void>;
}

async function start<S extends net.Server>(server: S): Promise<Tracked<S>> {
  const sockets = new Set<net.Socket>();
  const t = { server, port: 0, sockets, closed: 0, opened: 0 } as Tracked<S>;
  const waiters: Array<() => void> = [];
  const conn = server instanceof tls.Server ? 'secureConnection' : 'connection';
  // Count raw TCP connections (TLS servers also emit 'connection').
  server.on('connection', (s: net.Socket) => {
    t.opened++;
    sockets.add(s);
    s.on('close', () => {
      sockets.delete(s);
      t.closed++;
      waiters.splice(0).forEach((w) => w());
    });
  });
  void conn;
  t.waitClosed = (n: number) =>
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (t.closed >= n) resolve();
        else waiters.push(check);
      };
      check();
    });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.port = (server.address() as net.AddressInfo).port;
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return t;
}

function client(ep: Partial<CameraEndpoint> & { port: number }): CameraHttpClient {
  const c = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', ...ep });
  cleanups.push(() => c.close());
  return c;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<CameraError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CameraError, `expected CameraError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected rejection with ${code}`);
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A TCP server that reads a request and never answers. */
async function silentServer(): Promise<Tracked<net.Server>> {
  return start(net.createServer((s) => s.on('data', () => {})));
}

/** A port nothing listens on: listen, then close. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Waits until `got()` reaches `n` bytes; polled on the event loop (no fixed sleeps in assertions). */
async function until(cond: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---------------------------------------------------------------------------

describe('CameraHttpClient: endpoint', () => {
  it('baseUrl has scheme, host and port but never credentials', () => {
    const c = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: 8080, username: 'root', password: 'pw-secret' });
    cleanups.push(() => c.close());
    assert.equal(c.baseUrl, 'http://127.0.0.1:8080');
    const d = new CameraHttpClient({ protocol: 'https', host: '::1', port: 443 });
    cleanups.push(() => d.close());
    assert.equal(d.baseUrl, 'https://[::1]');
  });

  it('rejects a host holding credentials without echoing them', () => {
    assert.throws(
      () => new CameraHttpClient({ protocol: 'http', host: 'root:pw-secret@10.0.0.1' }),
      (e: unknown) => e instanceof CameraError && e.code === 'ERR_INVALID_SETTING' && !e.message.includes('pw-secret'),
    );
  });

  it('rejects bad ports, timeouts and paths', async () => {
    assert.throws(() => new CameraHttpClient({ protocol: 'http', host: 'h', port: 70000 }), /port/);
    assert.throws(() => new CameraHttpClient({ protocol: 'http', host: 'h', connectTimeoutMs: -1 }), /connectTimeoutMs/);
    const c = client({ port: 1 });
    await rejectsWith(c.request('no-slash'), 'ERR_INVALID_SETTING');
    await rejectsWith(c.request('/a\r\nX-Injected: 1'), 'ERR_INVALID_SETTING');
  });
});

describe('CameraHttpClient: bodies', () => {
  it('streams an HTTP/1.0 close-delimited body (Axis style) piece by piece', async () => {
    const pieces = ['--myboundary\r\nContent-Type: image/jpeg\r\n', 'Content-Length: 4\r\n\r\n', 'ABCD\r\n', '--myboundary\r\n'];
    let received = 0;
    const srv = await start(
      net.createServer((sock) => {
        sock.once('data', async () => {
          sock.write('HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: multipart/x-mixed-replace; boundary=myboundary\r\n\r\n');
          let sent = 0;
          for (const p of pieces) {
            sock.write(p);
            sent += p.length;
            // The next piece goes out only after the client has read this one:
            // a client that buffers the body until the end would deadlock here.
            await until(() => received >= sent, 'client to read the piece');
          }
          sock.end();
        });
      }),
    );
    const c = client({ port: srv.port });
    const res = await c.request('/axis-cgi/mjpg/video.cgi?fps=5', { expect: 'multipart' });
    assert.equal(res.statusCode, 200);
    assert.match(res.contentType, /^multipart\/x-mixed-replace/);
    assert.equal(res.url, `http://127.0.0.1:${srv.port}/axis-cgi/mjpg/video.cgi?fps=5`);
    const chunks: string[] = [];
    for await (const chunk of res.body) {
      chunks.push(chunk.toString('latin1'));
      received += chunk.length;
    }
    assert.equal(chunks.join(''), pieces.join(''));
    assert.ok(chunks.length >= pieces.length, `expected ≥${pieces.length} chunks, got ${chunks.length}`);
  });

  it('streams an HTTP/1.1 chunked body piece by piece', async () => {
    const pieces = ['--b\r\n', 'Content-Type: image/jpeg\r\n\r\n', '\xff\xd8\xff\xd9', '\r\n--b--\r\n'];
    let received = 0;
    const srv = await start(
      http.createServer(async (req, res) => {
        res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace;boundary=b' });
        let sent = 0;
        for (const p of pieces) {
          res.write(Buffer.from(p, 'latin1'));
          sent += p.length;
          await until(() => received >= sent, 'client to read the piece');
        }
        res.end();
      }),
    );
    const c = client({ port: srv.port });
    const res = await c.request('/mjpg', { expect: 'multipart' });
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    const chunks: string[] = [];
    for await (const chunk of res.body) {
      chunks.push(chunk.toString('latin1'));
      received += chunk.length;
    }
    assert.deepEqual(chunks, pieces);
  });

  it('fetchBuffer reads a small POSTed JSON answer and a jpeg', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
    const srv = await start(
      http.createServer(async (req, res) => {
        if (req.url === '/axis-cgi/basicdeviceinfo.cgi') {
          const body = await collect(req as unknown as AsyncIterable<Buffer>);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ method: req.method, echo: JSON.parse(body.toString()) }));
        } else {
          res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length });
          res.end(jpeg);
        }
      }),
    );
    const c = client({ port: srv.port });
    const info = await c.fetchBuffer('/axis-cgi/basicdeviceinfo.cgi', {
      body: JSON.stringify({ apiVersion: '1.0', method: 'getAllProperties' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual(JSON.parse(info.body.toString()), { method: 'POST', echo: { apiVersion: '1.0', method: 'getAllProperties' } });
    const snap = await c.fetchBuffer('/axis-cgi/jpg/image.cgi', { expect: 'jpeg' });
    assert.deepEqual(snap.body, jpeg);
    assert.equal(snap.contentType, 'image/jpeg');
  });

  it('fetchBuffer enforces maxBytes, by Content-Length and by counting', async () => {
    const srv = await start(
      http.createServer((req, res) => {
        if (req.url === '/declared') {
          res.writeHead(200, { 'content-length': 1000 });
          res.end(Buffer.alloc(1000));
        } else {
          res.writeHead(200); // chunked, no length
          res.end(Buffer.alloc(1000));
        }
      }),
    );
    const c = client({ port: srv.port });
    await rejectsWith(c.fetchBuffer('/declared', { maxBytes: 100 }), 'ERR_FRAME_TOO_LARGE');
    await rejectsWith(c.fetchBuffer('/chunked', { maxBytes: 100 }), 'ERR_FRAME_TOO_LARGE');
    assert.equal((await c.fetchBuffer('/chunked', { maxBytes: 1000 })).body.length, 1000);
  });

  it('fetchBuffer fails when a body stalls (streams have no such limit)', async () => {
    const srv = await start(
      http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial'); // and nothing more
      }),
    );
    const c = client({ port: srv.port, responseTimeoutMs: 300 });
    await rejectsWith(c.fetchBuffer('/slow'), 'ERR_RESPONSE_TIMEOUT');
  });
});

describe('CameraHttpClient: HTTP status and content errors', () => {
  let srv: Tracked<http.Server>;
  let c: CameraHttpClient;
  beforeEach(async () => {
    srv = await start(
      http.createServer((req, res) => {
        const url = req.url ?? '';
        if (url.startsWith('/404')) {
          res.writeHead(404, { 'content-type': 'text/html' });
          res.end('<html><body>\n  <h1>404 Not Found</h1>\n</body></html>\n');
        } else if (url.startsWith('/403')) {
          res.writeHead(403);
          res.end();
        } else if (url.startsWith('/503')) {
          res.writeHead(503, { 'retry-after': '30' });
          res.end('busy');
        } else if (url.startsWith('/500')) {
          res.writeHead(500);
          res.end('Invalid parameter');
        } else if (url.startsWith('/302')) {
          res.writeHead(302, { location: 'http://admin:pw-secret@10.0.0.1/login' });
          res.end();
        } else if (url.startsWith('/html')) {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(`\n\n   <html><head><title>Login</title></head><body>${'x'.repeat(1000)}</body></html>`);
        } else if (url.startsWith('/axis-not-available')) {
          // Axis answers bad stream parameters with 200 text/plain and may keep the socket open.
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('<!-- Camera 1 not available. -->\r\n');
        } else if (url.startsWith('/jpeg')) {
          res.writeHead(200, { 'content-type': 'image/jpeg' });
          res.end(Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
        } else {
          res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=x' });
          res.end('--x\r\n');
        }
      }),
    );
    c = client({ port: srv.port });
  });

  it('404 → ERR_NOT_FOUND with status, url and body text', async () => {
    const e = await rejectsWith(c.request('/404/path?resolution=640x480'), 'ERR_NOT_FOUND');
    assert.equal(e.statusCode, 404);
    assert.match(e.message, new RegExp(`http://127\\.0\\.0\\.1:${srv.port}/404/path\\?resolution=640x480`));
    assert.equal(e.body, '<html><body> <h1>404 Not Found</h1> </body></html>');
  });

  it('403 → ERR_FORBIDDEN, 500 → ERR_HTTP_STATUS, 302 → ERR_HTTP_STATUS with a redacted Location', async () => {
    assert.equal((await rejectsWith(c.request('/403'), 'ERR_FORBIDDEN')).statusCode, 403);
    const e500 = await rejectsWith(c.request('/500'), 'ERR_HTTP_STATUS');
    assert.equal(e500.statusCode, 500);
    assert.equal(e500.body, 'Invalid parameter');
    const e302 = await rejectsWith(c.request('/302'), 'ERR_HTTP_STATUS');
    assert.match(e302.message, /redirect to http:\/\/10\.0\.0\.1\/login/);
    assert.ok(!e302.message.includes('pw-secret'));
  });

  it('503 → ERR_CAMERA_BUSY with Retry-After', async () => {
    const e = await rejectsWith(c.request('/503'), 'ERR_CAMERA_BUSY');
    assert.equal(e.statusCode, 503);
    assert.match(e.message, /Retry-After: 30/);
  });

  it('200 text/html when a stream was expected → ERR_NOT_MJPEG with a bounded, trimmed body', async () => {
    const e = await rejectsWith(c.request('/html', { expect: 'multipart' }), 'ERR_NOT_MJPEG');
    assert.match(e.message, /text\/html/);
    assert.ok(e.body?.startsWith('<html><head><title>Login</title>'), e.body);
    assert.ok((e.body?.length ?? 0) <= 200);
    assert.match(e.hint, /web page/, 'a page gets the web-page hint, not the camera-settings one');
  });

  it('200 text/plain that never ends → ERR_NOT_MJPEG quickly, with the Axis message', async () => {
    const e = await rejectsWith(c.request('/axis-not-available?camera=9', { expect: 'multipart' }), 'ERR_NOT_MJPEG');
    assert.equal(e.body, '<!-- Camera 1 not available. -->');
    assert.match(e.message, /text\/plain/);
    assert.match(e.message, /Camera 1 not available/);
    assert.match(e.hint, /camera number/i, 'an Axis text error keeps the camera-settings hint');
  });

  it('expect jpeg: a non-image answer → ERR_NOT_JPEG; a jpeg passes', async () => {
    await rejectsWith(c.request('/html', { expect: 'jpeg' }), 'ERR_NOT_JPEG');
    const res = await c.request('/jpeg', { expect: 'jpeg' });
    assert.deepEqual(await collect(res.body), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    await rejectsWith(c.request('/jpeg', { expect: 'multipart' }), 'ERR_NOT_MJPEG');
  });

  it('the error paths leave the client usable', async () => {
    await rejectsWith(c.request('/404'), 'ERR_NOT_FOUND');
    await rejectsWith(c.request('/html', { expect: 'multipart' }), 'ERR_NOT_MJPEG');
    const res = await c.request('/stream', { expect: 'multipart' });
    assert.equal((await collect(res.body)).toString(), '--x\r\n');
  });
});

describe('CameraHttpClient: network errors', () => {
  it('connection refused → ERR_CONN_REFUSED', async () => {
    const c = client({ port: await freePort() });
    const e = await rejectsWith(c.request('/'), 'ERR_CONN_REFUSED');
    assert.match(e.message, /127\.0\.0\.1/);
  });

  it('unknown host → ERR_DNS', async () => {
    const c = new CameraHttpClient({ protocol: 'http', host: 'nonexistent.invalid', port: 80, connectTimeoutMs: 5000 });
    cleanups.push(() => c.close());
    await rejectsWith(c.request('/'), 'ERR_DNS');
  });

  it('accepted but never answered → ERR_RESPONSE_TIMEOUT', async () => {
    const srv = await silentServer();
    const c = client({ port: srv.port, responseTimeoutMs: 300 });
    await rejectsWith(c.request('/axis-cgi/mjpg/video.cgi'), 'ERR_RESPONSE_TIMEOUT');
  });

  it('TLS handshake never answered → ERR_CONNECT_TIMEOUT', async () => {
    // The connect timeout covers the TLS handshake, so a silent TCP peer exercises it on loopback.
    const srv = await silentServer();
    const c = client({ protocol: 'https', port: srv.port, connectTimeoutMs: 300 });
    await rejectsWith(c.request('/'), 'ERR_CONNECT_TIMEOUT');
  });

  for (const [what, answer] of [
    ['a line that is no HTTP status at all', 'SSH-2.0-OpenSSH_9.2\r\n'],
    ['a header name with a space', 'HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n'],
    ['a Content-Length that is no number', 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n'],
    ['a header block larger than undici accepts', `HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(70_000)}\r\n\r\n`],
  ] as const) {
    it(`${what} → ERR_BAD_HTTP with a hint to check the port`, async () => {
      const srv = await start(
        net.createServer((s) => {
          // The client hangs up as soon as it sees the answer is wrong.
          s.on('error', () => {});
          s.once('data', () => s.end(answer));
        }),
      );
      const c = client({ port: srv.port });
      const err = await rejectsWith(c.request('/axis-cgi/mjpg/video.cgi'), 'ERR_BAD_HTTP');
      assert.match(err.hint, /port/);
    });
  }

  it('socket closed before a response → ERR_CONN_RESET', async () => {
    const srv = await start(net.createServer((s) => s.once('data', () => s.destroy())));
    const c = client({ port: srv.port });
    await rejectsWith(c.request('/'), 'ERR_CONN_RESET');
  });

  it('chunked stream cut mid-body → body iteration throws ERR_CONN_RESET', async () => {
    const srv = await start(
      http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=b' });
        res.write('--b\r\n', () => setTimeout(() => req.socket.destroy(), 20));
      }),
    );
    const c = client({ port: srv.port });
    const res = await c.request('/');
    await rejectsWith(collect(res.body), 'ERR_CONN_RESET');
  });

  it('maps errors that loopback cannot produce', () => {
    const u = 'http://10.0.0.9/x';
    const sys = (code: string): Error => Object.assign(new Error(`connect ${code} 10.0.0.9:80`), { code });
    const cases: Array<[unknown, string]> = [
      [sys('EHOSTUNREACH'), 'ERR_HOST_UNREACHABLE'],
      [sys('ENETUNREACH'), 'ERR_HOST_UNREACHABLE'],
      [sys('EAI_AGAIN'), 'ERR_DNS'],
      [sys('ECONNRESET'), 'ERR_CONN_RESET'],
      [new undiciErrors.ConnectTimeoutError(), 'ERR_CONNECT_TIMEOUT'],
      [new undiciErrors.HeadersTimeoutError(), 'ERR_RESPONSE_TIMEOUT'],
      [new undiciErrors.SocketError('other side closed'), 'ERR_CONN_RESET'],
      [new undiciErrors.RequestAbortedError(), 'ERR_ABORTED'],
      [sys('CERT_HAS_EXPIRED'), 'ERR_TLS'],
      [sys('ERR_SSL_WRONG_VERSION_NUMBER'), 'ERR_TLS'],
      [sys('EPROTO'), 'ERR_TLS'],
      [sys('SELF_SIGNED_CERT_IN_CHAIN'), 'ERR_TLS_SELF_SIGNED'],
      [sys('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'ERR_TLS_SELF_SIGNED'],
      [new AggregateError([sys('ENETUNREACH'), sys('EHOSTUNREACH')]), 'ERR_HOST_UNREACHABLE'],
      [new Error('wrapped', { cause: sys('ECONNREFUSED') }), 'ERR_CONN_REFUSED'],
      [new Error('???'), 'ERR_UNKNOWN'],
    ];
    for (const [err, code] of cases) {
      const mapped = mapRequestError(err, u);
      assert.equal(mapped.code, code, String(err));
      assert.ok(mapped.message.includes(u));
      assert.equal(mapped.cause, err);
    }
  });
});

describe('CameraHttpClient: TLS', function () {
  this.timeout(20000);
  let certs: ReturnType<typeof testCerts>;
  before(() => {
    certs = testCerts();
  });

  async function httpsServer(pair: { cert: string; key: string }, extra: https.ServerOptions = {}): Promise<Tracked<https.Server>> {
    return start(
      https.createServer({ ...pair, ...extra }, (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`ok ${(req.socket as tls.TLSSocket).authorized ? 'client-authorized' : ''}`.trim());
      }),
    );
  }

  it('verifies by default: a self-signed certificate → ERR_TLS_SELF_SIGNED', async () => {
    const srv = await httpsServer(certs.selfSigned);
    const c = client({ protocol: 'https', port: srv.port });
    const e = await rejectsWith(c.request('/'), 'ERR_TLS_SELF_SIGNED');
    assert.match(e.message, /^untrusted \(self-signed\) certificate: https:\/\/127\.0\.0\.1/);
  });

  it('trusts the certificate given as ca', async () => {
    const srv = await httpsServer(certs.selfSigned);
    const c = client({ protocol: 'https', port: srv.port, tls: { ca: certs.selfSigned.cert } });
    assert.equal((await c.fetchBuffer('/')).body.toString(), 'ok');
  });

  it('accepts any certificate with allowSelfSigned', async () => {
    const srv = await httpsServer(certs.wrongName);
    const c = client({ protocol: 'https', port: srv.port, tls: { allowSelfSigned: true } });
    assert.equal((await c.fetchBuffer('/')).body.toString(), 'ok');
  });

  it('a trusted certificate for another name → ERR_TLS; servername fixes it', async () => {
    const srv = await httpsServer(certs.wrongName);
    const c = client({ protocol: 'https', port: srv.port, tls: { ca: certs.wrongName.cert } });
    const e = await rejectsWith(c.request('/'), 'ERR_TLS');
    assert.match(e.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
    const d = client({ protocol: 'https', port: srv.port, tls: { ca: certs.wrongName.cert, servername: 'camera.example' } });
    assert.equal((await d.fetchBuffer('/')).body.toString(), 'ok');
  });

  it('https to a plain-http port → ERR_TLS', async () => {
    const srv = await start(http.createServer((req, res) => res.end('plain')));
    const c = client({ protocol: 'https', port: srv.port });
    await rejectsWith(c.request('/'), 'ERR_TLS');
  });

  it('sends a client certificate when the camera asks for one', async () => {
    const srv = await httpsServer(certs.selfSigned, { ca: certs.clientCa.cert, requestCert: true, rejectUnauthorized: false });
    const c = client({ protocol: 'https', port: srv.port, tls: { ca: certs.selfSigned.cert, ...certs.client } });
    assert.equal((await c.fetchBuffer('/')).body.toString(), 'ok client-authorized');
    const anon = client({ protocol: 'https', port: srv.port, tls: { ca: certs.selfSigned.cert } });
    assert.equal((await anon.fetchBuffer('/')).body.toString(), 'ok');
  });
});

describe('CameraHttpClient: abort and close', () => {
  /** A multipart stream that writes one part every 20 ms until the client goes away. */
  async function endlessServer(): Promise<Tracked<http.Server>> {
    return start(
      http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=b' });
        const timer = setInterval(() => res.write('--b\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xd9\r\n'), 20);
        res.on('close', () => clearInterval(timer));
      }),
    );
  }

  it('an already aborted signal → ERR_ABORTED without connecting', async () => {
    const srv = await silentServer();
    const c = client({ port: srv.port });
    await rejectsWith(c.request('/', { signal: AbortSignal.abort() }), 'ERR_ABORTED');
    assert.equal(srv.opened, 0);
  });

  it('abort during connect (TLS handshake pending) → ERR_ABORTED', async () => {
    const srv = await silentServer();
    const c = client({ protocol: 'https', port: srv.port, connectTimeoutMs: 60_000 });
    const ac = new AbortController();
    const p = c.request('/', { signal: ac.signal });
    await until(() => srv.opened === 1, 'the connection');
    ac.abort();
    await rejectsWith(p, 'ERR_ABORTED');
    await srv.waitClosed(1);
  });

  it('close() while connecting → ERR_ABORTED and the half-open socket is closed', async () => {
    const srv = await silentServer();
    const c = client({ protocol: 'https', port: srv.port, connectTimeoutMs: 60_000 });
    const p = c.request('/');
    await until(() => srv.opened === 1, 'the connection');
    await c.close();
    await rejectsWith(p, 'ERR_ABORTED');
    await srv.waitClosed(1);
  });

  it('abort while waiting for headers → ERR_ABORTED and the socket is closed', async () => {
    const srv = await silentServer();
    const c = client({ port: srv.port, responseTimeoutMs: 60_000 });
    const ac = new AbortController();
    const p = c.request('/', { signal: ac.signal });
    await until(() => srv.opened === 1, 'the connection');
    ac.abort();
    await rejectsWith(p, 'ERR_ABORTED');
    await srv.waitClosed(1);
  });

  it('abort signal mid-stream → iteration throws ERR_ABORTED and the server sees the socket close', async () => {
    const srv = await endlessServer();
    const c = client({ port: srv.port });
    const ac = new AbortController();
    const res = await c.request('/', { signal: ac.signal, expect: 'multipart' });
    let chunks = 0;
    const e = await rejectsWith(
      (async () => {
        for await (const _ of res.body) {
          if (++chunks === 3) ac.abort();
        }
      })(),
      'ERR_ABORTED',
    );
    assert.ok(!e.message.includes('undefined'));
    assert.equal(chunks, 3);
    await srv.waitClosed(1);
  });

  it('response.abort() mid-stream ends iteration and closes the socket', async () => {
    const srv = await endlessServer();
    const c = client({ port: srv.port });
    const res: CameraResponse = await c.request('/', { expect: 'multipart' });
    let chunks = 0;
    await rejectsWith(
      (async () => {
        for await (const _ of res.body) if (++chunks === 2) res.abort();
      })(),
      'ERR_ABORTED',
    );
    res.abort(); // idempotent
    await srv.waitClosed(1);
  });

  it('breaking out of the iteration closes the socket', async () => {
    const srv = await endlessServer();
    const c = client({ port: srv.port });
    const res = await c.request('/');
    for await (const _ of res.body) break;
    await srv.waitClosed(1);
  });

  it('close() destroys idle keep-alive sockets and live streams', async () => {
    const srv = await endlessServer();
    const plain = await start(http.createServer((req, res) => res.end('x')));
    const c = client({ port: srv.port });
    const d = client({ port: plain.port });
    await d.fetchBuffer('/');
    await d.fetchBuffer('/');
    await until(() => plain.sockets.size >= 1, 'an idle keep-alive socket');
    const res = await c.request('/');
    const iterating = collect(res.body);
    await Promise.all([c.close(), d.close()]);
    await rejectsWith(iterating, 'ERR_ABORTED');
    await srv.waitClosed(srv.opened);
    await plain.waitClosed(plain.opened);
    assert.equal(srv.sockets.size + plain.sockets.size, 0);
    await rejectsWith(d.request('/'), 'ERR_ABORTED');
  });
});
