/**
 * Parser throughput and memory benchmark. `npm run bench` (builds first).
 *
 * Input: Axis-style multipart streams of real JPEG frames (jpeg-js encoded,
 * VGA ~40 KB and 1080p ~190 KB), cut into 1 KiB, 16 KiB and 64 KiB chunks.
 * Figures are MB/s of input (1 MB = 1e6 bytes), median of RUNS runs; ratios
 * are medians of the per-round ratios (see measureAll).
 *
 * Compared: Buffer.concat of the chunks that make up each frame (the copy
 * ceiling for owned frames), @fastify/busboy's Dicer (collecting each part
 * into a Buffer), and our parser on the Content-Length path, on the
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
 * MB/s of input for each approach in each of RUNS rounds, after one warm-up.
 * Rounds are interleaved (A B C, C B A, A B C, ...) so that load from other
 * processes hits every approach alike, and the order alternates so that what
 * one approach leaves behind (garbage, freed frame memory) is not always met
 * by the same next one. Each run
 * starts after a full GC and processes ~BYTES_PER_RUN, so approaches that
 * allocate the same owned frames pay the same allocation and GC cost.
 */
async function measureAll(approaches: Approach[]): Promise<number[][]> {
  const rates: number[][] = approaches.map(() => []);
  for (const a of approaches) await a.fn(); // warm-up
  for (let r = 0; r < RUNS; r++) {
    const order = approaches.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      const a = approaches[i]!;
      const reps = Math.max(1, Math.round(BYTES_PER_RUN / a.bytes));
      gc?.();
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < reps; k++) await a.fn();
      const ns = Number(process.hrtime.bigint() - t0);
      rates[i]!.push((a.bytes * reps) / 1e6 / (ns / 1e9));
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

/**
 * The last parser and Dicer of each run stay referenced, as in a process that
 * is streaming: the full GC before a run then collects garbage, not the
 * approach itself. Without this, V8 drops their optimised code at every forced
 * GC (its embedded callback and object shapes died with the previous run:
 * `--trace-deopt` "weak objects") and the next run is spent partly in
 * unoptimised code, which Buffer.concat, a builtin, never is.
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

async function runDicer(chunks: Buffer[], expected: number): Promise<void> {
  let n = 0;
  const d = new Dicer({ boundary: BOUNDARY });
  live.set('dicer', d);
  d.on('part', (part: NodeJS.ReadableStream) => {
    const bufs: Buffer[] = [];
    part.on('data', (b: Buffer) => bufs.push(b));
    part.on('end', () => {
      if (Buffer.concat(bufs).length > 0) n++;
    });
  });
  // Written without waiting for 'drain': with 64 KiB writes Dicer's drain
  // never comes (a callback held for a part that has already ended), so let
  // the Writable queue the chunks; it still parses them in order.
  for (const c of chunks) d.write(c);
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
  const rows = new Map<string, string[]>();
  const add = (name: string, v: string): void => {
    if (!rows.has(name)) rows.set(name, []);
    rows.get(name)!.push(v);
  };
  const header: string[] = [];
  const ratios: string[] = [];
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
      const runs = await measureAll([
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
      ]);
      const [concatRuns, dicerRuns, oursRuns, searchRuns, rawRuns] = runs as [number[], number[], number[], number[], number[]];
      const [concat, dicer, ours, search, rawRate] = runs.map(median) as [number, number, number, number, number];
      add('Buffer.concat per frame (copy ceiling)', fmt(concat));
      add('@fastify/busboy Dicer', fmt(dicer));
      add('MjpegParser, Content-Length path', fmt(ours));
      add('MjpegParser, boundary search (no Content-Length)', fmt(search));
      add('MjpegParser, raw JPEG mode', fmt(rawRate));
      ratios.push(
        `${c.label} ${size / 1024} KiB (avg frame ${avg} B): CL path ${Math.round(100 * pairedRatio(oursRuns, concatRuns))}% of concat, ` +
          `${pairedRatio(oursRuns, dicerRuns).toFixed(2)}x Dicer; search path ${pairedRatio(searchRuns, dicerRuns).toFixed(2)}x Dicer; ` +
          `raw ${pairedRatio(rawRuns, dicerRuns).toFixed(2)}x Dicer`,
      );
    }
  }
  const lines = [`| approach (MB/s of input) | ${header.join(' | ')} |`, `|---|${header.map(() => '---:').join('|')}|`];
  for (const [name, vals] of rows) lines.push(`| ${name} | ${vals.join(' | ')} |`);
  return [...lines, '', ...ratios.map((r) => `- ${r}`)];
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
    `# Parser benchmark (node ${process.version}, ${FRAMES} frames per stream, median of ${RUNS} interleaved rounds; ` +
      `ratios: median of per-round ratios)\n`,
  );
  for (const l of await throughput()) console.log(l);
  console.log('\n## Memory\n');
  for (const l of memory()) console.log(l);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
