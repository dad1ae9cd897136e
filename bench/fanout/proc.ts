/**
 * Small helpers shared by the fan-out and pipeline benches: process CPU and
 * RSS read from /proc (so a child's cost is measured from outside, without
 * instrumenting it), percentiles, and request/reply over a fork() channel.
 */
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';

/** Linux reports utime/stime in clock ticks; 100 on every mainstream kernel config. */
const CLOCK_TICKS_PER_S = 100;
const PAGE_BYTES = 4096;

export interface ProcSample {
  /** Wall clock, ms (performance.now()). */
  at: number;
  /** CPU seconds (user + system) since the process started. */
  cpuS: number;
  rssBytes: number;
}

/** utime+stime and RSS of a live process, from /proc/<pid>/stat and statm. */
export function sampleProc(pid: number): ProcSample {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssPages = Number(fs.readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]);
  return { at: performance.now(), cpuS: ticks / CLOCK_TICKS_PER_S, rssBytes: rssPages * PAGE_BYTES };
}

/** CPU use between two samples, in % of one core. */
export function cpuPct(a: ProcSample, b: ProcSample): number {
  return ((b.cpuS - a.cpuS) / ((b.at - a.at) / 1000)) * 100;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Sends `msg` to a forked child and resolves with its first message whose `ev` is `ev`. */
export function ask<R extends { ev: string }>(child: ChildProcess, msg: object, ev: R['ev'], timeoutMs = 60_000): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', on);
      reject(new Error(`child ${child.pid}: no '${ev}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (m: unknown): void => {
      const r = m as R;
      if (r && r.ev === 'error') {
        clearTimeout(timer);
        child.off('message', on);
        reject(new Error(`child ${child.pid}: ${(m as { message?: string }).message}`));
      } else if (r && r.ev === ev) {
        clearTimeout(timer);
        child.off('message', on);
        resolve(r);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}
