/**
 * Parser throughput and memory benchmark. `npm run bench` (builds first).
 *
 * Input: Axis-style multipart streams of real JPEG frames (jpeg-js encoded,
 * VGA ~40 KB and 1080p ~190 KB), cut into 1 KiB, 16 KiB and 64 KiB chunks.
 * Figures are MB of input (1 MB = 1e6 bytes) per second of wall time and per
 * second of this process's CPU time, median of RUNS runs; ratios are medians
 * of the per-round ratios (see measureAll). On a machine shared with other
 * work, CPU time is the steadier of the two: time this process spends
 * descheduled is not counted, GC work on helper threads is.
 *
 * Compared: Buffer.concat of the chunks that make up each frame (the copy
 * ceiling for owned frames), @fastify/busboy's Dicer (driven as busboy drives
 * it, collecting each part into a Buffer), and our parser on the Content-Length path, on the
 * boundary-search path (same stream without Content-Length) and in raw mode.
 */

import { once } from 'node:events';
import v8 from 'node:v8';
import vm from 'node:vm';
import { MjpegParser } from '../src/parser';
import { chunked, hdJpeg, multipartStream, vgaJpeg } from '../test/support/jpeg-samples';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Dicer = require('@fastify/busboy/deps/dicer/lib/Dicer');

/**
 * Timed rounds per case (PARSER_BENCH_RUNS overrides; odd, so the median is
 * one of the runs). Three let one burst of load on a shared machine decide a
 * figure; seven, each half as long as before, take about as long in total.
 */
const RUNS = Math.max(1, Number(process.env.PARSER_BENCH_RUNS) || 7);
const FRAMES = 200;
const CHUNK_SIZES = [1024, 16 * 1024, 64 * 1024];
const BOUNDARY = 'myboundary';
const MEMORY_FRAMES = 15000; // 10 minutes at 25 fps
/** Also time Dicer as this bench used to drive it (see runDicer). */
const OLD_DICER = process.env.PARSER_BENCH_OLD_DICER === '1';

/** A real gc() without needing `node --expose-gc`, so `npm run bench` can force collections. */
const gc: (() => void) | null = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
})();

interface Case {
  label: string;
  frames: Buffer[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Each timed run repeats the work until about this many input bytes went
 * through (PARSER_BENCH_MB overrides, in MB).
 */
const BYTES_PER_RUN = (Number(process.env.PARSER_BENCH_MB) || 100) * 1e6;

interface Approach {
  name: string;
  bytes: number;
  fn: () => void | Promise<void>;
}

/**
 * PARSER_BENCH_GC=each-run forces a full GC before every timed run, as this
 * bench used to. That GC also throws away Dicer's optimised code (its parts,
 * listeners and closures died with the previous run: `--trace-deopt` "weak
 * objects" in Dicer._oninfo, SBMH.push, Readable internals) and Dicer needs
 * ~100 MB of input to get it back, i.e. most of a run: kept only to compare.
 */
const GC_EACH_RUN = process.env.PARSER_BENCH_GC === 'each-run';

/**
 * MB/s of input for each approach in each of RUNS rounds. One full GC per
 * case (so a case does not pay for the previous one's garbage), then a
 * warm-up of ~BYTES_PER_RUN per approach, so every approach is timed in its
 * steady state, as in a process that has been streaming for a while.
 * Rounds are interleaved (A B C, C B A, A B C, ...) so that load from other
 * processes hits every approach alike, and the order alternates so that what
 * one approach leaves behind (garbage, freed frame memory) is not always met
 * by the same next one. No GC is forced between timed runs: each approach
 * meets the collections its own allocation (and, alternately, its
 * neighbours') triggers, as it would in production.
 */
interface Rates {
  /** Per approach, per round: MB of input per second of wall time. */
  wall: number[][];
  /** The same per second of process CPU time (user + system, all threads). */
  cpu: number[][];
}

async function measureAll(approaches: Approach[]): Promise<Rates> {
  const rates: Rates = { wall: approaches.map(() => []), cpu: approaches.map(() => []) };
  const repsOf = (a: Approach): number => Math.max(1, Math.round(BYTES_PER_RUN / a.bytes));
  gc?.();
  for (const a of approaches) for (let k = 0, reps = repsOf(a); k < reps; k++) await a.fn(); // warm-up
  for (let r = 0; r < RUNS; r++) {
    const order = approaches.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      const a = approaches[i]!;
      const reps = repsOf(a);
      if (GC_EACH_RUN) gc?.();
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < reps; k++) await a.fn();
      const ns = Number(process.hrtime.bigint() - t0);
      const c = process.cpuUsage(c0);
      const mb = (a.bytes * reps) / 1e6;
      rates.wall[i]!.push(mb / (ns / 1e9));
      rates.cpu[i]!.push(mb / ((c.user + c.system) / 1e6));
    }
  }
  return rates;
}

/**
 * Median over rounds of a[r] / b[r]: both ran in the same round, under the
 * same load, so their ratio is steadier than the ratio of two medians.
 */
function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, r) => x / b[r]!));
}

/** `median [min-max]` of the per-round ratios, as a percentage or a factor. */
function ratioSpread(a: number[], b: number[], pct: boolean): string {
  const rs = a.map((x, r) => x / b[r]!);
  const f = (x: number): string => (pct ? `${Math.round(100 * x)}%` : `${x.toFixed(2)}x`);
  return `${f(median(rs))} [${f(Math.min(...rs))}-${f(Math.max(...rs))}]`;
}

/**
 * The last parser and Dicer of each run stay referenced, as in a process that
 * is streaming: a full GC (a natural one, or a forced one with
 * PARSER_BENCH_GC=each-run) then collects garbage, not the approach itself.
 * Without this, V8 drops our parser's optimised code at such a GC (its
 * embedded callback and object shapes died with the previous run:
 * `--trace-deopt` "weak objects"), which Buffer.concat, a builtin, never
 * pays. For Dicer this is not enough (see GC_EACH_RUN).
 */
const live = new Map<string, unknown>();

function runParser(key: string, chunks: Buffer[], boundary: string | null | undefined, expected: number): void {
  let n = 0;
  const p = new MjpegParser({ boundary, onFrame: () => n++ });
  live.set(key, p);
  for (const c of chunks) p.push(c);
  p.end();
  if (n !== expected) throw new Error(`parser emitted ${n} frames, expected ${expected}`);
}

/**
 * A 'drain' that never comes leaves nothing for the event loop to do, and the
 * process would exit quietly with half a report: say so instead.
 */
let dicerWaiting = false;
process.on('exit', (code) => {
  if (dicerWaiting && code === 0) {
    console.error("Dicer never emitted 'drain': the benchmark stopped early");
    process.exitCode = 1;
  }
});

/**
 * Dicer driven the way busboy drives it (lib/types/multipart.js), which is how
 * it is meant to be used:
 *  - each part gets `_readableState.sync = false` before its 'data' listener,
 *    so data pushed into a flowing part is emitted at once instead of being
 *    buffered until the next tick. Without it a part's push() returns false
 *    past 16 KiB, Dicer holds the write callback until the part is read or
 *    ends, and for the last part before the closing delimiter it never calls
 *    it (its 'end' handler emits 'finish' instead of unpausing), so 'drain'
 *    never comes;
 *  - every write() that returns false waits for 'drain', as a Writable must
 *    be written (and as socket.pipe(dicer) would). Writes of 16 KiB and more
 *    always return false (the Writable's highWaterMark), so each of those
 *    costs one 'drain' turn, which a stream consumer pays in production too.
 * With `old` it is driven as this bench did before: no sync override, every
 * chunk written at once without looking at write()'s result, which makes
 * Dicer look slower than it is (PARSER_BENCH_OLD_DICER=1 adds that row, to
 * compare the two in the same rounds).
 */
async function runDicer(chunks: Buffer[], expected: number, old = false): Promise<void> {
  let n = 0;
  const d = new Dicer({ boundary: BOUNDARY });
  live.set(old ? 'dicer-old' : 'dicer', d);
  d.on('part', (part: NodeJS.ReadableStream & { _readableState: { sync: boolean } }) => {
    if (!old) part._readableState.sync = false;
    const bufs: Buffer[] = [];
    part.on('data', (b: Buffer) => bufs.push(b));
    part.on('end', () => {
      if (Buffer.concat(bufs).length > 0) n++;
    });
  });
  if (old) {
    for (const c of chunks) d.write(c);
  } else {
    for (const c of chunks) {
      if (!d.write(c)) {
        dicerWaiting = true;
        await once(d, 'drain');
        dicerWaiting = false;
      }
    }
  }
  const finished = once(d, 'finish'); // may fire inside end()
  d.end();
  await finished;
  await new Promise((r) => setImmediate(r));
  if (n !== expected) throw new Error(`Dicer emitted ${n} parts, expected ${expected}`);
}

/** Per frame, the chunk views covering its bytes: what a parser must copy to own the frame. */
function piecesPerFrame(chunks: Buffer[], frameEnds: number[]): Buffer[][] {
  const out: Buffer[][] = [];
  let ci = 0;
  let off = 0; // offset of chunks[ci] in the stream
  let at = 0;
  for (const end of frameEnds) {
    const pieces: Buffer[] = [];
    while (at < end) {
      const c = chunks[ci]!;
      const s = at - off;
      const e = Math.min(c.length, end - off);
      pieces.push(c.subarray(s, e));
      at = off + e;
      if (e === c.length) {
        off += c.length;
        ci++;
      }
    }
    out.push(pieces);
  }
  return out;
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

async function throughput(): Promise<string[]> {
  const cases: Case[] = [
    { label: 'VGA', frames: Array.from({ length: FRAMES }, (_, i) => vgaJpeg(1 + (i % 4))) },
    { label: '1080p', frames: Array.from({ length: FRAMES }, (_, i) => hdJpeg(1 + (i % 2))) },
  ];
  const table = (): { rows: Map<string, string[]>; ratios: string[]; add: (name: string, v: string) => void } => {
    const rows = new Map<string, string[]>();
    return {
      rows,
      ratios: [],
      add: (name, v) => {
        if (!rows.has(name)) rows.set(name, []);
        rows.get(name)!.push(v);
      },
    };
  };
  const tables = { wall: table(), cpu: table() };
  const header: string[] = [];
  for (const c of cases) {
    const avg = Math.round(c.frames.reduce((a, f) => a + f.length, 0) / c.frames.length);
    // A closing delimiter at the end, which Dicer insists on.
    const close = Buffer.from(`--${BOUNDARY}--\r\n`);
    const withCl = Buffer.concat([multipartStream(c.frames, { boundary: BOUNDARY }), close]);
    const noCl = Buffer.concat([multipartStream(c.frames, { boundary: BOUNDARY, contentLength: null }), close]);
    const raw = Buffer.concat(c.frames);
    // Part ends: each part is delimiter + headers + body + CRLF, up to the next delimiter.
    const frameEnds: number[] = [];
    for (let i = 0, pos = 0; i < c.frames.length; i++) {
      const next = i + 1 < c.frames.length ? withCl.indexOf(`--${BOUNDARY}\r\n`, pos + 1) : withCl.length;
      frameEnds.push(next);
      pos = next;
    }
    for (const size of CHUNK_SIZES) {
      header.push(`${c.label} ${size / 1024} KiB`);
      const cl = chunked(withCl, size);
      const nc = chunked(noCl, size);
      const rw = chunked(raw, size);
      const pieces = piecesPerFrame(cl, frameEnds);
      const n = c.frames.length;
      const approaches: Approach[] = [
        {
          name: 'concat',
          bytes: withCl.length,
          fn: () => {
            let total = 0;
            for (const p of pieces) total += Buffer.concat(p).length;
            if (total !== withCl.length) throw new Error('concat mismatch');
          },
        },
        { name: 'dicer', bytes: withCl.length, fn: () => runDicer(cl, n) },
        { name: 'cl', bytes: withCl.length, fn: () => runParser('cl', cl, BOUNDARY, n) },
        { name: 'search', bytes: noCl.length, fn: () => runParser('search', nc, BOUNDARY, n) },
        { name: 'raw', bytes: raw.length, fn: () => runParser('raw', rw, null, n) },
      ];
      if (OLD_DICER) approaches.push({ name: 'dicer-old', bytes: withCl.length, fn: () => runDicer(cl, n, true) });
      const rates = await measureAll(approaches);
      for (const [kind, runs] of [
        ['wall', rates.wall],
        ['cpu', rates.cpu],
      ] as const) {
        const by = (name: string): number[] => runs[approaches.findIndex((a) => a.name === name)]!;
        const concatRuns = by('concat');
        const dicerRuns = by('dicer');
        const oursRuns = by('cl');
        const searchRuns = by('search');
        const rawRuns = by('raw');
        const t = tables[kind];
        t.add('Buffer.concat per frame (copy ceiling)', fmt(median(concatRuns)));
        t.add('@fastify/busboy Dicer (driven as busboy does)', fmt(median(dicerRuns)));
        if (OLD_DICER) t.add('Dicer as the old bench drove it (no drain, no sync)', fmt(median(by('dicer-old'))));
        t.add('MjpegParser, Content-Length path', fmt(median(oursRuns)));
        t.add('MjpegParser, boundary search (no Content-Length)', fmt(median(searchRuns)));
        t.add('MjpegParser, raw JPEG mode', fmt(median(rawRuns)));
        t.ratios.push(
          `${c.label} ${size / 1024} KiB (avg frame ${avg} B): CL path ${ratioSpread(oursRuns, concatRuns, true)} of concat, ` +
            `${ratioSpread(oursRuns, dicerRuns, false)} Dicer; search path ${pairedRatio(searchRuns, dicerRuns).toFixed(2)}x Dicer; ` +
            `raw ${pairedRatio(rawRuns, dicerRuns).toFixed(2)}x Dicer; Dicer ${ratioSpread(dicerRuns, concatRuns, true)} of concat` +
            (OLD_DICER ? `; old-bench Dicer ${pairedRatio(by('dicer-old'), dicerRuns).toFixed(2)}x Dicer` : ''),
        );
      }
    }
  }
  const out: string[] = [];
  for (const [kind, title] of [
    ['wall', 'MB/s of input, wall time'],
    ['cpu', 'MB of input per CPU-second'],
  ] as const) {
    const t = tables[kind];
    out.push(`### ${title}`, '', `| approach | ${header.join(' | ')} |`, `|---|${header.map(() => '---:').join('|')}|`);
    for (const [name, vals] of t.rows) out.push(`| ${name} | ${vals.join(' | ')} |`);
    out.push('', ...t.ratios.map((r) => `- ${r}`), '');
  }
  return out;
}

function memory(): string[] {
  const mb = (x: number): string => (x / 1048576).toFixed(1);
  const frames = [vgaJpeg(1), vgaJpeg(2), vgaJpeg(3), vgaJpeg(4)];
  const parts = frames.map((f) => multipartStream([f], { boundary: BOUNDARY }));
  gc?.();
  const m0 = process.memoryUsage();
  let n = 0;
  let bytes = 0;
  let latest: Buffer | null = null;
  const p = new MjpegParser({
    boundary: BOUNDARY,
    onFrame: (f) => {
      n++;
      latest = f.data; // a consumer keeping the latest frame, as a session does
    },
  });
  const t0 = Date.now();
  for (let i = 0; i < MEMORY_FRAMES; i++) {
    // 16 KiB chunks, fresh copies as a socket would deliver them.
    const src = parts[i % parts.length]!;
    for (let o = 0; o < src.length; o += 16384) {
      const c = Buffer.from(src.subarray(o, Math.min(src.length, o + 16384)));
      bytes += c.length;
      p.push(c);
    }
  }
  const ms = Date.now() - t0;
  gc?.();
  const m1 = process.memoryUsage();
  void latest;
  return [
    `- ${MEMORY_FRAMES} VGA frames (${(bytes / 1e6).toFixed(0)} MB, 16 KiB chunks) in ${ms} ms, ${n} frames emitted` +
      `${gc ? ' (after gc)' : ' (gc not available)'}:`,
    `  heapUsed ${mb(m0.heapUsed)} MB -> ${mb(m1.heapUsed)} MB, RSS ${mb(m0.rss)} MB -> ${mb(m1.rss)} MB, ` +
      `external ${mb(m0.external)} MB -> ${mb(m1.external)} MB`,
  ];
}

async function main(): Promise<void> {
  console.log(
    `# Parser benchmark (node ${process.version}, ${FRAMES} frames per stream, median of ${RUNS} interleaved rounds` +
      ` of ~${BYTES_PER_RUN / 1e6} MB after a warm-up of as much${GC_EACH_RUN ? ', full GC before each run' : ''}; ` +
      `ratios: median [min-max] of per-round ratios)\n`,
  );
  for (const l of await throughput()) console.log(l);
  console.log('\n## Memory\n');
  for (const l of memory()) console.log(l);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
