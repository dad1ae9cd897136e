/**
 * Relay benchmark: one MjpegBroadcaster on a real http server, 1080p-sized
 * frames at 25 fps for a few seconds, 1/10/100 viewers of which 10% never
 * read. Viewers run in a child process so their parsing does not count as
 * server CPU. Prints delivered fps (p50/p5 over the reading viewers), frames
 * dropped for the stalled viewers, server memory held for them, server RSS
 * and CPU.
 *
 *   npm run bench:relay            (or node dist/bench/relay.bench.js)
 *   RELAY_BENCH_SECONDS=10 RELAY_BENCH_VIEWERS=1,10,50 node dist/bench/relay.bench.js
 */
import http from 'node:http';
import { fork, ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { MjpegBroadcaster } from '../src/relay/broadcaster';

/** Size of a 1920x1080 JPEG from an Axis-like encoder (field notes: ~203 KB). */
const FRAME_BYTES = 200 * 1024;
const FPS = 25;
const SECONDS = Number(process.env.RELAY_BENCH_SECONDS ?? 5);
const VIEWER_COUNTS = (process.env.RELAY_BENCH_VIEWERS ?? '1,10,100').split(',').map(Number);
const STALLED_SHARE = 0.1;
/** Distinct frames cycled through, so no client can get away with caching. */
const FRAME_POOL = 8;

type ToClient = { cmd: 'connect'; url: string; readers: number; stalled: number } | { cmd: 'start' } | { cmd: 'report' } | { cmd: 'quit' };
type FromClient = { ev: 'connected' } | { ev: 'report'; frames: number[]; seconds: number; cpuPct: number };

function frame(i: number): Buffer {
  const b = Buffer.alloc(FRAME_BYTES, i * 31);
  b[0] = 0xff;
  b[1] = 0xd8;
  b[FRAME_BYTES - 2] = 0xff;
  b[FRAME_BYTES - 1] = 0xd9;
  return b;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);

// ---------------------------------------------------------------- client side

/** Counts parts by Content-Length without copying JPEG bytes. */
class PartCounter {
  frames = 0;
  private head = '';
  private skip = 0;
  private opened = false;
  constructor(private readonly boundary: string) {}
  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - off);
        this.skip -= n;
        off += n;
        continue;
      }
      // Header bytes are few: collect them as text until the blank line.
      const end = chunk.indexOf('\r\n\r\n', off);
      const upto = end < 0 ? chunk.length : end + 4;
      this.head += chunk.toString('latin1', off, upto);
      off = upto;
      const blank = this.head.indexOf('\r\n\r\n');
      if (blank < 0) continue;
      if (!this.opened) {
        // First part follows the opening delimiter line.
        this.opened = this.head.startsWith(`--${this.boundary}\r\n`);
      }
      const len = Number(/Content-Length: (\d+)/i.exec(this.head)?.[1] ?? NaN);
      if (!Number.isFinite(len)) throw new Error(`no Content-Length in ${JSON.stringify(this.head.slice(0, 200))}`);
      // Body, then `\r\n--boundary\r\n` which opens the next part.
      this.skip = len + 4 + this.boundary.length + 4;
      this.head = '';
      this.frames++;
    }
  }
}

function runClient(): void {
  const reqs: http.ClientRequest[] = [];
  const counters: PartCounter[] = [];
  let startedAt = 0;
  let base: number[] = [];
  let cpu0 = process.cpuUsage();
  process.on('message', async (m: ToClient) => {
    if (m.cmd === 'connect') {
      const total = m.readers + m.stalled;
      await Promise.all(
        Array.from({ length: total }, (_, i) => {
          return new Promise<void>((resolve, reject) => {
            const req = http.get(m.url, { agent: false }, (res) => {
              const boundary = /boundary=(\S+)/.exec(String(res.headers['content-type']))?.[1] ?? '';
              if (i < m.readers) {
                const c = new PartCounter(boundary);
                counters.push(c);
                res.on('data', (chunk: Buffer) => c.push(chunk));
              } else {
                res.pause();
              }
              resolve();
            });
            req.on('error', reject);
            reqs.push(req);
          });
        }),
      );
      process.send!({ ev: 'connected' } satisfies FromClient);
    } else if (m.cmd === 'start') {
      startedAt = performance.now();
      cpu0 = process.cpuUsage();
      base = counters.map((c) => c.frames);
    } else if (m.cmd === 'report') {
      const seconds = (performance.now() - startedAt) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const cpuPct = Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100);
      process.send!({ ev: 'report', frames: counters.map((c, i) => c.frames - base[i]), seconds, cpuPct } satisfies FromClient);
    } else if (m.cmd === 'quit') {
      for (const r of reqs) r.destroy();
      process.disconnect();
    }
  });
}

// ---------------------------------------------------------------- server side

async function ask(child: ChildProcess, msg: ToClient, ev: FromClient['ev']): Promise<FromClient> {
  const reply = new Promise<FromClient>((resolve) => {
    const on = (m: FromClient) => {
      if (m.ev === ev) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
  });
  child.send(msg);
  return reply;
}

interface Row {
  viewers: number;
  readers: number;
  stalled: number;
  p50: number;
  p5: number;
  min: number;
  stalledSent: number;
  stalledDropped: number;
  stalledHeldMB: number;
  rssBeforeMB: number;
  rssAfterMB: number;
  serverCpuPct: number;
  clientCpuPct: number;
  /** Frames dropped for reading viewers (their client fell behind), per reader. */
  readerDropped: number;
}

async function runCase(viewers: number): Promise<Row> {
  const stalled = Math.floor(viewers * STALLED_SHARE);
  const readers = viewers - stalled;
  const frames = Array.from({ length: FRAME_POOL }, (_, i) => frame(i));
  // Eviction off: we want to see the stalled viewers held at their bound for the whole run.
  // Per-address limit off: every viewer comes from 127.0.0.1.
  const bc = new MjpegBroadcaster({ maxViewers: viewers, maxViewersPerAddress: 0, stuckTimeoutMs: 0 });
  const server = http.createServer((req, res) => bc.handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/live`;

  const child = fork(__filename, ['--client'], { stdio: 'inherit' });
  await ask(child, { cmd: 'connect', url, readers, stalled }, 'connected');
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  child.send({ cmd: 'start' } satisfies ToClient);

  // Drift-free 25 fps schedule.
  const total = SECONDS * FPS;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / FPS;
    // Always yield to I/O, as frames arriving from a camera would; publishing
    // back-to-back in one tick would drop frames no socket had a chance to take.
    await sleep(Math.max(0, due - performance.now()));
    bc.publish(frames[i % FRAME_POOL], { time: Date.now() });
  }
  await sleep(1000 / FPS);
  const report = (await ask(child, { cmd: 'report' }, 'report')) as Extract<FromClient, { ev: 'report' }>;
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const rssAfter = process.memoryUsage().rss;

  const stats = bc.stats;
  // Stalled viewers are the last to connect: ids readers+1 .. viewers.
  const stalledStats = stats.perViewer.filter((v) => v.id > readers);
  const fps = report.frames.map((n) => n / report.seconds).sort((a, b) => a - b);

  child.send({ cmd: 'quit' } satisfies ToClient);
  await once(child, 'exit');
  bc.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));

  return {
    viewers,
    readers,
    stalled,
    p50: percentile(fps, 50),
    p5: percentile(fps, 5),
    min: fps[0] ?? NaN,
    stalledSent: stalledStats.reduce((n, v) => n + v.sent, 0) / Math.max(1, stalledStats.length),
    stalledDropped: stalledStats.reduce((n, v) => n + v.dropped, 0) / Math.max(1, stalledStats.length),
    stalledHeldMB: Number(mb(stalledStats.reduce((n, v) => n + v.buffered, 0))),
    rssBeforeMB: Number(mb(rssBefore)),
    rssAfterMB: Number(mb(rssAfter)),
    serverCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100),
    clientCpuPct: report.cpuPct,
    readerDropped: stats.perViewer.filter((v) => v.id <= readers).reduce((n, v) => n + v.dropped, 0) / Math.max(1, readers),
  };
}

async function main(): Promise<void> {
  console.log(
    `relay bench: ${(FRAME_BYTES / 1024).toFixed(0)} KB frames at ${FPS} fps for ${SECONDS} s, ${STALLED_SHARE * 100}% of viewers never read; node ${process.version}`,
  );
  const rows: Row[] = [];
  for (const n of VIEWER_COUNTS) rows.push(await runCase(n));
  console.log('');
  console.log('| viewers (reading+stalled) | delivered fps p50 | p5 | min | stalled: sent / dropped per viewer | held for stalled (MB) | dropped per reading viewer | server RSS before → after (MB) | server CPU | viewer process CPU |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.viewers} (${r.readers}+${r.stalled}) | ${r.p50.toFixed(1)} | ${r.p5.toFixed(1)} | ${r.min.toFixed(1)} | ${r.stalled ? `${r.stalledSent.toFixed(0)} / ${r.stalledDropped.toFixed(0)}` : '—'} | ${r.stalled ? r.stalledHeldMB.toFixed(1) : '—'} | ${r.readerDropped.toFixed(1)} | ${r.rssBeforeMB.toFixed(0)} → ${r.rssAfterMB.toFixed(0)} | ${r.serverCpuPct}% | ${r.clientCpuPct}% |`,
    );
  }
}

if (process.argv.includes('--client')) runClient();
else
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
