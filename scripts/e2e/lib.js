'use strict';
/**
 * Small helpers for the end-to-end check (scripts/e2e/run.js): child
 * processes that are always cleaned up, plain HTTP, free ports, and an MJPEG
 * part counter that is deliberately independent of src/parser.
 */
const { spawn, execFileSync } = require('node:child_process');
const { freePort, request, isWholeJpeg, countParts } = require('../lib/http-check');

const HOST = '127.0.0.1';
const POLL_INTERVAL_MS = 250;
/** How long a child gets after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 3_000;
/** Child output kept for error reports. */
const OUTPUT_TAIL_CHARS = 4_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
