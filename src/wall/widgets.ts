/**
 * The widgets the camera wall can show, and the sources behind them.
 *
 * A widget (one Dashboard camera node) points at a source: an axmjpeg-out
 * path or a camera. Its tiles (one per browser showing it) bind to the widget,
 * not to the source, so `msg.source` can switch every tile at once and a
 * redeployed widget picks its tiles up again under the same id.
 *
 * A source is opened when its first watched tile binds and stopped when the
 * last one leaves: a camera source then releases the camera after the camera
 * node's linger time. Widgets sharing a source share one opening.
 */
import type { ChannelFrame } from '../relay/frame-channel';
import type { TileStateName } from './protocol';

export interface SourceState {
  state: Exclude<TileStateName, 'paused'>;
  /** Why, for `reconnecting`/`offline` (never credentials). */
  detail?: string;
}

export interface SourceListener {
  frame(f: ChannelFrame): void;
  state(s: SourceState): void;
}

/** A running source; `stop()` is called once. */
export interface OpenSource {
  stop(): void;
}

export interface ResolvedSource {
  /** Equal keys share one opening. */
  key: string;
  /** Default tile label (the output's or camera's name). */
  label: string;
  open(listener: SourceListener): OpenSource;
}

/** What a tile receives from its widget. */
export interface TileSink {
  frame(f: ChannelFrame): void;
  state(state: TileStateName, info: { label: string; detail?: string }): void;
}

export interface WidgetSpec {
  /** How the node layer finds the source (node id, path ...); opaque here. */
  source: unknown;
  /** Tile label; empty = the source's label. */
  label?: string;
}

export type Resolver = (source: unknown) => ResolvedSource | { error: string };

interface Shared {
  resolved: ResolvedSource;
  users: Set<Widget>;
  open: OpenSource | null;
  last: SourceState;
  latest: ChannelFrame | null;
}

interface Widget {
  id: string;
  spec: WidgetSpec | null;
  paused: boolean;
  tiles: Set<TileSink>;
  /** Still-poll leases: the source stays open until this time without tiles. */
  leaseUntil: number;
  leaseTimer: NodeJS.Timeout | null;
  shared: Shared | null;
  error: string | null;
  waiters: Set<(f: ChannelFrame | null) => void>;
}

const OFFLINE_UNDEPLOYED = 'widget not deployed';

export class WallWidgets {
  private readonly widgets = new Map<string, Widget>();
  private readonly sources = new Map<string, Shared>();

  constructor(private readonly resolve: Resolver) {}

  /** Registers or replaces widget `id` (a deploy); tiles already bound to the id stay. */
  register(id: string, spec: WidgetSpec): void {
    const w = this.widget(id);
    w.spec = spec;
    w.paused = false;
    this.rebind(w);
  }

  /** The node closed: its tiles wait (offline) for a widget of the same id. */
  unregister(id: string): void {
    const w = this.widgets.get(id);
    if (!w) return;
    w.spec = null;
    this.rebind(w);
    this.prune(w);
  }

  isRegistered(id: string): boolean {
    return !!this.widgets.get(id)?.spec;
  }

  /** Switches the widget to another source (msg.source). Returns an error text if it cannot be resolved. */
  setSource(id: string, source: unknown): string | null {
    const w = this.widgets.get(id);
    if (!w?.spec) return OFFLINE_UNDEPLOYED;
    const r = this.resolve(source);
    if ('error' in r) return r.error;
    w.spec = { ...w.spec, source };
    this.rebind(w);
    return null;
  }

  setPaused(id: string, paused: boolean): void {
    const w = this.widgets.get(id);
    if (!w || w.paused === paused) return;
    w.paused = paused;
    this.rebind(w);
  }

  isPaused(id: string): boolean {
    return !!this.widgets.get(id)?.paused;
  }

  /** Why the widget shows nothing (its source cannot be resolved), or null. */
  problemOf(id: string): string | null {
    const w = this.widgets.get(id);
    return w?.spec ? w.error : null;
  }

  /** The label tiles of this widget show now. */
  labelOf(id: string): string {
    const w = this.widgets.get(id);
    return w ? this.label(w) : '';
  }

  /** Binds a tile; returns unbind. Unknown ids are kept waiting (a deploy may be under way). */
  bind(id: string, tile: TileSink): () => void {
    const w = this.widget(id);
    w.tiles.add(tile);
    this.tell(w, tile);
    this.update(w);
    if (w.shared?.latest && !w.paused) tile.frame(w.shared.latest);
    return () => {
      if (!w.tiles.delete(tile)) return;
      this.update(w);
      this.prune(w);
    };
  }

  /**
   * The newest frame of the widget's source for a still (snapshot button, polling
   * fallback): opens the source for `leaseMs` if it is not running and waits up
   * to `waitMs` for a frame newer than `after`. Null if none came.
   */
  latest(id: string, opts: { after?: number; waitMs?: number; leaseMs?: number } = {}): Promise<ChannelFrame | null> {
    const w = this.widgets.get(id);
    if (!w?.spec) return Promise.resolve(null);
    const lease = opts.leaseMs ?? 0;
    if (lease > 0) {
      w.leaseUntil = Math.max(w.leaseUntil, Date.now() + lease);
      if (w.leaseTimer) clearTimeout(w.leaseTimer);
      w.leaseTimer = setTimeout(() => {
        w.leaseTimer = null;
        w.leaseUntil = 0;
        this.update(w);
        this.prune(w);
      }, lease);
      w.leaseTimer.unref?.();
      this.update(w);
    }
    const after = opts.after ?? -Infinity;
    const f = w.shared?.latest ?? null;
    if ((f && f.time > after) || !(opts.waitMs && opts.waitMs > 0)) return Promise.resolve(f && f.time > after ? f : null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), opts.waitMs);
      const done = (got: ChannelFrame | null): void => {
        clearTimeout(timer);
        w.waiters.delete(waiter);
        resolve(got);
      };
      const waiter = (got: ChannelFrame | null): void => {
        if (got === null || got.time > after) done(got);
      };
      w.waiters.add(waiter);
    });
  }

  /** Stops every source and forgets everything (the runtime is stopping). */
  close(): void {
    for (const w of this.widgets.values()) {
      if (w.leaseTimer) clearTimeout(w.leaseTimer);
      for (const wake of [...w.waiters]) wake(null);
    }
    for (const s of this.sources.values()) s.open?.stop();
    this.sources.clear();
    this.widgets.clear();
  }

  get stats(): { widgets: number; tiles: number; openSources: number } {
    let tiles = 0;
    for (const w of this.widgets.values()) tiles += w.tiles.size;
    return { widgets: this.widgets.size, tiles, openSources: [...this.sources.values()].filter((s) => s.open).length };
  }

  private widget(id: string): Widget {
    let w = this.widgets.get(id);
    if (!w) {
      w = { id, spec: null, paused: false, tiles: new Set(), leaseUntil: 0, leaseTimer: null, shared: null, error: null, waiters: new Set() };
      this.widgets.set(id, w);
    }
    return w;
  }

  private label(w: Widget): string {
    return w.spec?.label || w.shared?.resolved.label || '';
  }

  /** Drops the widget's source and resolves its spec again. */
  private rebind(w: Widget): void {
    this.leave(w);
    w.error = null;
    if (w.spec) {
      const r = this.resolve(w.spec.source);
      if ('error' in r) w.error = r.error;
      else {
        let s = this.sources.get(r.key);
        if (!s) {
          s = { resolved: r, users: new Set(), open: null, last: { state: 'waiting' }, latest: null };
          this.sources.set(r.key, s);
        }
        w.shared = s;
      }
    }
    for (const t of w.tiles) this.tell(w, t);
    this.update(w);
  }

  /** Joins or leaves the shared source as the widget's demand says. */
  private update(w: Widget): void {
    const s = w.shared;
    if (!s) return;
    // A still lease (snapshot button, polling page) opens the source even while paused: pausing stops the video, not the snapshot.
    const wanted = (!w.paused && w.tiles.size > 0) || w.leaseUntil > Date.now();
    if (wanted && !s.users.has(w)) {
      // stopIfUnused forgot this source when its last watcher left, but the widget still points at it:
      // join the live one of that key, or become it (else its frames are ignored as stale).
      const current = this.sources.get(s.resolved.key);
      if (current && current !== s) {
        w.shared = current;
        return this.update(w);
      }
      if (!current) this.sources.set(s.resolved.key, s);
      s.users.add(w);
      if (!s.open) this.start(s);
    } else if (!wanted && s.users.has(w)) {
      s.users.delete(w);
      this.stopIfUnused(s);
    }
  }

  private leave(w: Widget): void {
    const s = w.shared;
    if (!s) return;
    w.shared = null;
    s.users.delete(w);
    this.stopIfUnused(s);
  }

  private stopIfUnused(s: Shared): void {
    if (s.users.size > 0) return;
    const open = s.open;
    s.open = null;
    s.latest = null;
    s.last = { state: 'waiting' };
    if (this.sources.get(s.resolved.key) === s) this.sources.delete(s.resolved.key);
    open?.stop();
  }

  private start(s: Shared): void {
    s.last = { state: 'waiting' };
    s.open = s.resolved.open({
      frame: (f) => {
        if (this.sources.get(s.resolved.key) !== s) return;
        s.latest = f;
        if (s.last.state !== 'live') this.setState(s, { state: 'live' });
        for (const w of s.users) {
          for (const wake of [...w.waiters]) wake(f);
          if (w.paused) continue;
          for (const t of w.tiles) t.frame(f);
        }
      },
      state: (st) => {
        if (this.sources.get(s.resolved.key) !== s) return;
        // 'live' is announced by the first frame, so a tile never says live on a black picture.
        if (st.state === 'live' && !s.latest) return;
        if (st.state !== 'live') s.latest = st.state === 'offline' ? null : s.latest;
        this.setState(s, st);
      },
    });
  }

  private setState(s: Shared, st: SourceState): void {
    s.last = st;
    for (const w of s.users) for (const t of w.tiles) this.tell(w, t);
  }

  private tell(w: Widget, t: TileSink): void {
    const label = this.label(w);
    if (!w.spec) return t.state('offline', { label, detail: OFFLINE_UNDEPLOYED });
    if (w.error) return t.state('offline', { label, detail: w.error });
    if (w.paused) return t.state('paused', { label });
    const st = w.shared?.last ?? { state: 'waiting' };
    t.state(st.state, { label, ...(st.detail ? { detail: st.detail } : {}) });
  }

  private prune(w: Widget): void {
    if (!w.spec && w.tiles.size === 0 && w.waiters.size === 0) {
      if (w.leaseTimer) clearTimeout(w.leaseTimer);
      this.leave(w);
      this.widgets.delete(w.id);
    }
  }
}
