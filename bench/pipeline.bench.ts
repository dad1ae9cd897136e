/**
 * Pipeline cost: camera -> axmjpeg-in -> axmjpeg-throttle (max 1000 fps, i.e.
 * pass-through) -> axmjpeg-out -> 1 reading viewer, inside a REAL Node-RED,
 * at VGA and 1080p. Two sources per size:
 *
 * - the camera simulator at 25 fps (Digest): Node-RED CPU % and CPU time per
 *   frame at a camera's real rate, and camera-to-viewer latency;
 * - a replay server in this process that writes pre-encoded frames (the
 *   simulator's, stamped like the simulator does) as fast as the socket takes
 *   them, because the simulator caps at 30 fps: the max sustained fps, with
 *   Node-RED's CPU as the limit.
 *
 * Node-RED CPU comes from /proc/<pid>/stat; the viewer runs in a child process.
 *
 *   npm run bench:pipeline
 *   PIPELINE_SECONDS=5 node dist/bench/pipeline.bench.js
 */
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, type CameraSimulator, FRAME_COMMENT_PREFIX } from '../simulator';
import { frameCache } from '../simulator/frame-cache';
import { qualityFor } from '../simulator/params';
import { stampJpeg } from '../simulator/stream';
import type { FrameSpec } from '../simulator/render';
import { ask, cpuPct, mb, percentile, sampleProc } from './fanout/proc';
import type { FromViewers, ToViewers } from './fanout/viewers';
import { cameraNode, startNodeRed, type RunningNodeRed } from './fanout/nodered';

const SECONDS = Number(process.env.PIPELINE_SECONDS ?? 10);
const WARMUP_MS = 2000;
const CAMERA_FPS = 25;
const IDLE_SECONDS = 5;
/** axmjpeg-throttle's highest setting: passes every frame of any real camera. */
const THROTTLE_FPS = 1000;
const THROTTLE_MODE = process.env.PIPELINE_THROTTLE === 'nth' ? 'nth' : 'fps';
/** Same weights as the fan-out bench: ~190 KB at 1080p, like a real scene. */
const COMPRESSION = 5;
const RESOLUTIONS = ['640x480', '1920x1080'];
const SIM_USER = 'root';
const SIM_PASSWORD = 'pass';
const STREAM_PATH = '/pipe/live';
const REPLAY_PATH = '/replay.mjpg';
const REPLAY_BOUNDARY = 'replayboundary';
/** Replay rates tried in turn; below axmjpeg-throttle's 1000 fps so it stays a pass-through. */
const SWEEP_RATES = (process.env.PIPELINE_RATES ?? '50,100,200,300,400,600,800').split(',').map(Number);
const SWEEP_SECONDS = Number(process.env.PIPELINE_SWEEP_SECONDS ?? 4);
const SWEEP_WARMUP_MS = 1000;
/**
 * A rate is sustained when the source got this share of it out and the viewer
 * this share in. Not 100%: axmjpeg-out drops a frame (newest wins) when the
 * viewer socket has not drained the previous one, which event-loop jitter
 * causes now and then at hundreds of fps without any lack of CPU.
 */
const SUSTAINED_SHARE = 0.9;

interface Row {
  resolution: string;
  source: string;
  frameKB: number;
  /** Frames the source handed to Node-RED's socket per second. */
  inFps: number;
  /** Frames the viewer received per second. */
  outFps: number;
  cpuPct: number;
  /** Node-RED CPU time per frame taken in, ms. */
  cpuMsPerFrame: number;
  latP50: number;
  latP99: number;
  rssMB: number;
}

/** Granularity of the replay schedule; frames due within a tick go out together. */
const REPLAY_TICK_MS = 1;

/**
 * Serves one spec's cached frames, each re-stamped like the simulator does,
 * at `rate` frames/s (changeable while streaming) and never faster than the
 * socket drains: a frame due while the socket is backed up is skipped, as a
 * camera would. The simulator cannot go above 30 fps.
 */
class ReplaySource {
  framesSent = 0;
  framesSkipped = 0;
  rate = 25;
  private readonly server: http.Server;
  private seq = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  constructor(private readonly spec: FrameSpec) {
    this.server = http.createServer((req, res) => this.serve(res));
  }
  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await new Promise((r) => this.server.once('listening', r));
    return (this.server.address() as AddressInfo).port;
  }
  private serve(res: http.ServerResponse): void {
    res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${REPLAY_BOUNDARY}`, Connection: 'close' });
    let waiting = false;
    let due = performance.now();
    let timer: NodeJS.Timeout;
    const tick = (): void => {
      this.timers.delete(timer);
      const now = performance.now();
      // At most one frame per tick, and when late skip ahead instead of
      // bursting: a camera's frames come evenly spaced, and bursts would
      // measure the throttle's and relay's frame dropping, not their cost.
      if (due <= now) {
        const interval = 1000 / this.rate;
        due = due + interval < now ? now + interval : due + interval;
        if (waiting) {
          this.framesSkipped++;
        } else {
          const raw = frameCache.frame(this.spec, this.seq % this.spec.cycle)!;
          this.seq++;
          const jpeg = stampJpeg(raw, `${FRAME_COMMENT_PREFIX} seq=${this.seq} t=${Date.now()} cam=1`);
          res.cork();
          res.write(`--${REPLAY_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`, 'latin1');
          res.write(jpeg);
          const ok = res.write('\r\n');
          res.uncork();
          this.framesSent++;
          if (!ok) {
            waiting = true;
            res.once('drain', () => (waiting = false));
          }
        }
      }
      timer = setTimeout(tick, REPLAY_TICK_MS);
      this.timers.add(timer);
    };
    res.on('close', () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    });
    tick();
  }
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

function flows(camera: object): object[] {
  return [
    { id: 'pipe-tab', type: 'tab', label: 'pipeline bench' },
    camera,
    { id: 'pipe-in', type: 'axmjpeg-in', z: 'pipe-tab', name: '', source: 'camera', camera: 'pipe-cam', file: '', fileFps: '', loop: false, resolution: '', fps: '', compression: '', cameraNumber: '', startOnDeploy: true, topic: '', x: 100, y: 100, wires: [['pipe-throttle']] },
    { id: 'pipe-throttle', type: 'axmjpeg-throttle', z: 'pipe-tab', name: '', mode: THROTTLE_MODE, fps: THROTTLE_FPS, nth: 1, readyTopic: 'ready', readyAtStart: true, x: 300, y: 100, wires: [['pipe-out']] },
    { id: 'pipe-out', type: 'axmjpeg-out', z: 'pipe-tab', name: '', url: STREAM_PATH, maxViewers: 20, fps: 0, stuckTimeout: 30, x: 500, y: 100, wires: [] },
  ];
}

/** A connected viewer: measures one window at a time. */
async function connectViewer(red: RunningNodeRed, viewer: ChildProcess): Promise<void> {
  await red.waitForFrames(STREAM_PATH);
  await ask(viewer, { cmd: 'connect', url: `${red.base}${STREAM_PATH}`, readers: 1, stalled: 0 } satisfies ToViewers, 'connected');
}

async function measureWindow(red: RunningNodeRed, viewer: ChildProcess, framesIn: () => number, seconds: number): Promise<Omit<Row, 'resolution' | 'source' | 'frameKB'>> {
  const s0 = sampleProc(red.pid);
  const in0 = framesIn();
  viewer.send({ cmd: 'start' } satisfies ToViewers);
  await sleep(seconds * 1000);
  const report = await ask<Extract<FromViewers, { ev: 'report' }>>(viewer, { cmd: 'report' } satisfies ToViewers, 'report');
  const s1 = sampleProc(red.pid);
  const frames = framesIn() - in0;
  const wall = (s1.at - s0.at) / 1000;
  const lat = Float64Array.from(report.latencies).sort();
  return {
    inFps: frames / wall,
    outFps: report.frames[0]! / report.seconds,
    cpuPct: cpuPct(s0, s1),
    cpuMsPerFrame: ((s1.cpuS - s0.cpuS) * 1000) / frames,
    latP50: percentile(lat, 50),
    latP99: percentile(lat, 99),
    rssMB: mb(s1.rssBytes),
  };
}

async function specFor(sim: CameraSimulator, resolution: string): Promise<{ spec: FrameSpec; frameKB: number }> {
  const [width, height] = resolution.split('x').map(Number) as [number, number];
  const spec: FrameSpec = { ...sim.defaultSpec, width, height, quality: qualityFor(COMPRESSION) };
  await frameCache.ready(spec);
  await frameCache.whenComplete(spec, 60_000);
  const sizes = Array.from({ length: spec.cycle }, (_, i) => frameCache.frame(spec, i)?.length ?? 0);
  return { spec, frameKB: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024) };
}

function printRow(r: Row): void {
  console.log(
    `  ${r.resolution} ${r.source}: in ${r.inFps.toFixed(1)} fps, to viewer ${r.outFps.toFixed(1)} fps, Node-RED CPU ${r.cpuPct.toFixed(0)}% = ${r.cpuMsPerFrame.toFixed(2)} ms/frame, latency p50 ${r.latP50} p99 ${r.latP99} ms, RSS ${r.rssMB} MB`,
  );
}

const sweepEnds: string[] = [];

async function main(): Promise<void> {
  const load = os.loadavg().map((n) => n.toFixed(2)).join(' ');
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, node ${process.version}, load before ${load}`;
  console.log(`pipeline bench: axmjpeg-in -> axmjpeg-throttle (${THROTTLE_FPS} fps) -> axmjpeg-out -> 1 viewer, ${SECONDS} s per case`);
  console.log(`  ${machine}`);
  const sim = await startSimulator({ host: '127.0.0.1', auth: 'digest', username: SIM_USER, password: SIM_PASSWORD });
  const viewer = fork(path.join(__dirname, 'fanout', 'viewers.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const red = await startNodeRed();
  const rows: Row[] = [];
  let idlePct = NaN;
  try {
    // Node-RED's own ticking with no flow: subtracted to get the cost per frame.
    await red.deploy([]);
    await sleep(WARMUP_MS);
    const i0 = sampleProc(red.pid);
    await sleep(IDLE_SECONDS * 1000);
    idlePct = cpuPct(i0, sampleProc(red.pid));
    console.log(`  idle Node-RED: ${idlePct.toFixed(1)}% CPU`);
    for (const resolution of RESOLUTIONS) {
      const { spec, frameKB } = await specFor(sim, resolution);

      await red.deploy(flows(cameraNode('pipe-cam', { port: sim.port, resolution, fps: CAMERA_FPS, compression: COMPRESSION, username: SIM_USER, password: SIM_PASSWORD })));
      await connectViewer(red, viewer);
      await sleep(WARMUP_MS);
      rows.push({ resolution, source: `simulator, ${CAMERA_FPS} fps`, frameKB, ...(await measureWindow(red, viewer, () => sim.stats.framesSent, SECONDS)) });
      printRow(rows[rows.length - 1]!);
      await ask(viewer, { cmd: 'close' } satisfies ToViewers, 'closed');

      const replay = new ReplaySource(spec);
      const port = await replay.listen();
      try {
        replay.rate = SWEEP_RATES[0]!;
        await red.deploy(flows(cameraNode('pipe-cam', { port, resolution, fps: 0, compression: COMPRESSION, customPath: REPLAY_PATH })));
        await connectViewer(red, viewer);
        let best: Row | null = null;
        for (const rate of SWEEP_RATES) {
          replay.rate = rate;
          await sleep(SWEEP_WARMUP_MS);
          const row: Row = { resolution, source: `replay at ${rate} fps`, frameKB, ...(await measureWindow(red, viewer, () => replay.framesSent, SWEEP_SECONDS)) };
          printRow(row);
          const holds = row.inFps >= SUSTAINED_SHARE * rate && row.outFps >= SUSTAINED_SHARE * rate;
          if (!holds) {
            sweepEnds.push(`${resolution}: ${rate} fps does not hold (in ${row.inFps.toFixed(0)}, to viewer ${row.outFps.toFixed(0)} fps, Node-RED CPU ${row.cpuPct.toFixed(0)}%)`);
            break;
          }
          best = row;
        }
        if (best) rows.push({ ...best, source: `${best.source} (highest sustained)` });
        await ask(viewer, { cmd: 'close' } satisfies ToViewers, 'closed');
      } finally {
        // An empty deploy drops the stream before the replay server goes.
        await red.deploy([]);
        await replay.close();
      }
    }
  } finally {
    viewer.disconnect();
    await red.stop();
    await sim.close();
  }
  console.log('');
  console.log(`${machine}`);
  for (const e of sweepEnds) console.log(`sweep stopped: ${e}`);
  console.log(`idle Node-RED (no flow): ${idlePct.toFixed(1)}% of a core`);
  console.log('| resolution (frame size) | source | frames in (fps) | frames to viewer (fps) | Node-RED CPU (% of a core) | CPU per frame (ms) | same, less idle (ms) | latency p50 / p99 (ms) | Node-RED RSS (MB) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const net = ((r.cpuPct - idlePct) * 10) / r.inFps;
    console.log(
      `| ${r.resolution} (${r.frameKB} KB) | ${r.source} | ${r.inFps.toFixed(1)} | ${r.outFps.toFixed(1)} | ${r.cpuPct.toFixed(0)}% | ${r.cpuMsPerFrame.toFixed(2)} | ${net.toFixed(2)} | ${r.latP50} / ${r.latP99} | ${r.rssMB.toFixed(0)} |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
