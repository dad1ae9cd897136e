/**
 * Camera wall core: the wire format, a tile's window/newest-slot/rate logic,
 * tickets, and the widget/source registry (demand-driven opening, sharing,
 * switching, pause, redeploy).
 */
import assert from 'node:assert/strict';
import type { ChannelFrame } from '../src/relay/frame-channel';
import { frameHeader, parseClientMessage, parseFrameMessage, FRAME_HEADER_BYTES } from '../src/wall/protocol';
import { TileSender } from '../src/wall/tile';
import { TicketStore, MAX_TICKETS } from '../src/wall/tickets';
import { WallWidgets, type ResolvedSource, type SourceListener, type TileSink } from '../src/wall/widgets';
import { fakeJpeg } from './support/jpeg-samples';

const frame = (seq: number, time = seq): ChannelFrame => ({ jpeg: fakeJpeg(seq, 32), time });
const seqOf = (f: ChannelFrame): number => f.jpeg.readUInt32BE(2);

describe('camera wall: protocol', function () {
  it('frame header round-trips tile and time; the JPEG follows at byte 16', function () {
    const jpeg = fakeJpeg(7, 40);
    const msg = Buffer.concat([frameHeader(4_000_000_000, 1_700_000_000_123.5), jpeg]);
    const p = parseFrameMessage(msg)!;
    assert.equal(p.tile, 4_000_000_000);
    assert.equal(p.time, 1_700_000_000_123.5);
    assert.deepEqual(p.jpeg, jpeg);
    assert.equal(FRAME_HEADER_BYTES, 16);
    assert.equal(parseFrameMessage(Buffer.from('not a frame at all')), null);
  });

  it('accepts sub/unsub/ack and says what is wrong with anything else', function () {
    assert.deepEqual(parseClientMessage('{"t":"sub","tile":3,"w":"a1b2c3d4e5f60718","fps":5}'), { ok: true, msg: { t: 'sub', tile: 3, w: 'a1b2c3d4e5f60718', fps: 5, full: false } });
    assert.deepEqual(parseClientMessage('{"t":"sub","tile":3,"w":"x","full":true}'), { ok: true, msg: { t: 'sub', tile: 3, w: 'x', fps: 0, full: true } });
    assert.deepEqual(parseClientMessage('{"t":"ack","tile":0}'), { ok: true, msg: { t: 'ack', tile: 0 } });
    const bad: [string, RegExp][] = [
      ['nope', /not JSON/],
      ['[1]', /JSON object/],
      ['{"t":"sub","tile":-1,"w":"x"}', /tile must be/],
      ['{"t":"sub","tile":1.5,"w":"x"}', /tile must be/],
      ['{"t":"sub","tile":1,"w":"../../etc"}', /widget id/],
      ['{"t":"sub","tile":1,"w":"x","fps":1000}', /fps must be/],
      ['{"t":"sub","tile":1,"w":"x","fps":"5"}', /fps must be/],
      ['{"t":"launch","tile":1}', /unknown control message type/],
      [`{"t":"ack","tile":1,"pad":"${'x'.repeat(5000)}"}`, /longer than/],
    ];
    for (const [text, re] of bad) {
      const r = parseClientMessage(text);
      assert.equal(r.ok, false, text.slice(0, 40));
      assert.match((r as { message: string }).message, re);
    }
  });
});

describe('camera wall: tile sender', function () {
  it('sends at most `window` frames before acks; meanwhile only the newest is kept', function () {
    const sent: number[] = [];
    const t = new TileSender({ fps: 0, window: 2, send: (f) => (sent.push(seqOf(f)), true) });
    for (let i = 1; i <= 10; i++) t.offer(frame(i));
    assert.deepEqual(sent, [1, 2]);
    assert.equal(t.stats.dropped, 7, 'frames 3..9 replaced in the slot');
    t.ack();
    assert.deepEqual(sent, [1, 2, 10], 'the newest goes with the ack');
    t.ack();
    t.ack();
    t.ack();
    assert.equal(t.stats.inFlight, 0, 'extra acks are ignored');
    t.offer(frame(11));
    assert.deepEqual(sent, [1, 2, 10, 11]);
  });

  it('caps the rate on a grid: 30 fps in, 5 fps out', function () {
    let now = 0;
    const sent: number[] = [];
    const t = new TileSender({ fps: 5, window: 100, now: () => now, send: (f) => (sent.push(seqOf(f)), true) });
    for (let i = 0; i < 300; i++) {
      now = (i * 1000) / 30;
      t.offer(frame(i));
    }
    assert.ok(sent.length >= 49 && sent.length <= 51, `${sent.length} frames in 10 s`);
  });

  it('a connection that cannot take the frame keeps it pending until flush; stop() forgets it', function () {
    let open = false;
    const sent: number[] = [];
    const t = new TileSender({ fps: 0, send: (f) => (open ? (sent.push(seqOf(f)), true) : false) });
    t.offer(frame(1));
    t.offer(frame(2));
    assert.equal(t.hasPending, true);
    open = true;
    assert.equal(t.flush(), true);
    assert.deepEqual(sent, [2]);
    t.offer(frame(3));
    t.offer(frame(4));
    t.stop();
    t.offer(frame(5));
    assert.equal(t.flush(), false);
    assert.deepEqual(sent, [2, 3]);
  });
});

describe('camera wall: tickets', function () {
  it('a ticket works once and only until it expires', function () {
    let now = 1000;
    const s = new TicketStore(60_000, () => now);
    const a = s.issue();
    const b = s.issue();
    assert.match(a, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(s.take(a), true);
    assert.equal(s.take(a), false, 'single use');
    now += 60_001;
    assert.equal(s.take(b), false, 'expired');
    assert.equal(s.take(undefined), false);
    assert.equal(s.take('x'.repeat(1000)), false);
  });

  it('never holds more than MAX_TICKETS', function () {
    const s = new TicketStore();
    const first = s.issue();
    for (let i = 0; i < MAX_TICKETS + 10; i++) s.issue();
    assert.equal(s.size, MAX_TICKETS);
    assert.equal(s.take(first), false, 'the oldest went first');
  });
});

/** A source that records when it is opened and stopped, and lets the test push frames. */
class TestSource {
  opened = 0;
  stopped = 0;
  listener: SourceListener | null = null;
  constructor(readonly key: string, readonly label = key) {}
  resolved(): ResolvedSource {
    return {
      key: this.key,
      label: this.label,
      open: (l) => {
        this.opened++;
        this.listener = l;
        return { stop: () => (this.stopped++, (this.listener = null)) };
      },
    };
  }
  push(f: ChannelFrame): void {
    this.listener?.frame(f);
  }
  get running(): boolean {
    return this.opened > this.stopped;
  }
}

class TestTile implements TileSink {
  frames: number[] = [];
  states: string[] = [];
  labels: string[] = [];
  frame(f: ChannelFrame): void {
    this.frames.push(seqOf(f));
  }
  state(s: string, info: { label: string; detail?: string }): void {
    this.states.push(info.detail ? `${s}: ${info.detail}` : s);
    this.labels.push(info.label);
  }
}

describe('camera wall: widgets and sources', function () {
  let sources: Map<string, TestSource>;
  let widgets: WallWidgets;
  beforeEach(function () {
    sources = new Map(['a', 'b'].map((k) => [k, new TestSource(k, `Camera ${k.toUpperCase()}`)]));
    widgets = new WallWidgets((s) => {
      const src = sources.get(String(s));
      return src ? src.resolved() : { error: `no source ${String(s)}` };
    });
  });
  afterEach(() => widgets.close());

  it('opens a source with the first watching tile and stops it with the last: nobody watching, no camera', function () {
    widgets.register('w1', { source: 'a' });
    assert.equal(sources.get('a')!.opened, 0, 'registering alone opens nothing');
    const t1 = new TestTile();
    const t2 = new TestTile();
    const off1 = widgets.bind('w1', t1);
    const off2 = widgets.bind('w1', t2);
    assert.equal(sources.get('a')!.opened, 1, 'one opening for two tiles');
    sources.get('a')!.push(frame(1));
    assert.deepEqual([t1.frames, t2.frames], [[1], [1]]);
    assert.deepEqual(t1.states, ['waiting', 'live']);
    assert.equal(t1.labels[0], 'Camera A');
    off1();
    assert.equal(sources.get('a')!.running, true);
    off2();
    assert.equal(sources.get('a')!.running, false);
    assert.equal(widgets.stats.openSources, 0);
    // A page comes back (reload, tab shown again): the source opens again and its frames reach the tile.
    const t3 = new TestTile();
    widgets.bind('w1', t3);
    assert.equal(sources.get('a')!.opened, 2);
    sources.get('a')!.push(frame(2));
    assert.deepEqual(t3.frames, [2]);
    assert.equal(t3.states.at(-1), 'live');
  });

  it('widgets on the same source share one opening; a new tile gets the newest frame at once', function () {
    widgets.register('w1', { source: 'a' });
    widgets.register('w2', { source: 'a', label: 'Gate' });
    widgets.bind('w1', new TestTile());
    sources.get('a')!.push(frame(5));
    const late = new TestTile();
    widgets.bind('w2', late);
    assert.equal(sources.get('a')!.opened, 1);
    assert.deepEqual(late.frames, [5]);
    assert.equal(late.labels.at(-1), 'Gate');
  });

  it('setSource switches every tile of the widget; pause stops frames and releases the source', function () {
    widgets.register('w1', { source: 'a' });
    const t = new TestTile();
    widgets.bind('w1', t);
    sources.get('a')!.push(frame(1));
    assert.equal(widgets.setSource('w1', 'b'), null);
    assert.equal(sources.get('a')!.running, false, 'old source released');
    sources.get('b')!.push(frame(2));
    assert.deepEqual(t.frames, [1, 2]);
    assert.match(widgets.setSource('w1', 'zzz')!, /no source zzz/);
    widgets.setPaused('w1', true);
    assert.equal(sources.get('b')!.running, false);
    assert.equal(t.states.at(-1), 'paused');
    widgets.setPaused('w1', false);
    assert.equal(sources.get('b')!.running, true);
    sources.get('b')!.push(frame(3));
    assert.deepEqual(t.frames, [1, 2, 3]);
  });

  it('a redeployed widget picks up its tiles again; an unknown source is offline with the reason', function () {
    widgets.register('w1', { source: 'a' });
    const t = new TestTile();
    widgets.bind('w1', t);
    widgets.unregister('w1');
    assert.equal(sources.get('a')!.running, false);
    assert.equal(t.states.at(-1), 'offline: widget not deployed');
    widgets.register('w1', { source: 'b' });
    assert.equal(sources.get('b')!.running, true);
    sources.get('b')!.push(frame(9));
    assert.deepEqual(t.frames, [9]);
    widgets.register('w2', { source: 'nope' });
    const t2 = new TestTile();
    widgets.bind('w2', t2);
    assert.equal(t2.states.at(-1), 'offline: no source nope');
  });

  it('latest() waits for a newer frame, holding the source open for the lease only', async function () {
    widgets.register('w1', { source: 'a' });
    const p = widgets.latest('w1', { after: 0, waitMs: 1000, leaseMs: 50 });
    assert.equal(sources.get('a')!.running, true, 'a still poll opens the source');
    sources.get('a')!.push(frame(3, 100));
    assert.equal(seqOf((await p)!), 3);
    assert.equal(await widgets.latest('w1', { after: 100, waitMs: 20 }), null, 'nothing newer than 100');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(sources.get('a')!.running, false, 'released after the lease');
  });
});
