/**
 * The page's one connection to the camera wall, shared by every tile.
 *
 * A tile subscribes with a number of its own; the server sends that tile's
 * JPEGs as binary messages (16-byte header: 0xA5, version, 2 reserved, tile
 * uint32, time float64, then the JPEG) and states as JSON. The tile acks each
 * frame once drawn, so a busy or hidden page never has frames queued for it.
 *
 * When the WebSocket cannot be had (a proxy that refuses upgrades or buffers,
 * a browser that closes it), tiles fall back to polling stills over plain
 * HTTP, and the socket is tried again from time to time.
 */
const MAGIC = 0xa5;
const HEADER = 16;
/** Consecutive failed opens before falling back to stills. */
const FAILS_BEFORE_POLLING = 2;
const RETRY_MS = [500, 1000, 2000, 5000, 10000];
/** While polling, the socket is tried again this often. */
const SOCKET_RETRY_WHILE_POLLING_MS = 30000;
/** A socket that opens but delivers nothing for this long (a buffering proxy) counts as failed. */
const SILENT_SOCKET_MS = 8000;

let nextTile = 1;
const links = new Map();

/** The link for this set of wall URLs (one per page and Node-RED). */
export function wallLink(paths) {
  const key = paths.ticket;
  let l = links.get(key);
  if (!l) {
    l = new WallLink(paths);
    links.set(key, l);
  }
  return l;
}

/** Per link: frames and bytes received, sockets opened, tiles watched, mode. */
export function wallStats() {
  return [...links.values()].map((l) => ({ ...l.stats, tiles: l.tiles.size, mode: l.mode, open: l.open }));
}

export function newTileNumber() {
  return nextTile++;
}

class WallLink {
  constructor(paths) {
    this.paths = paths;
    this.tiles = new Map(); // number -> { widget, fps, full, onFrame, onState, poll }
    this.ws = null;
    this.open = false;
    this.fails = 0;
    this.mode = 'socket';
    this.timer = null;
    this.silentTimer = null;
    this.gotFrame = false;
    this.stats = { frames: 0, bytes: 0, sockets: 0 };
  }

  subscribe(tile, sub) {
    this.tiles.set(tile, sub);
    if (this.mode === 'polling') {
      this.startPoll(tile, sub);
      if (!this.timer && !this.ws) this.timer = setTimeout(() => this.retrySocket(), SOCKET_RETRY_WHILE_POLLING_MS);
    } else if (this.open) this.sendSub(tile, sub);
    else this.connect();
  }

  unsubscribe(tile) {
    const sub = this.tiles.get(tile);
    if (!sub) return;
    this.tiles.delete(tile);
    if (sub.poll) sub.poll.stop();
    if (this.open) this.send({ t: 'unsub', tile });
    // Nothing watched: the socket goes, so a page left on a hidden tab costs nothing.
    if (this.tiles.size === 0) this.disconnect();
  }

  ack(tile) {
    if (this.open && this.tiles.has(tile)) this.send({ t: 'ack', tile });
  }

  send(m) {
    try {
      this.ws.send(JSON.stringify(m));
    } catch {
      /* closing: the reconnect resubscribes */
    }
  }

  sendSub(tile, sub) {
    this.send({ t: 'sub', tile, w: sub.widget, fps: sub.fps, full: !!sub.full });
  }

  disconnect() {
    clearTimeout(this.timer);
    clearTimeout(this.silentTimer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    this.open = false;
    if (ws) {
      ws.onclose = ws.onerror = ws.onmessage = ws.onopen = null;
      ws.close();
    }
  }

  async connect() {
    if (this.ws || this.timer || this.connecting || this.tiles.size === 0) return;
    this.connecting = true;
    let ticket;
    try {
      const r = await fetch(this.paths.ticket, { cache: 'no-store', credentials: 'same-origin' });
      if (!r.ok) throw new Error(`ticket: HTTP ${r.status}`);
      ticket = await r.json();
    } catch (e) {
      this.connecting = false;
      this.failed(String(e && e.message));
      return;
    }
    this.connecting = false;
    if (this.tiles.size === 0) return;
    const url = new URL(`${ticket.ws}?ticket=${encodeURIComponent(ticket.ticket)}`, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url.href);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.gotFrame = false;
    ws.onopen = () => {
      this.open = true;
      this.stats.sockets++;
      for (const [tile, sub] of this.tiles) this.sendSub(tile, sub);
      clearTimeout(this.silentTimer);
      this.silentTimer = setTimeout(() => {
        if (this.ws === ws && !this.gotFrame && this.hasLiveTile()) this.dropSocket('no frames on the socket');
      }, SILENT_SOCKET_MS);
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = () => this.dropSocket('closed');
  }

  hasLiveTile() {
    for (const sub of this.tiles.values()) if (sub.lastState === 'live') return true;
    return false;
  }

  dropSocket(why) {
    const wasOpen = this.open;
    this.disconnect();
    if (wasOpen && this.gotFrame) this.fails = 0;
    this.failed(why);
  }

  failed(why) {
    this.fails++;
    if (this.mode !== 'polling') for (const sub of this.tiles.values()) sub.onState({ state: 'reconnecting', detail: why });
    if (this.fails >= FAILS_BEFORE_POLLING && this.mode !== 'polling' && this.tiles.size > 0) {
      this.mode = 'polling';
      for (const [tile, sub] of this.tiles) this.startPoll(tile, sub);
      this.timer = setTimeout(() => this.retrySocket(), SOCKET_RETRY_WHILE_POLLING_MS);
      return;
    }
    if (this.mode === 'polling') {
      this.timer = setTimeout(() => this.retrySocket(), SOCKET_RETRY_WHILE_POLLING_MS);
      return;
    }
    const wait = RETRY_MS[Math.min(this.fails - 1, RETRY_MS.length - 1)];
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, wait);
  }

  /** While polling: the socket is tried again; tiles switch back once it delivers a frame. */
  retrySocket() {
    this.timer = null;
    if (this.tiles.size === 0) return;
    this.connect();
  }

  onMessage(data) {
    if (typeof data === 'string') {
      let m;
      try {
        m = JSON.parse(data);
      } catch {
        return;
      }
      const sub = m.tile !== undefined ? this.tiles.get(m.tile) : null;
      if (m.t === 'state' && sub) {
        sub.lastState = m.state;
        if (this.mode !== 'polling') sub.onState(m);
      } else if (m.t === 'error' && sub) sub.onState({ state: 'offline', detail: m.message });
      return;
    }
    const b = new DataView(data);
    if (data.byteLength < HEADER || b.getUint8(0) !== MAGIC) return;
    const tile = b.getUint32(4);
    const time = b.getFloat64(8);
    const sub = this.tiles.get(tile);
    this.gotFrame = true;
    this.fails = 0;
    if (this.mode === 'polling') this.backToSocket();
    this.stats.frames++;
    this.stats.bytes += data.byteLength;
    if (!sub) return;
    sub.onFrame(new Blob([new Uint8Array(data, HEADER)], { type: 'image/jpeg' }), time, () => this.ack(tile));
  }

  backToSocket() {
    this.mode = 'socket';
    for (const sub of this.tiles.values()) if (sub.poll) sub.poll.stop(), (sub.poll = null);
  }

  /** Stills for one tile: the server waits for a frame newer than the last one, so this is not a busy loop. */
  startPoll(tile, sub) {
    if (sub.poll) sub.poll.stop();
    let stopped = false;
    let after = 0;
    let ctl = null;
    const minGap = sub.fps > 0 ? 1000 / sub.fps : 0;
    const loop = async () => {
      while (!stopped) {
        const t0 = Date.now();
        try {
          ctl = new AbortController();
          const r = await fetch(`${this.paths.still}/${encodeURIComponent(sub.widget)}?after=${after}`, { cache: 'no-store', credentials: 'same-origin', signal: ctl.signal });
          if (stopped) return;
          if (r.status === 200) {
            const blob = await r.blob();
            after = Number(r.headers.get('X-Frame-Time')) || Date.now();
            this.stats.frames++;
            this.stats.bytes += blob.size;
            await new Promise((done) => sub.onFrame(blob, after, done));
            sub.onState({ state: 'live', detail: 'stills' });
          } else if (r.status === 404) {
            sub.onState({ state: 'offline', detail: 'widget not deployed' });
            await sleep(5000);
          } else if (r.status !== 204) {
            sub.onState({ state: 'reconnecting', detail: `HTTP ${r.status}` });
            await sleep(2000);
          }
        } catch (e) {
          if (stopped) return;
          sub.onState({ state: 'reconnecting', detail: String(e && e.message) });
          await sleep(2000);
        }
        const gap = minGap - (Date.now() - t0);
        if (gap > 0) await sleep(gap);
      }
    };
    sub.poll = {
      stop() {
        stopped = true;
        ctl?.abort();
      },
    };
    loop();
    void tile;
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
