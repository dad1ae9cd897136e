/**
 * Fan-out benchmark: one simulated 1080p camera at 25 fps (Digest) read by
 * axmjpeg-in and served by axmjpeg-out inside a REAL Node-RED (child
 * process), to 1, 10, 100, 200, 300 and 500 loopback viewers of which 10% never read.
 * Then the same load through a bare node socket relay (bench/fanout/bare-relay.ts:
 * one pre-built Buffer per frame, socket.write to each viewer that took the
 * last one: the CPU floor ours is compared against, side by side), and a
 * naive relay (bench/fanout/naive-relay.ts: every frame written to every
 * response, backpressure ignored).
 *
 * Per step: delivered fps of the reading viewers (p50/p5/min), the camera's
 * own rate, camera connections opened, relay CPU % and RSS (from /proc,
 * sampled every second), and the delay from the camera writing a frame to a
 * viewer having all of it (p50/p99, from the simulator's JPEG comment).
 * Viewers run in two child processes so their CPU is not the relay's.
 *
 *   npm run bench:fanout [-- --charts docs] [-- --json results.json]
 *   node dist/bench/fanout.bench.js --replot results.json --charts docs   (charts only)
 *   FANOUT_VIEWERS=1,10,100 FANOUT_SECONDS=10 FANOUT_RELAYS=ours node dist/bench/fanout.bench.js
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, type CameraSimulator } from '../simulator';
import { frameCache } from '../simulator/frame-cache';
import { qualityFor } from '../simulator/params';
import { ask, cpuPct, mb, percentile, sampleProc, type ProcSample } from './fanout/proc';
import type { FromViewers, ToViewers } from './fanout/viewers';
import type { FromNaive } from './fanout/naive-relay';
import { cameraNode, startNodeRed, ROOT } from './fanout/nodered';
import { panel, legend, svgDoc, type Series } from './fanout/svg';

const RESOLUTION = '1920x1080';
const FPS = 25;
/**
 * The simulator's synthetic 1080p picture is ~100 KB at Axis' default
 * compression 30; at 5 it is ~190 KB, the size of a real 1080p scene (field
 * notes: ~203 KB). Bytes per frame are what fan-out costs, so use that.
 */
const COMPRESSION = 5;
const VIEWER_STEPS = (process.env.FANOUT_VIEWERS ?? '1,10,100,200,300,500').split(',').map(Number);
const RELAYS = (process.env.FANOUT_RELAYS ?? 'ours,bare,naive').split(',');
const STEP_SECONDS = Number(process.env.FANOUT_SECONDS ?? 15);
/** Viewers connected and reading this long before the measured window opens. */
const WARMUP_MS = 2000;
/** Pause after closing a step's viewers, so sockets are gone before the next step. */
const SETTLE_MS = 1500;
const RSS_SAMPLE_MS = 1000;
const STALLED_SHARE = 0.1;
const VIEWER_PROCESSES = Number(process.env.FANOUT_VIEWER_PROCS ?? 2);
/**
 * "Full rate": the camera itself keeps this share of its nominal rate (the
 * relay does not hold it back), and the slowest 5% of reading viewers still
 * get this share of the frames the camera sent.
 */
const FULL_RATE_SHARE = 0.95;
/** The naive relay buffers without bound: end its step early rather than swap the machine. */
const NAIVE_RSS_LIMIT_BYTES = 6 * 1024 ** 3;
const SIM_USER = 'root';
const SIM_PASSWORD = 'pass';
const STREAM_PATH = '/bench/live';
/** Far above the largest step: the limit must not be what is measured. */
const HTTP_OUT_MAX_VIEWERS = 2000;

type RelayName = 'ours' | 'bare' | 'naive';
const RELAY_LABEL: Record<RelayName, string> = { ours: 'axmjpeg-out', bare: 'bare socket relay', naive: 'naive' };

interface Step {
  relay: RelayName;
  viewers: number;
  readers: number;
  stalled: number;
  refused: number;
  seconds: number;
  cameraFps: number;
  p50: number;
  p5: number;
  min: number;
  latP50: number;
  latP99: number;
  /** Camera streams opened since this relay process started (must be 1). */
  cameraConnections: number;
  cpuPct: number;
  viewerCpuPct: number;
  /** RSS every second from the first viewer connecting to the end of the window; t in s. */
  rss: { t: number; mb: number }[];
  rssStartMB: number;
  rssEndMB: number;
  /** Time to connect every viewer of the step. */
  connectS: number;
  /** Readers whose connection ended during the step. */
  ended: number;
  /** The naive relay passed NAIVE_RSS_LIMIT_BYTES and the window was cut short. */
  cutShort: boolean;
  holds: boolean;
}

interface Relay {
  name: RelayName;
  pid: number;
  url: string;
  streamsAtStart: number;
}

function forkViewers(): ChildProcess[] {
  return Array.from({ length: VIEWER_PROCESSES }, () => fork(path.join(__dirname, 'fanout', 'viewers.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}

/** Splits n as evenly as possible over k parts. */
const split = (n: number, k: number): number[] => Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));

async function runStep(relay: Relay, viewers: number, sim: CameraSimulator, procs: ChildProcess[]): Promise<Step> {
  const stalled = Math.floor(viewers * STALLED_SHARE);
  const readers = viewers - stalled;
  const rss: { t: number; mb: number }[] = [];
  const t0 = performance.now();
  let peak = 0;
  const sampleRss = (): void => {
    const s = sampleProc(relay.pid);
    peak = Math.max(peak, s.rssBytes);
    rss.push({ t: Math.round((s.at - t0) / 100) / 10, mb: mb(s.rssBytes) });
  };
  sampleRss();
  const timer = setInterval(sampleRss, RSS_SAMPLE_MS);
  try {
    const rs = split(readers, procs.length);
    const ss = split(stalled, procs.length);
    const used = procs.filter((_, i) => rs[i]! + ss[i]! > 0);
    const conn = await Promise.all(
      used.map((p, i) => ask<Extract<FromViewers, { ev: 'connected' }>>(p, { cmd: 'connect', url: relay.url, readers: rs[i]!, stalled: ss[i]! } satisfies ToViewers, 'connected', 120_000)),
    );
    const connectS = (performance.now() - t0) / 1000;
    const refused = conn.reduce((n, c) => n + c.refused.length, 0);
    if (refused) console.error(`  ${refused} viewers refused: ${conn.flatMap((c) => c.refused).slice(0, 3).join(', ')}`);
    await sleep(WARMUP_MS);

    const cpu0: ProcSample = sampleProc(relay.pid);
    const frames0 = sim.stats.framesSent;
    for (const p of used) p.send({ cmd: 'start' } satisfies ToViewers);
    let cutShort = false;
    const end = performance.now() + STEP_SECONDS * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(250, end - performance.now()));
      if (relay.name === 'naive' && peak > NAIVE_RSS_LIMIT_BYTES) {
        cutShort = true;
        break;
      }
    }
    const reports = await Promise.all(used.map((p) => ask<Extract<FromViewers, { ev: 'report' }>>(p, { cmd: 'report' } satisfies ToViewers, 'report')));
    const cpu1 = sampleProc(relay.pid);
    sampleRss();
    const seconds = (cpu1.at - cpu0.at) / 1000;
    const cameraFps = (sim.stats.framesSent - frames0) / seconds;
    const fps = reports.flatMap((r) => r.frames.map((n) => n / r.seconds)).sort((a, b) => a - b);
    const lat = Float64Array.from(reports.flatMap((r) => r.latencies)).sort();
    await Promise.all(used.map((p) => ask(p, { cmd: 'close' } satisfies ToViewers, 'closed')));
    const p5 = percentile(fps, 5);
    return {
      relay: relay.name,
      viewers,
      readers,
      stalled,
      refused,
      connectS,
      seconds,
      cameraFps,
      p50: percentile(fps, 50),
      p5,
      min: fps[0] ?? NaN,
      latP50: percentile(lat, 50),
      latP99: percentile(lat, 99),
      cameraConnections: sim.stats.streamRequests - relay.streamsAtStart,
      cpuPct: cpuPct(cpu0, cpu1),
      viewerCpuPct: reports.reduce((n, r) => n + r.cpuPct, 0),
      rss,
      rssStartMB: rss[0]!.mb,
      rssEndMB: rss[rss.length - 1]!.mb,
      ended: reports.reduce((n, r) => n + r.ended, 0),
      cutShort,
      holds: refused === 0 && !cutShort && cameraFps >= FULL_RATE_SHARE * FPS && p5 >= FULL_RATE_SHARE * cameraFps,
    };
  } finally {
    clearInterval(timer);
    await sleep(SETTLE_MS);
  }
}

function flows(simPort: number): object[] {
  return [
    { id: 'fanout-tab', type: 'tab', label: 'fan-out bench' },
    cameraNode('fanout-cam', { port: simPort, resolution: RESOLUTION, fps: FPS, compression: COMPRESSION, username: SIM_USER, password: SIM_PASSWORD }),
    { id: 'fanout-in', type: 'axmjpeg-in', z: 'fanout-tab', name: '', source: 'camera', camera: 'fanout-cam', file: '', fileFps: '', loop: false, resolution: '', fps: '', compression: '', cameraNumber: '', startOnDeploy: true, topic: '', x: 100, y: 100, wires: [['fanout-out']] },
    // Stalled viewers are kept for the whole step (stuckTimeout 0), to show the memory they can hold;
    // no per-address limit (maxPerAddress 0): every viewer is on 127.0.0.1.
    { id: 'fanout-out', type: 'axmjpeg-out', z: 'fanout-tab', name: '', url: STREAM_PATH, maxViewers: HTTP_OUT_MAX_VIEWERS, maxPerAddress: 0, fps: 0, stuckTimeout: 0, x: 300, y: 100, wires: [] },
  ];
}

function printStep(s: Step): void {
  console.log(
    `  ${s.relay.padEnd(5)} ${String(s.viewers).padStart(4)} viewers (${s.readers} reading, ${s.stalled} stalled): camera ${s.cameraFps.toFixed(1)} fps; ` +
      `readers p50 ${s.p50.toFixed(1)} p5 ${s.p5.toFixed(1)} min ${s.min.toFixed(1)} fps; latency p50 ${s.latP50} p99 ${s.latP99} ms; ` +
      `CPU ${s.cpuPct.toFixed(0)}%; connect ${s.connectS.toFixed(1)} s; RSS ${s.rssStartMB} -> ${s.rssEndMB} MB; camera connections ${s.cameraConnections}` +
      `${s.refused ? `; ${s.refused} refused` : ''}${s.ended ? `; ${s.ended} readers cut off` : ''}${s.cutShort ? '; CUT SHORT (RSS limit)' : ''}`,
  );
}

async function runOurs(sim: CameraSimulator, procs: ChildProcess[]): Promise<Step[]> {
  const red = await startNodeRed();
  const steps: Step[] = [];
  try {
    const streamsAtStart = sim.stats.streamRequests;
    await red.deploy(flows(sim.port));
    await red.waitForFrames(STREAM_PATH);
    const relay: Relay = { name: 'ours', pid: red.pid, url: `${red.base}${STREAM_PATH}`, streamsAtStart };
    for (const n of VIEWER_STEPS) {
      const s = await runStep(relay, n, sim, procs);
      printStep(s);
      steps.push(s);
    }
  } finally {
    await red.stop();
  }
  return steps;
}

async function runChildRelay(name: 'bare' | 'naive', sim: CameraSimulator, procs: ChildProcess[]): Promise<Step[]> {
  const steps: Step[] = [];
  const videoPath = `/axis-cgi/mjpg/video.cgi?resolution=${RESOLUTION}&fps=${FPS}&compression=${COMPRESSION}`;
  for (const n of VIEWER_STEPS) {
    // A fresh process per step: its RSS would not come back down between steps.
    const streamsAtStart = sim.stats.streamRequests;
    const child = fork(path.join(__dirname, 'fanout', `${name}-relay.js`), [JSON.stringify({ cameraPort: sim.port, path: videoPath, username: SIM_USER, password: SIM_PASSWORD })], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    try {
      const { port } = await new Promise<Extract<FromNaive, { ev: 'listening' }>>((resolve, reject) => {
        child.once('message', (m: FromNaive) => (m.ev === 'listening' ? resolve(m) : reject(new Error(m.ev === 'error' ? m.message : m.ev))));
        child.once('exit', (code) => reject(new Error(`${name} relay exited (${code})`)));
      });
      // First frames through before viewers come, as Node-RED had.
      await sleep(1000);
      const s = await runStep({ name, pid: child.pid!, url: `http://127.0.0.1:${port}/`, streamsAtStart }, n, sim, procs);
      printStep(s);
      steps.push(s);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    }
  }
  return steps;
}

// ------------------------------------------------------------------ output

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '—');

/** axmjpeg-out's CPU against the bare socket relay's, per viewer count of the same run. */
function cpuRatioTable(steps: Step[]): string {
  const rows = ['| viewers | axmjpeg-out CPU | bare socket relay CPU | ratio |', '|---|---|---|---|'];
  for (const n of viewerCounts(steps)) {
    const ours = steps.find((s) => s.relay === 'ours' && s.viewers === n);
    const bare = steps.find((s) => s.relay === 'bare' && s.viewers === n);
    if (!ours || !bare) continue;
    rows.push(`| ${n} | ${ours.cpuPct.toFixed(1)}% | ${bare.cpuPct.toFixed(1)}% | ${(ours.cpuPct / bare.cpuPct).toFixed(2)}x |`);
  }
  return rows.join('\n');
}

function table(steps: Step[]): string {
  const rows = [
    '| relay | viewers (reading + stalled) | camera fps | readers fps p50 | p5 | min | latency p50 / p99 (ms) | camera connections | relay CPU (% of a core) | relay RSS start → end (MB) | viewer processes CPU | full rate? |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of steps) {
    rows.push(
      `| ${RELAY_LABEL[s.relay]} | ${s.viewers} (${s.readers} + ${s.stalled}) | ${f1(s.cameraFps)} | ${f1(s.p50)} | ${f1(s.p5)} | ${f1(s.min)} | ${s.latP50} / ${s.latP99} | ${s.cameraConnections} | ${s.cpuPct.toFixed(0)}% | ${s.rssStartMB.toFixed(0)} → ${s.rssEndMB.toFixed(0)}${s.cutShort ? ' (cut short)' : ''} | ${s.viewerCpuPct.toFixed(0)}% | ${s.holds ? 'yes' : 'no'}${s.refused ? ` (${s.refused} refused)` : ''}${s.ended ? ` (${s.ended} cut off)` : ''} |`,
    );
  }
  return rows.join('\n');
}

const OURS_COLOR = '#1f6fb2';
const NAIVE_COLOR = '#c0392b';

const viewerCounts = (steps: Step[]): number[] => [...new Set(steps.map((s) => s.viewers))].sort((a, b) => a - b);

function fpsChart(steps: Step[], note: string): string {
  const xs = viewerCounts(steps);
  const at = (relay: RelayName, key: 'p50' | 'p5'): [number, number][] =>
    xs.map((n, i) => [i, steps.find((s) => s.relay === relay && s.viewers === n)?.[key] ?? 0] as [number, number]);
  const series: Series[] = [
    { name: 'axmjpeg-out p50', color: OURS_COLOR, points: at('ours', 'p50') },
    { name: 'axmjpeg-out p5', color: OURS_COLOR, dash: '6 4', points: at('ours', 'p5') },
    { name: 'naive relay p50', color: NAIVE_COLOR, points: at('naive', 'p50') },
    { name: 'naive relay p5', color: NAIVE_COLOR, dash: '6 4', points: at('naive', 'p5') },
  ];
  const w = 640;
  const h = 360;
  const body =
    panel(
      {
        title: `Delivered fps per reading viewer, 1080p camera at ${FPS} fps, 10% of viewers stalled`,
        xLabel: 'viewers (loopback)',
        yLabel: 'frames per second',
        xMin: -0.2,
        xMax: xs.length - 0.8,
        yMax: 30,
        xTicks: xs.map((n, i) => ({ v: i, label: String(n) })),
        refs: [{ y: FPS, label: `camera ${FPS} fps` }],
        series,
      },
      0,
      0,
      w,
      h - 40,
    ) + legend(series, 20, h - 24);
  return svgDoc(w, h, body, note);
}

/** Panels per row in the RSS chart. */
const RSS_CHART_COLUMNS = 3;

function rssChart(steps: Step[], note: string): string {
  const panelW = 300;
  const panelH = 250;
  const counts = viewerCounts(steps);
  const cols = Math.min(RSS_CHART_COLUMNS, counts.length);
  const rows = Math.ceil(counts.length / cols);
  const w = panelW * cols;
  const h = panelH * rows + 56;
  const yMax = Math.max(100, ...steps.flatMap((s) => s.rss.map((r) => r.mb))) * 1.05;
  const parts: string[] = [];
  counts.forEach((n, i) => {
    const series: Series[] = [];
    const xMax = Math.max(1, ...steps.filter((s) => s.viewers === n).flatMap((s) => s.rss.map((r) => r.t)));
    for (const relay of ['ours', 'naive'] as const) {
      const s = steps.find((x) => x.relay === relay && x.viewers === n);
      if (!s) continue;
      series.push({
        name: relay,
        color: relay === 'ours' ? OURS_COLOR : NAIVE_COLOR,
        points: s.rss.map((r) => [r.t, r.mb] as [number, number]),
        endLabel: `${s.rssEndMB.toFixed(0)} MB`,
      });
    }
    const title = `${n} viewer${n === 1 ? '' : 's'} (${Math.floor(n * STALLED_SHARE)} stalled)`;
    parts.push(panel({ title, xLabel: 's since viewers connect', yLabel: 'relay RSS (MB)', xMin: 0, xMax, yMax, series }, (i % cols) * panelW, Math.floor(i / cols) * panelH, panelW, panelH));
  });
  parts.push(
    legend(
      [
        { name: 'Node-RED: axmjpeg-in → axmjpeg-out', color: OURS_COLOR },
        { name: 'naive relay (writes ignore backpressure)', color: NAIVE_COLOR },
      ],
      20,
      h - 28,
    ),
  );
  return svgDoc(w, h, parts.join('\n'), note);
}

function argValue(name: string): string | null {
  const i = process.argv.indexOf(name);
  return i < 0 ? null : (process.argv[i + 1] ?? null);
}

function writeCharts(dir: string, steps: Step[], note: string): void {
  fs.writeFileSync(path.join(dir, 'fanout-fps.svg'), fpsChart(steps, note));
  fs.writeFileSync(path.join(dir, 'fanout-rss.svg'), rssChart(steps, note));
  console.log(`charts: ${path.join(dir, 'fanout-fps.svg')}, ${path.join(dir, 'fanout-rss.svg')}`);
}

async function main(): Promise<void> {
  const chartsDir = argValue('--charts');
  const jsonFile = argValue('--json');
  const replot = argValue('--replot');
  if (replot) {
    // Charts again from a saved --json run, without measuring.
    const saved = JSON.parse(fs.readFileSync(replot, 'utf8')) as { note: string; steps: Step[] };
    writeCharts(path.resolve(ROOT, chartsDir ?? '.'), saved.steps, saved.note);
    return;
  }
  const load = os.loadavg().map((n) => n.toFixed(2)).join(' ');
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, node ${process.version}, load before ${load}`;
  console.log(`fan-out bench: ${RESOLUTION} at ${FPS} fps, viewers ${VIEWER_STEPS.join('/')}, ${STALLED_SHARE * 100}% stalled, ${STEP_SECONDS} s per step`);
  console.log(`  ${machine}`);

  const sim = await startSimulator({ host: '127.0.0.1', auth: 'digest', username: SIM_USER, password: SIM_PASSWORD, defaultResolution: RESOLUTION, defaultFps: FPS });
  // The whole 1080p cycle encoded before measuring, so no encoding competes with the relays.
  const spec = { ...sim.defaultSpec, quality: qualityFor(COMPRESSION) };
  await frameCache.ready(spec);
  await frameCache.whenComplete(spec, 60_000);
  const sizes = Array.from({ length: spec.cycle }, (_, i) => frameCache.frame(spec, i)?.length ?? 0);
  const frameKB = Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024);
  const procs = forkViewers();
  let steps: Step[] = [];
  try {
    if (RELAYS.includes('ours')) steps.push(...(await runOurs(sim, procs)));
    if (RELAYS.includes('bare')) steps.push(...(await runChildRelay('bare', sim, procs)));
    if (RELAYS.includes('naive')) steps.push(...(await runChildRelay('naive', sim, procs)));
  } finally {
    for (const p of procs) p.disconnect();
    await sim.close();
  }
  console.log('');
  console.log(`frames ~${frameKB} KB; ${machine}`);
  console.log(table(steps));
  const ours = steps.filter((s) => s.relay === 'ours');
  const held = ours.filter((s) => s.holds).map((s) => s.viewers);
  const largest = ours.every((s) => s.holds) ? Math.max(...held) : Math.max(0, ...ours.filter((s, i) => ours.slice(0, i + 1).every((x) => x.holds)).map((s) => s.viewers));
  console.log('');
  console.log('');
  console.log(cpuRatioTable(steps));
  console.log(`largest viewer count at full rate (camera >= ${FULL_RATE_SHARE * 100}% of ${FPS} fps, readers' p5 >= ${FULL_RATE_SHARE * 100}% of the camera's rate): ${largest || 'none'}`);
  const note = `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}; npm run bench:fanout`;
  if (chartsDir) writeCharts(path.resolve(ROOT, chartsDir), steps, note);
  if (jsonFile) fs.writeFileSync(jsonFile, JSON.stringify({ machine, frameKB, note, steps }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
