/**
 * One upstream camera connection per camera + stream settings, shared by any
 * number of subscribers.
 *
 * Cameras allow few viewers (often 10–20) and every extra stream costs them
 * CPU, so nodes never open their own connection: they subscribe here. The
 * session starts with the first subscriber and lingers after the last one
 * leaves, so a redeploy or a viewer reloading the page does not reconnect.
 *
 * Each subscriber has a one-frame mailbox: frames are handed over from a
 * fresh macrotask, and a subscriber still busy with the previous frame (its
 * handler returned a pending promise) gets only the newest one when it is
 * free. A slow subscriber therefore never delays the others and never makes
 * a queue.
 */
import type { CameraError } from './errors';
import type { Frame, StateChange, StreamSession } from './session';

export const DEFAULT_LINGER_MS = 10_000;

export interface Subscriber {
  /** May return a promise: no new frame is delivered until it settles. */
  onFrame(frame: Frame): void | Promise<unknown>;
  onState?(change: StateChange): void;
  onProblem?(err: CameraError): void;
}

export interface Subscription {
  readonly key: string;
  readonly session: StreamSession;
  /** Frames replaced in this subscriber's mailbox before it could take them. */
  readonly dropped: number;
  unsubscribe(): void;
}

interface Entry {
  session: StreamSession;
  subs: Set<Mailbox>;
  lingerTimer: NodeJS.Timeout | null;
  onFrame: (f: Frame) => void;
  onState: (c: StateChange) => void;
  onProblem: (e: CameraError) => void;
}

class Mailbox implements Subscription {
  dropped = 0;
  private pending: Frame | null = null;
  private scheduled = false;
  private busy = false;
  private closed = false;

  constructor(
    readonly key: string,
    readonly session: StreamSession,
    private readonly sub: Subscriber,
    private readonly release: (m: Mailbox) => void,
  ) {}

  post(frame: Frame): void {
    if (this.closed) return;
    if (this.pending) this.dropped++;
    this.pending = frame;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.busy) return;
    this.scheduled = true;
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    const frame = this.pending;
    this.pending = null;
    if (!frame || this.closed) return;
    let result: void | Promise<unknown>;
    try {
      result = this.sub.onFrame(frame);
    } catch {
      // A throwing subscriber must not break delivery to itself or others;
      // reporting is its own job.
      result = undefined;
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      this.busy = true;
      const free = (): void => {
        this.busy = false;
        if (this.pending) this.schedule();
      };
      (result as Promise<unknown>).then(free, free);
    }
  }

  state(change: StateChange): void {
    if (!this.closed) this.sub.onState?.(change);
  }

  problem(err: CameraError): void {
    if (!this.closed) this.sub.onProblem?.(err);
  }

  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = null;
    this.release(this);
  }
}

export interface HubOptions {
  lingerMs?: number;
}

export class StreamHub {
  private readonly entries = new Map<string, Entry>();
  private readonly lingerMs: number;
  private closed = false;

  constructor(opts: HubOptions = {}) {
    this.lingerMs = opts.lingerMs ?? DEFAULT_LINGER_MS;
  }

  /**
   * Joins the stream `key`, creating its session with `create` if none runs.
   * The subscriber is told the current state at once.
   */
  subscribe(key: string, create: () => StreamSession, sub: Subscriber): Subscription {
    if (this.closed) throw new Error('StreamHub is closed');
    let entry = this.entries.get(key);
    if (!entry) entry = this.open(key, create());
    if (entry.lingerTimer) {
      clearTimeout(entry.lingerTimer);
      entry.lingerTimer = null;
    }
    const e = entry;
    const box = new Mailbox(key, e.session, sub, (m) => this.leave(key, e, m));
    e.subs.add(box);
    e.session.start();
    box.state({ state: e.session.state, attempt: 0 });
    return box;
  }

  /** The running session for `key`, if any (snapshots read its latest frame). */
  get(key: string): StreamSession | undefined {
    return this.entries.get(key)?.session;
  }

  get size(): number {
    return this.entries.size;
  }

  subscriberCount(key: string): number {
    return this.entries.get(key)?.subs.size ?? 0;
  }

  /** Stops every session now, lingering or not. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.entries()];
    this.entries.clear();
    await Promise.all(all.map(([, e]) => this.dispose(e)));
  }

  private open(key: string, session: StreamSession): Entry {
    const entry: Entry = {
      session,
      subs: new Set(),
      lingerTimer: null,
      onFrame: (f) => {
        for (const s of entry.subs) s.post(f);
      },
      onState: (c) => {
        for (const s of entry.subs) s.state(c);
      },
      onProblem: (err) => {
        for (const s of entry.subs) s.problem(err);
      },
    };
    session.on('frame', entry.onFrame);
    session.on('state', entry.onState);
    session.on('problem', entry.onProblem);
    this.entries.set(key, entry);
    return entry;
  }

  private leave(key: string, entry: Entry, box: Mailbox): void {
    entry.subs.delete(box);
    if (entry.subs.size > 0 || this.entries.get(key) !== entry) return;
    if (this.lingerMs <= 0) {
      this.entries.delete(key);
      void this.dispose(entry);
      return;
    }
    entry.lingerTimer = setTimeout(() => {
      entry.lingerTimer = null;
      if (entry.subs.size > 0 || this.entries.get(key) !== entry) return;
      this.entries.delete(key);
      void this.dispose(entry);
    }, this.lingerMs);
  }

  private async dispose(entry: Entry): Promise<void> {
    if (entry.lingerTimer) clearTimeout(entry.lingerTimer);
    entry.lingerTimer = null;
    await entry.session.stop();
    entry.session.off('frame', entry.onFrame);
    entry.session.off('state', entry.onState);
    entry.session.off('problem', entry.onProblem);
  }
}
