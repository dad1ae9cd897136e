'use strict';
/**
 * Small helpers for the end-to-end check (scripts/e2e/run.js): child
 * processes that are always cleaned up, plain HTTP, free ports, and an MJPEG
 * part counter that is deliberately independent of src/parser.
 */
const { spawn, execFileSync } = require('node:child_process');
const http = require('node:http');
const net = require('node:net');

const HOST = '127.0.0.1';
const HTTP_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 250;
/** How long a child gets after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 3_000;
/** Child output kept for error reports. */
const OUTPUT_TAIL_CHARS = 4_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

/** Every child started through start(), so stopAll() can end them on any exit path. */
const children = new Set();

/**
 * Starts a long-running child; keeps the tail of its output for diagnostics.
 * Returns { proc, output(), exited: Promise<code>, stop() }.
 */
function start(cmd, args, opts = {}) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  const keep = (d) => {
    out = (out + d.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    if (opts.echo) process.stderr.write(d);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise((resolve) => {
    proc.once('error', (e) => {
      out += `\n[spawn error] ${e.message}`;
      resolve(-1);
    });
    proc.once('exit', (code, signal) => resolve(code === null ? signal : code));
  });
  const child = {
    name: opts.name || cmd,
    proc,
    exited,
    output: () => out,
    async stop() {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), KILL_GRACE_MS);
      await exited;
      clearTimeout(t);
    },
  };
  children.add(child);
  exited.then(() => children.delete(child));
  return child;
}

async function stopAll() {
  await Promise.all([...children].map((c) => c.stop()));
}

/**
 * Runs a command to completion with a time limit. Never rejects: resolves
 * { code, stdout, stderr, ms, timedOut }.
 */
function run(cmd, args, { timeoutMs = 60_000, env, cwd, input } = {}) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env, cwd });
    const so = [];
    const se = [];
    let timedOut = false;
    proc.stdout.on('data', (d) => so.push(d));
    proc.stderr.on('data', (d) => se.push(d));
    if (input !== undefined) proc.stdin.end(input);
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    const done = (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(so).toString('utf8'),
        stderr: Buffer.concat(se).toString('utf8'),
        ms: Date.now() - t0,
        timedOut,
      });
    };
    proc.once('error', (e) => {
      se.push(Buffer.from(`[spawn error] ${e.message}`));
      done(-1);
    });
    proc.once('close', (code) => done(code));
  });
}

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
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

/** Polls fn() until it returns a truthy value or the time is up. */
async function waitFor(what, fn, timeoutMs) {
  const t0 = Date.now();
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`${what}: not ready within ${timeoutMs} ms${last ? ` (${last.message})` : ''}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

function boundaryOf(contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
  return m ? (m[1] || m[2]).replace(/^--/, '') : null;
}

const isWholeJpeg = (b) =>
  b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;

/**
 * Reads a multipart/x-mixed-replace stream until `want` whole JPEG parts
 * arrived. Resolves { frames, bad, firstMs, fps, contentType }; fps is
 * measured from the first to the last frame.
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
    const timer = setTimeout(() => finish(new Error(`${want} frames not received within ${timeoutMs} ms`)), timeoutMs);
    req = http.get(url, { agent: false }, (res) => {
      const type = res.headers['content-type'] || '';
      const boundary = boundaryOf(type);
      if (res.statusCode !== 200 || !/^multipart\/x-mixed-replace/i.test(type) || !boundary) {
        res.resume();
        return finish(new Error(`HTTP ${res.statusCode}, Content-Type ${JSON.stringify(type)}`));
      }
      const delim = Buffer.from(`--${boundary}`);
      let buf = Buffer.alloc(0);
      let frames = 0;
      let bad = 0;
      let firstAt = null;
      res.on('data', (chunk) => {
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
            return finish(null, { frames, bad, firstMs: firstAt - t0, fps: span > 0 ? (frames - 1) / span : 0, contentType: type });
          }
        }
      });
      res.on('end', () => finish(new Error(`stream ended after ${frames} frames`)));
      res.on('error', finish);
    });
    req.on('error', finish);
  });
}

module.exports = {
  HOST,
  sleep,
  freePort,
  start,
  stopAll,
  run,
  has,
  request,
  waitFor,
  countParts,
  isWholeJpeg,
};
