'use strict';
/**
 * An MJPEG client for the scaling checks that keeps what they compare: each
 * part's headers (X-Sequence, X-Timestamp, X-Camera, X-Resent,
 * X-Source-Offline), a hash of its body, whether the body is one whole JPEG
 * and when it arrived. Independent of src/parser: it splits by the
 * Content-Length the relay sends, as a strict client would.
 */
const http = require('node:http');
const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');

/** Arrival time in ms since the epoch, with sub-ms resolution (latencies on loopback are below 1 ms). */
const now = () => performance.timeOrigin + performance.now();

const isWholeJpeg = (b) => b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;

/**
 * Opens `url` and collects parts until `stop()`; `until(parts)` (optional)
 * resolves `done` early. Resolves `opened` with the response (status, headers).
 */
function openReader(url, { localAddress, headers = {} } = {}) {
  const parts = [];
  let buf = Buffer.alloc(0);
  let bytes = 0;
  let ended = false;
  let wake = null;
  const reader = { parts, get bytes() { return bytes; }, get ended() { return ended; }, res: null, req: null, error: null };
  reader.opened = new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, localAddress, headers: { 'User-Agent': 'axmjpeg-e2e-scaling', ...headers } }, (res) => {
      reader.res = res;
      resolve(res);
      res.on('data', (c) => {
        bytes += c.length;
        buf = buf.length ? Buffer.concat([buf, c]) : c;
        for (;;) {
          const start = buf.indexOf('--');
          if (start < 0) break;
          const hdrEnd = buf.indexOf('\r\n\r\n', start);
          if (hdrEnd < 0) break;
          const lines = buf.subarray(start, hdrEnd).toString('latin1').split('\r\n').slice(1);
          const h = {};
          for (const l of lines) {
            const i = l.indexOf(':');
            if (i > 0) h[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
          }
          const len = Number(h['content-length']);
          if (!Number.isInteger(len)) {
            buf = buf.subarray(hdrEnd + 4);
            continue;
          }
          if (buf.length < hdrEnd + 4 + len) break;
          const body = buf.subarray(hdrEnd + 4, hdrEnd + 4 + len);
          parts.push({ h, len, whole: isWholeJpeg(body), sha: crypto.createHash('sha1').update(body).digest('hex'), at: now(), body: reader.keepBodies ? Buffer.from(body) : null });
          buf = buf.subarray(hdrEnd + 4 + len);
          if (wake) wake();
        }
      });
      const end = () => {
        ended = true;
        if (wake) wake();
      };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
    });
    req.on('error', (e) => {
      reader.error = e;
      ended = true;
      if (wake) wake();
      reject(e);
    });
    reader.req = req;
  });
  reader.opened.catch(() => {});
  /** Waits until cond(parts) or the time is up; returns cond's last value. */
  reader.waitFor = async (cond, ms) => {
    const t0 = Date.now();
    for (;;) {
      const v = cond(parts);
      if (v || ended || Date.now() - t0 > ms) return v;
      await new Promise((r) => {
        wake = r;
        setTimeout(r, Math.min(250, ms));
      });
      wake = null;
    }
  };
  reader.stop = () => reader.req && reader.req.destroy();
  return reader;
}

/** Parts that are new frames: not the offline picture, not a frame sent again. */
const liveParts = (parts) => parts.filter((p) => p.h['x-source-offline'] === undefined && p.h['x-resent'] === undefined);

module.exports = { openReader, liveParts, isWholeJpeg };
