/**
 * One browser page's camera-wall connection: the tiles it subscribed, each
 * with its own TileSender, multiplexed over one WebSocket.
 *
 * Frames are written as two fragments of one message (16-byte header, then
 * the shared JPEG Buffer), so a JPEG shown on 16 pages is never copied. When
 * the socket holds more than `maxBufferedBytes` unsent, tiles keep their newest
 * frame pending instead of writing (the per-tile window already bounds this;
 * the cap covers pages with very many tiles).
 */
import type WebSocket from 'ws';
import type { ChannelFrame } from '../relay/frame-channel';
import { frameHeader, parseClientMessage, WALL_PROTOCOL_VERSION, type ServerMessage, type TileStateName } from './protocol';
import { DEFAULT_WINDOW, TileSender } from './tile';
import type { TileSink, WallWidgets } from './widgets';

export const MAX_TILES_PER_CONNECTION = 64;
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** A page that sends this many malformed control messages is closed. */
const MAX_BAD_MESSAGES = 20;
/** WebSocket close code 1008: policy violation. */
const CLOSE_POLICY = 1008;

export interface ConnectionOptions {
  widgets: WallWidgets;
  window?: number;
  maxBufferedBytes?: number;
  maxTiles?: number;
}

interface Tile {
  id: number;
  widget: string;
  sender: TileSender;
  unbind: () => void;
  lastState: string;
}

export interface ConnectionStats {
  tiles: number;
  sent: number;
  dropped: number;
  skipped: number;
  badMessages: number;
}

export class WallConnection {
  private readonly tiles = new Map<number, Tile>();
  private readonly widgets: WallWidgets;
  private readonly window: number;
  private readonly maxBuffered: number;
  private readonly maxTiles: number;
  private closed = false;
  private bad = 0;
  private gone = { sent: 0, dropped: 0, skipped: 0 };

  constructor(
    private readonly ws: WebSocket,
    opts: ConnectionOptions,
  ) {
    this.widgets = opts.widgets;
    this.window = opts.window ?? DEFAULT_WINDOW;
    this.maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.maxTiles = opts.maxTiles ?? MAX_TILES_PER_CONNECTION;
    ws.on('message', (data) => this.onMessage(data));
    ws.on('close', () => this.close());
    ws.on('error', () => this.close());
    this.sendJson({ t: 'hello', v: WALL_PROTOCOL_VERSION, window: this.window });
  }

  get stats(): ConnectionStats {
    const s = { tiles: this.tiles.size, ...this.gone, badMessages: this.bad };
    for (const t of this.tiles.values()) {
      s.sent += t.sender.stats.sent;
      s.dropped += t.sender.stats.dropped;
      s.skipped += t.sender.stats.skipped;
    }
    return s;
  }

  /** Unbinds every tile (the socket closed, or the server is stopping). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of [...this.tiles.values()]) this.drop(t);
  }

  private onMessage(data: WebSocket.Data): void {
    if (this.closed) return;
    if (typeof data !== 'string') return this.refuse('binary messages are not accepted from the page');
    const r = parseClientMessage(data);
    if (!r.ok) return this.refuse(r.message);
    const m = r.msg;
    if (m.t === 'ack') {
      this.tiles.get(m.tile)?.sender.ack();
      this.flushAll();
      return;
    }
    const old = this.tiles.get(m.tile);
    if (old) this.drop(old);
    if (m.t === 'unsub') return;
    if (this.tiles.size >= this.maxTiles) {
      this.sendJson({ t: 'error', tile: m.tile, code: 'TOO_MANY_TILES', message: `at most ${this.maxTiles} tiles per page` });
      return;
    }
    const tileId = m.tile;
    const sender = new TileSender({ fps: m.full ? 0 : m.fps, window: this.window, send: (f) => this.sendFrame(tileId, f) });
    const tile: Tile = { id: tileId, widget: m.w, sender, unbind: () => undefined, lastState: '' };
    this.tiles.set(tileId, tile);
    const sink: TileSink = {
      frame: (f) => sender.offer(f),
      state: (state, info) => this.sendState(tile, state, info),
    };
    tile.unbind = this.widgets.bind(m.w, sink);
  }

  private drop(t: Tile): void {
    if (this.tiles.get(t.id) === t) this.tiles.delete(t.id);
    t.sender.stop();
    t.unbind();
    this.gone.sent += t.sender.stats.sent;
    this.gone.dropped += t.sender.stats.dropped;
    this.gone.skipped += t.sender.stats.skipped;
  }

  private refuse(message: string): void {
    this.bad++;
    this.sendJson({ t: 'error', code: 'BAD_MESSAGE', message });
    if (this.bad >= MAX_BAD_MESSAGES) {
      this.ws.close(CLOSE_POLICY, 'too many malformed messages');
      this.close();
    }
  }

  private sendState(t: Tile, state: TileStateName, info: { label: string; detail?: string }): void {
    const key = `${state}\u0000${info.label}\u0000${info.detail ?? ''}`;
    if (key === t.lastState || this.tiles.get(t.id) !== t) return;
    t.lastState = key;
    this.sendJson({ t: 'state', tile: t.id, state, label: info.label, ...(info.detail ? { detail: info.detail } : {}) });
  }

  private sendFrame(tile: number, f: ChannelFrame): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > this.maxBuffered) return false;
    this.ws.send(frameHeader(tile, f.time), { binary: true, fin: false });
    this.ws.send(f.jpeg, { binary: true, fin: true });
    return true;
  }

  /** After an ack the socket may have room for tiles that were held back by the byte cap. */
  private flushAll(): void {
    for (const t of this.tiles.values()) if (t.sender.hasPending) t.sender.flush();
  }

  private sendJson(m: ServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(m));
  }
}
