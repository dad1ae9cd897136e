/**
 * Soak: the camera simulator with its faults switched on in rotation, read
 * through the real core (CameraHttpClient → StreamSession → StreamHub) by a
 * few subscribers that come and go, for N minutes. Every report interval it
 * prints frames in (session) and out (subscribers), reconnects, faults
 * applied, wrong frames, RSS and heapUsed; at the end, start vs end memory
 * after a full GC. Exit code 1 if a wrong frame was delivered, a camera
 * stream was left open, or the stream did not recover after a fault.
 *
 *   npm run soak -- --minutes 30
 *   node dist/bench/soak.js --minutes 3 [--report-seconds 60] [--fault-seconds 4] [--clear-seconds 6]
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, CameraSimulator, FRAME_COMMENT_PREFIX, type Fault } from '../simulator';
import { CameraHttpClient } from '../src/http';
import { HttpStreamSource } from '../src/http-source';
import { StreamSession, type Frame } from '../src/session';
import { StreamHub, type Subscription } from '../src/hub';
import { jpegSize } from '../src/jpeg/jpeg-info';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}

const MINUTES = arg('minutes', 3);
const REPORT_S = arg('report-seconds', 60);
const FAULT_S = arg('fault-seconds', 4);
const CLEAR_S = arg('clear-seconds', 6);
const MB = 1024 * 1024;

/** The faults in the order they are switched on; each runs FAULT_S, then the camera is healthy for CLEAR_S. */
const ROTATION: Fault[] = [
  { kind: 'stall' },
  { kind: 'drop-mid-frame', afterFrames: 3 },
  { kind: 'wrong-length', every: 2 },
  { kind: 'no-length' },
  { kind: 'garbage' },
  { kind: 'status', status: 503 },
  { kind: 'html' },
  { kind: 'reboot', ms: 1500 },
  { kind: 'slow', bytesPerSec: 20_000 },
  { kind: 'status', status: 401 },
];

/** Two stream settings: one shared by two subscribers, one on its own. */
const STREAMS = [
  { key: 'a', target: '/axis-cgi/mjpg/video.cgi?resolution=320x240&fps=15', width: 320, height: 240 },
  { key: 'b', target: '/axis-cgi/mjpg/video.cgi?resolution=160x120&fps=10', width: 160, height: 120 },
];

function gcFn(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function isRightFrame(f: Frame, width: number, height: number): boolean {
  const d = f.data;
  if (!(d[0] === 0xff && d[1] === 0xd8 && d[d.length - 2] === 0xff && d[d.length - 1] === 0xd9)) return false;
  const size = jpegSize(d);
  if (!size || size.width !== width || size.height !== height) return false;
  return d.toString('latin1').split(`${FRAME_COMMENT_PREFIX} seq=`).length === 2;
}

const fmtMB = (b: number): string => `${(b / MB).toFixed(1)} MB`;

interface Totals {
  framesIn: number;
  framesOut: number;
  reconnects: number;
  faults: number;
  wrong: number;
  problems: Map<string, number>;
}

async function main(): Promise<void> {
  const gc = gcFn();
  const sim: CameraSimulator = await startSimulator({ auth: 'digest', maxViewers: 4 });
  const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port, username: 'root', password: 'pass' });
  const hub = new StreamHub({ lingerMs: 500 });
  const sessions = new Set<StreamSession>();
  const totals: Totals = { framesIn: 0, framesOut: 0, reconnects: 0, faults: 0, wrong: 0, problems: new Map() };

  function create(target: string): () => StreamSession {
    return () => {
      const s = new StreamSession({
        source: new HttpStreamSource(client, target),
        stallTimeoutMs: 1500,
        backoff: { initialMs: 200, maxMs: 2000, jitter: 0.3, credentialRetryMs: 2000 },
      });
      s.on('frame', () => totals.framesIn++);
      s.on('problem', (e) => totals.problems.set(e.code, (totals.problems.get(e.code) ?? 0) + 1));
      s.on('state', (c) => {
        if (c.state === 'connecting' && c.attempt > 0) totals.reconnects++;
        if (c.state === 'stopped') sessions.delete(s);
      });
      sessions.add(s);
      return s;
    };
  }

  function subscribe(i: number): Subscription {
    const st = STREAMS[i === 2 ? 1 : 0]!;
    return hub.subscribe(st.key, create(st.target), {
      onFrame: (f) => {
        totals.framesOut++;
        if (!isRightFrame(f, st.width, st.height)) totals.wrong++;
      },
    });
  }

  gc();
  const start = process.memoryUsage();
  const t0 = Date.now();
  const endAt = t0 + MINUTES * 60_000;
  const subs: Subscription[] = [0, 1, 2].map(subscribe);
  let last = { ...totals, at: t0 };
  let faultIndex = 0;
  let nextReport = t0 + REPORT_S * 1000;
  let recoveredAfterEveryFault = true;
  let recentFaults: string[] = [];

  console.log(`soak: ${MINUTES} min, faults ${FAULT_S} s on / ${CLEAR_S} s off in rotation (${ROTATION.map((f) => f.kind).join(', ')})`);
  console.log(`start: rss ${fmtMB(start.rss)}, heapUsed ${fmtMB(start.heapUsed)}`);
  console.log('  min  frames-in frames-out reconnects faults wrong      rss  heapUsed  camera-streams  faults-applied');

  function report(now: number): void {
    const m = process.memoryUsage();
    const min = ((now - t0) / 60_000).toFixed(1).padStart(5);
    console.log(
      `${min} ${String(totals.framesIn - last.framesIn).padStart(10)} ${String(totals.framesOut - last.framesOut).padStart(10)} ` +
        `${String(totals.reconnects - last.reconnects).padStart(10)} ${String(totals.faults - last.faults).padStart(6)} ` +
        `${String(totals.wrong).padStart(5)} ${fmtMB(m.rss).padStart(9)} ${fmtMB(m.heapUsed).padStart(9)} ${String(sim.stats.activeStreams).padStart(15)}` +
        `  ${recentFaults.join(' ')}`,
    );
    recentFaults = [];
    last = { ...totals, problems: new Map(totals.problems), at: now };
  }

  async function until(t: number): Promise<void> {
    while (Date.now() < t) {
      await sleep(Math.min(250, t - Date.now()));
      if (Date.now() >= nextReport) {
        report(Date.now());
        nextReport += REPORT_S * 1000;
      }
    }
  }

  while (Date.now() < endAt) {
    const fault = ROTATION[faultIndex++ % ROTATION.length]!;
    if (fault.kind === 'status' || fault.kind === 'html') {
      // Answer faults only hit new requests: cut the running streams first.
      sim.setFault({ kind: 'drop-mid-frame' });
      await sleep(300);
    }
    sim.setFault(fault);
    totals.faults++;
    recentFaults.push(fault.kind === 'status' ? String(fault.status) : fault.kind);
    await until(Math.min(endAt, Date.now() + FAULT_S * 1000));
    if (fault.kind !== 'reboot') sim.setFault(null);
    await sim.whenListening();
    // A healthy camera again: every session is told to skip its backoff wait,
    // as a user pressing "restart" would; then the stream must come back.
    for (const s of sessions) s.retryNow();
    const before = totals.framesOut;
    const clearEnd = Math.min(endAt, Date.now() + CLEAR_S * 1000);
    // Churn: one subscriber of the shared stream leaves and comes back.
    subs[1]!.unsubscribe();
    subs[1] = subscribe(1);
    await until(clearEnd);
    if (clearEnd - Date.now() > -1000 && Date.now() < endAt && totals.framesOut === before) {
      recoveredAfterEveryFault = false;
      console.log(`  no frame in the ${CLEAR_S} s after fault ${fault.kind}`);
    }
  }
  if (Date.now() - last.at > 1000) report(Date.now());

  for (const s of subs) s.unsubscribe();
  await hub.close();
  await client.close();
  const deadline = Date.now() + 5000;
  while (sim.stats.activeStreams > 0 && Date.now() < deadline) await sleep(20);
  const leftOpen = sim.stats.activeStreams;
  await sim.close();
  gc();
  await sleep(100);
  gc();
  const end = process.memoryUsage();

  console.log(
    `end:   rss ${fmtMB(end.rss)} (${end.rss >= start.rss ? '+' : ''}${fmtMB(end.rss - start.rss)}), ` +
      `heapUsed ${fmtMB(end.heapUsed)} (${end.heapUsed >= start.heapUsed ? '+' : ''}${fmtMB(end.heapUsed - start.heapUsed)})`,
  );
  console.log(
    `totals: ${totals.framesIn} frames in, ${totals.framesOut} out, ${totals.reconnects} reconnects, ${totals.faults} faults, ` +
      `${totals.wrong} wrong frames, camera streams left open ${leftOpen}`,
  );
  console.log(`problems: ${[...totals.problems].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const ok = totals.wrong === 0 && leftOpen === 0 && recoveredAfterEveryFault && totals.framesOut > 0;
  console.log(ok ? 'soak: OK' : 'soak: FAILED');
  process.exitCode = ok ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
