/**
 * Process-wide cache of encoded frame cycles, one cycle per FrameSpec.
 *
 * jpeg-js needs tens of ms per VGA frame and hundreds per 1080p frame, far too
 * slow to encode per frame sent. So each spec gets a cycle of frames rendered
 * once (in a worker thread, one frame at a time) and streams replay it. While
 * a cycle is in use it is re-rendered now and then as a whole new
 * "generation", so the clock drawn in the picture moves on; that costs at most
 * REFRESH_DUTY of one core per spec in use. The exact time and sequence of each
 * frame sent are in its JPEG comment (see stream.ts), not in the pixels.
 *
 * The cache is shared by all simulators in the process (test suites start
 * many), so a spec is only ever rendered once; the worker lives only while at
 * least one simulator is running.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EncodeJob, EncodeResult } from './encoder-worker';
import { renderJpeg, specKey, type FrameSpec } from './render';

/** Cycles kept; the least recently used beyond this are dropped, unless in use. */
export const MAX_CACHED_CYCLES = 12;
/** A cycle served within this window counts as in use (gets clock refreshes). */
const IN_USE_MS = 2000;
/** The clock in the picture never refreshes more often than this. */
const CLOCK_REFRESH_MIN_MS = 1000;
/** Share of one core that refreshing one in-use cycle may take. */
const REFRESH_DUTY = 0.25;
/** Smoothing of the measured encode time. */
const EMA_WEIGHT = 0.3;

interface Generation {
  slots: (Buffer | undefined)[];
  filled: number;
  /** Time drawn in the picture for every slot of this generation. */
  timeMs: number;
}

interface Entry {
  spec: FrameSpec;
  current: Generation;
  next: Generation | null;
  lastUsed: number;
  avgJobMs: number;
  waiters: (() => void)[];
  completeWaiters: (() => void)[];
}

interface Job {
  entry: Entry;
  gen: Generation;
  slot: number;
  startedAt: number;
}

function newGeneration(cycle: number, timeMs: number): Generation {
  return { slots: new Array<Buffer | undefined>(cycle).fill(undefined), filled: 0, timeMs };
}

function firstMissing(g: Generation): number {
  return g.slots.findIndex((s) => s === undefined);
}

export class FrameCache {
  private readonly entries = new Map<string, Entry>();
  private users = 0;
  private worker: Worker | null = null;
  private workerBroken = false;
  private inflight: Job | null = null;
  private jobId = 0;
  /** Frames encoded since the process started (tests check that unused pictures are not rendered). */
  encoded = 0;
  private readonly workerScript = path.join(__dirname, 'encoder-worker.js');

  /** True while the encoder worker thread exists (tests check close() ends it). */
  get workerRunning(): boolean {
    return this.worker !== null;
  }

  /** A simulator starts using the cache (the worker may run). */
  acquire(): void {
    this.users++;
  }

  /** A simulator is done; the last one stops the worker. */
  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users > 0) return;
    const w = this.worker;
    this.worker = null;
    this.inflight = null;
    for (const e of this.entries.values()) this.wake(e);
    if (w) await w.terminate();
  }

  /**
   * Frame `slot` of the spec's cycle, or the nearest earlier one already
   * rendered, or undefined when nothing is rendered yet.
   */
  frame(spec: FrameSpec, slot: number): Buffer | undefined {
    const e = this.entry(spec);
    e.lastUsed = Date.now();
    const slots = e.current.slots;
    const n = slots.length;
    let found: Buffer | undefined;
    for (let k = 0; k < n && found === undefined; k++) found = slots[(((slot - k) % n) + n) % n];
    this.pump();
    return found;
  }

  /** Resolves once the spec has at least one frame (or the cache shut down). */
  ready(spec: FrameSpec): Promise<void> {
    const e = this.entry(spec);
    e.lastUsed = Date.now();
    if (e.current.filled > 0 || this.users === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      e.waiters.push(resolve);
      this.pump();
    });
  }

  /**
   * Resolves when the spec's whole cycle is rendered, or after `maxWaitMs`
   * (a 1080p cycle takes seconds; callers should not hang on it).
   */
  whenComplete(spec: FrameSpec, maxWaitMs: number): Promise<void> {
    const e = this.entry(spec);
    e.lastUsed = Date.now();
    if (e.current.filled === spec.cycle || this.users === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        const i = e.completeWaiters.indexOf(done);
        if (i >= 0) e.completeWaiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      e.completeWaiters.push(done);
      this.pump();
    });
  }

  /** True when the spec's whole first cycle is rendered (for tests and pre-warming). */
  complete(spec: FrameSpec): boolean {
    return this.entries.get(specKey(spec))?.current.filled === spec.cycle;
  }

  private entry(spec: FrameSpec): Entry {
    const key = specKey(spec);
    let e = this.entries.get(key);
    if (e) {
      // Re-insert: Map order doubles as LRU order.
      this.entries.delete(key);
      this.entries.set(key, e);
      return e;
    }
    e = { spec: { ...spec }, current: newGeneration(spec.cycle, Date.now()), next: null, lastUsed: Date.now(), avgJobMs: 0, waiters: [], completeWaiters: [] };
    this.entries.set(key, e);
    this.evict();
    return e;
  }

  private evict(): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= MAX_CACHED_CYCLES) break;
      // A cycle being streamed stays however many there are (a 16-channel wall): dropping it would
      // make its streams wait for a re-render, over and over.
      const inUse = Date.now() - e.lastUsed < IN_USE_MS;
      if (!inUse && e.waiters.length === 0 && e.completeWaiters.length === 0 && this.inflight?.entry !== e) this.entries.delete(key);
    }
  }

  private wake(e: Entry): void {
    const w = e.waiters.splice(0);
    for (const resolve of w) resolve();
    if (e.current.filled === e.current.slots.length || this.users === 0) {
      for (const resolve of e.completeWaiters.splice(0)) resolve();
    }
  }

  /** Next piece of work: first renders of a cycle, then clock refreshes of cycles in use. */
  private pickJob(): Job | null {
    const now = Date.now();
    const byRecency = [...this.entries.values()].reverse();
    for (const e of byRecency) {
      // Only pictures someone waits for or still shows: a PTZ move leaves a trail of views no stream uses
      // any more, and finishing each of their cycles would keep a core busy for nothing.
      if (!e.waiters.length && !e.completeWaiters.length && now - e.lastUsed > IN_USE_MS) continue;
      const slot = firstMissing(e.current);
      if (slot >= 0) return { entry: e, gen: e.current, slot, startedAt: now };
    }
    for (const e of byRecency) {
      if (now - e.lastUsed > IN_USE_MS) continue;
      if (!e.next) {
        const refreshMs = Math.max(CLOCK_REFRESH_MIN_MS, (e.avgJobMs * e.spec.cycle) / REFRESH_DUTY);
        if (now - e.current.timeMs < refreshMs) continue;
        e.next = newGeneration(e.spec.cycle, now);
      }
      const slot = firstMissing(e.next);
      if (slot >= 0) return { entry: e, gen: e.next, slot, startedAt: now };
    }
    return null;
  }

  private pump(): void {
    if (this.inflight || this.users === 0) return;
    const job = this.pickJob();
    if (!job) return;
    this.inflight = job;
    const worker = this.ensureWorker();
    if (worker) {
      const msg: EncodeJob = { id: ++this.jobId, spec: job.entry.spec, slot: job.slot, timeMs: job.gen.timeMs };
      worker.postMessage(msg);
      return;
    }
    // No worker (e.g. running from .ts sources): encode inline, one frame per
    // macrotask so streams still get their turns in between.
    setImmediate(() => {
      if (this.inflight !== job) return;
      let jpeg: Buffer | undefined;
      try {
        jpeg = renderJpeg(job.entry.spec, job.slot, job.gen.timeMs);
      } catch {
        jpeg = undefined;
      }
      this.finish(job, jpeg);
    });
  }

  private ensureWorker(): Worker | null {
    if (this.worker) return this.worker;
    if (this.workerBroken || !existsSync(this.workerScript)) return null;
    const w = new Worker(this.workerScript);
    w.unref();
    w.on('message', (r: EncodeResult) => {
      const job = this.inflight;
      if (w !== this.worker || !job || r.id !== this.jobId) return;
      this.finish(job, r.jpeg ? Buffer.from(r.jpeg.buffer, r.jpeg.byteOffset, r.jpeg.byteLength) : undefined);
    });
    w.on('error', () => {
      // Fall back to inline encoding; the job in flight is picked again.
      if (w !== this.worker) return;
      this.workerBroken = true;
      this.worker = null;
      this.inflight = null;
      this.pump();
    });
    this.worker = w;
    return w;
  }

  private finish(job: Job, jpeg: Buffer | undefined): void {
    this.inflight = null;
    const { entry: e, gen } = job;
    const took = Date.now() - job.startedAt;
    e.avgJobMs = e.avgJobMs === 0 ? took : e.avgJobMs * (1 - EMA_WEIGHT) + took * EMA_WEIGHT;
    if (jpeg) this.encoded++;
    if (jpeg && gen.slots[job.slot] === undefined) {
      gen.slots[job.slot] = jpeg;
      gen.filled++;
    }
    if (gen === e.current && gen.filled > 0) this.wake(e);
    if (gen === e.next && gen.filled === gen.slots.length) {
      e.current = gen;
      e.next = null;
    }
    this.pump();
  }
}

/** The one cache all simulators in this process share. */
export const frameCache = new FrameCache();
