/**
 * Viewer side of the fan-out and pipeline benches, run in a child process
 * (fork) so its CPU is not charged to the relay being measured.
 *
 * Reading viewers count parts by Content-Length without copying JPEG bytes;
 * from each part's first bytes they read the simulator's JPEG comment
 * `axis-sim seq=N t=<ms>` and record receive time minus t when the part's
 * last byte arrives (same machine, same clock). Stalled viewers connect,
 * get the response headers, then pause the socket and never read again.
 */
import http from 'node:http';

export type ToViewers =
  | { cmd: 'connect'; url: string; readers: number; stalled: number }
  | { cmd: 'start' }
  | { cmd: 'report' }
  | { cmd: 'close' };

export type FromViewers =
  | { ev: 'connected'; ok: number; refused: string[] }
  | {
      ev: 'report';
      /** Frames each reading viewer received since 'start'. */
      frames: number[];
      seconds: number;
      /** Camera-write to viewer-read delay of every frame received since 'start', ms. */
      latencies: number[];
      /** Readers whose connection ended before the report. */
      ended: number;
      cpuPct: number;
    }
  | { ev: 'closed' }
  | { ev: 'error'; message: string };

/** Bytes of a part's body kept to read the JPEG comment (SOI + COM header + text). */
const COMMENT_BYTES = 96;
const COMMENT_TIME = /axis-sim seq=\d+ t=(\d+)/;
/** Connections opened at once: bursts of hundreds overflow small accept queues. */
const CONNECT_BATCH = 50;

/** Counts multipart parts; needs a Content-Length in every part (ours and the naive relay send one). */
export class PartCounter {
  frames = 0;
  private head = '';
  private skip = 0;
  private lead: Buffer[] = [];
  private leadBytes = 0;
  constructor(private readonly onFrame: (sentAtMs: number | null) => void) {}

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - off);
        if (this.leadBytes < COMMENT_BYTES) {
          const take = Math.min(n, COMMENT_BYTES - this.leadBytes);
          this.lead.push(chunk.subarray(off, off + take));
          this.leadBytes += take;
        }
        this.skip -= n;
        off += n;
        if (this.skip === 0) this.partDone();
        continue;
      }
      // Everything between two bodies (CRLF, delimiter, part headers) is a few
      // hundred bytes of text: collect it up to the blank line.
      const end = chunk.indexOf('\r\n\r\n', off);
      const upto = end < 0 ? chunk.length : end + 4;
      this.head += chunk.toString('latin1', off, upto);
      off = upto;
      const blank = this.head.indexOf('\r\n\r\n');
      if (blank < 0) {
        if (this.head.length > 64 * 1024) throw new Error('no part headers within 64 KB');
        continue;
      }
      const len = Number(/content-length:\s*(\d+)/i.exec(this.head)?.[1] ?? NaN);
      if (!Number.isFinite(len)) throw new Error(`no Content-Length in ${JSON.stringify(this.head.slice(0, 200))}`);
      this.head = '';
      this.skip = len;
      if (len === 0) this.partDone();
    }
  }

  private partDone(): void {
    this.frames++;
    const m = COMMENT_TIME.exec(Buffer.concat(this.lead).toString('latin1'));
    this.lead = [];
    this.leadBytes = 0;
    this.onFrame(m ? Number(m[1]) : null);
  }
}

interface Reader {
  counter: PartCounter;
  ended: boolean;
}

function runViewers(): void {
  const reqs: http.ClientRequest[] = [];
  let readers: Reader[] = [];
  let latencies: number[] = [];
  let measuring = false;
  let base: number[] = [];
  let startedAt = 0;
  let cpu0 = process.cpuUsage();
  const send = (m: FromViewers): void => {
    process.send!(m);
  };

  const open = (url: string, stall: boolean): Promise<string | null> =>
    new Promise((resolve) => {
      const req = http.get(url, { agent: false }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve(`HTTP ${res.statusCode}`);
          return;
        }
        if (stall) {
          res.pause();
        } else {
          const r: Reader = {
            counter: new PartCounter((t) => {
              if (measuring && t !== null) latencies.push(Date.now() - t);
            }),
            ended: false,
          };
          readers.push(r);
          res.on('data', (chunk: Buffer) => r.counter.push(chunk));
          res.on('close', () => (r.ended = true));
        }
        res.on('error', () => {});
        resolve(null);
      });
      req.on('error', (e) => resolve(e.message));
      reqs.push(req);
    });

  process.on('message', (m: ToViewers) => {
    void (async () => {
      if (m.cmd === 'connect') {
        const total = m.readers + m.stalled;
        const refused: string[] = [];
        let ok = 0;
        for (let i = 0; i < total; i += CONNECT_BATCH) {
          const batch = Array.from({ length: Math.min(CONNECT_BATCH, total - i) }, (_, k) => {
            const j = i + k;
            // Stalled viewers spread evenly among the readers, not bunched at the end.
            const stall = Math.floor(((j + 1) * m.stalled) / total) > Math.floor((j * m.stalled) / total);
            return open(m.url, stall);
          });
          for (const r of await Promise.all(batch)) {
            if (r === null) ok++;
            else refused.push(r);
          }
        }
        send({ ev: 'connected', ok, refused });
      } else if (m.cmd === 'start') {
        latencies = [];
        base = readers.map((r) => r.counter.frames);
        startedAt = performance.now();
        cpu0 = process.cpuUsage();
        measuring = true;
      } else if (m.cmd === 'report') {
        measuring = false;
        const seconds = (performance.now() - startedAt) / 1000;
        const cpu = process.cpuUsage(cpu0);
        send({
          ev: 'report',
          frames: readers.map((r, i) => r.counter.frames - base[i]!),
          seconds,
          latencies,
          ended: readers.filter((r) => r.ended).length,
          cpuPct: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
        });
      } else if (m.cmd === 'close') {
        for (const r of reqs.splice(0)) r.destroy();
        readers = [];
        latencies = [];
        send({ ev: 'closed' });
      }
    })().catch((e: Error) => send({ ev: 'error', message: e.message }));
  });
  process.on('disconnect', () => {
    for (const r of reqs) r.destroy();
    process.exit(0);
  });
}

if (require.main === module) runViewers();
