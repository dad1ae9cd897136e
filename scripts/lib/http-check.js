'use strict';
/**
 * Plain-HTTP helpers shared by the demo's --check (scripts/demo.js) and the
 * end-to-end check (scripts/e2e): requests with a timeout, free ports, and an
 * MJPEG part counter that does not use the package's own parser.
 */
const http = require('node:http');
const net = require('node:net');

const HOST = '127.0.0.1';
const HTTP_TIMEOUT_MS = 10_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One HTTP request; resolves with status, headers and the whole body. */
function request(url, { method = 'GET', headers = {}, body, timeoutMs = HTTP_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

function boundaryOf(contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
  return m ? (m[1] || m[2]).replace(/^--/, '') : null;
}

const isWholeJpeg = (b) =>
  b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;

/**
 * Reads a multipart/x-mixed-replace stream until `want` whole JPEG parts
 * arrived. Resolves { frames, bad, bytes, firstMs, totalMs, fps, contentType };
 * fps is measured from the first to the last frame. Deliberately independent
 * of src/parser: it checks the relay from the outside, as a browser sees it.
 */
function countParts(url, want, timeoutMs) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    let settled = false;
    let req = null;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (req) req.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`${url}: ${want} frames not received within ${timeoutMs} ms`)), timeoutMs);
    req = http.get(url, { agent: false }, (res) => {
      const type = res.headers['content-type'] || '';
      const boundary = boundaryOf(type);
      if (res.statusCode !== 200 || !/^multipart\/x-mixed-replace/i.test(type) || !boundary) {
        res.resume();
        return finish(new Error(`${url}: HTTP ${res.statusCode}, Content-Type ${JSON.stringify(type)}`));
      }
      const delim = Buffer.from(`--${boundary}`);
      let buf = Buffer.alloc(0);
      let frames = 0;
      let bad = 0;
      let firstAt = null;
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
          const start = buf.indexOf(delim);
          if (start < 0) break;
          const next = buf.indexOf(delim, start + delim.length);
          if (next < 0) {
            buf = buf.subarray(start);
            break;
          }
          const part = buf.subarray(start + delim.length, next);
          const headEnd = part.indexOf('\r\n\r\n');
          let body = headEnd < 0 ? Buffer.alloc(0) : part.subarray(headEnd + 4);
          if (body.length >= 2 && body[body.length - 2] === 0x0d && body[body.length - 1] === 0x0a) body = body.subarray(0, -2);
          if (isWholeJpeg(body)) {
            frames++;
            if (firstAt === null) firstAt = Date.now();
          } else bad++;
          buf = buf.subarray(next);
          if (frames >= want) {
            const span = (Date.now() - firstAt) / 1000;
            return finish(null, { frames, bad, bytes, firstMs: firstAt - t0, totalMs: Date.now() - t0, fps: span > 0 ? (frames - 1) / span : 0, contentType: type });
          }
        }
      });
      res.on('end', () => finish(new Error(`${url}: stream ended after ${frames} frames`)));
      res.on('error', finish);
    });
    req.on('error', finish);
  });
}

module.exports = { HOST, freePort, request, boundaryOf, isWholeJpeg, countParts };
