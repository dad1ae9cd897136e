/**
 * Frame channels: the frames an axmjpeg-out node publishes, handed in-process
 * to other consumers (the Dashboard 2.0 camera widget's socket) keyed by the
 * output's URL path, without going through HTTP.
 *
 * The registry is process-wide on purpose: the widget lives in a companion
 * package, which may load its own copy of this module (or an older/newer
 * one), so the table sits on `globalThis` under a versioned Symbol.for key
 * and its shape is the small interface below, not this class.
 *
 * Subscribers attach to a path, not to a publisher: an output node that is
 * redeployed closes its publisher and opens a new one on the same path, and
 * the subscribers stay attached through that and see `offline`/`online`.
 * Delivery is synchronous and never queues: a sink gets every frame as it is
 * published and must drop what it cannot use (the widget keeps one newest
 * frame per tile).
 */

export interface ChannelFrame {
  /** The JPEG as published; shared, never modify. */
  jpeg: Buffer;
  /** Capture/receive time, ms since epoch. */
  time: number;
}

export interface FrameSink {
  frame(f: ChannelFrame): void;
  /** A publisher appeared on the path (true) or went away (false). */
  online?(up: boolean): void;
}

export interface ChannelPublisher {
  publish(jpeg: Buffer, time?: number): void;
  /** Leaves the path (subscribers see offline unless another publisher holds it). */
  close(): void;
}

export interface ChannelInfo {
  path: string;
  /** Id of the node that publishes, if any. */
  owner: string | null;
  online: boolean;
  subscribers: number;
}

/** What the companion package relies on; keep it backwards compatible (bump the key otherwise). */
export interface FrameChannelRegistry {
  /** Starts publishing on `path` for node `owner` (the newest publisher of a path wins). */
  open(path: string, owner: string): ChannelPublisher;
  /** Receives the frames of `path` from now on; works before any publisher exists. Returns unsubscribe. */
  subscribe(path: string, sink: FrameSink): () => void;
  /** The newest frame published on `path` by its current publisher, if any. */
  latest(path: string): ChannelFrame | null;
  /** The path a node publishes on, if that node currently publishes. */
  pathOf(owner: string): string | null;
  info(path: string): ChannelInfo;
}

/** Paths are case-insensitive like express routes. */
function keyOf(path: string): string {
  return path.toLowerCase();
}

interface Channel {
  path: string;
  sinks: Set<FrameSink>;
  publisher: { owner: string; token: object } | null;
  latest: ChannelFrame | null;
}

export class FrameChannels implements FrameChannelRegistry {
  private readonly channels = new Map<string, Channel>();

  open(path: string, owner: string): ChannelPublisher {
    const ch = this.channel(path);
    const token = {};
    const wasOnline = ch.publisher !== null;
    ch.publisher = { owner, token };
    ch.latest = null;
    if (!wasOnline) this.tell(ch, true);
    let closed = false;
    return {
      publish: (jpeg, time) => {
        if (closed || ch.publisher?.token !== token) return;
        const f: ChannelFrame = { jpeg, time: typeof time === 'number' && Number.isFinite(time) ? time : Date.now() };
        ch.latest = f;
        for (const s of [...ch.sinks]) {
          try {
            s.frame(f);
          } catch {
            // A consumer's bug must not stop the output node or the other consumers.
          }
        }
      },
      close: () => {
        if (closed) return;
        closed = true;
        if (ch.publisher?.token !== token) return;
        ch.publisher = null;
        ch.latest = null;
        this.tell(ch, false);
        this.prune(ch);
      },
    };
  }

  subscribe(path: string, sink: FrameSink): () => void {
    const ch = this.channel(path);
    ch.sinks.add(sink);
    return () => {
      ch.sinks.delete(sink);
      this.prune(ch);
    };
  }

  latest(path: string): ChannelFrame | null {
    return this.channels.get(keyOf(path))?.latest ?? null;
  }

  pathOf(owner: string): string | null {
    for (const ch of this.channels.values()) if (ch.publisher?.owner === owner) return ch.path;
    return null;
  }

  info(path: string): ChannelInfo {
    const ch = this.channels.get(keyOf(path));
    return { path, owner: ch?.publisher?.owner ?? null, online: !!ch?.publisher, subscribers: ch?.sinks.size ?? 0 };
  }

  private channel(path: string): Channel {
    const key = keyOf(path);
    let ch = this.channels.get(key);
    if (!ch) {
      ch = { path, sinks: new Set(), publisher: null, latest: null };
      this.channels.set(key, ch);
    }
    return ch;
  }

  private tell(ch: Channel, up: boolean): void {
    for (const s of [...ch.sinks]) {
      try {
        s.online?.(up);
      } catch {
        // as in publish
      }
    }
  }

  private prune(ch: Channel): void {
    if (ch.sinks.size === 0 && !ch.publisher) this.channels.delete(keyOf(ch.path));
  }
}

const GLOBAL_KEY = Symbol.for('@axmjpeg/frame-channels/v1');

/** The process-wide registry (created on first use). */
export function frameChannels(): FrameChannelRegistry {
  const g = globalThis as unknown as Record<symbol, FrameChannelRegistry | undefined>;
  let reg = g[GLOBAL_KEY];
  if (!reg) {
    reg = new FrameChannels();
    g[GLOBAL_KEY] = reg;
  }
  return reg;
}
