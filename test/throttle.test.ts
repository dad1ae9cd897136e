import assert from 'node:assert/strict';
import { FrameThrottle, ThrottleClock, ThrottleOptions, validateThrottleOptions } from '../src/throttle';
import { CameraError } from '../src/errors';

/** A clock the test moves by hand; timers fire in due order during `advance`. */
class FakeClock implements ThrottleClock {
  t = 1_000_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

function setup(opts: Partial<ThrottleOptions<number>>) {
  const clock = new FakeClock();
  const out: Array<{ item: number; at: number }> = [];
  const dropped: number[] = [];
  const t = new FrameThrottle<number>({
    mode: 'fps',
    ...opts,
    clock,
    emit: (item) => out.push({ item, at: clock.t }),
    onDrop: (item) => dropped.push(item),
  });
  return { clock, out, dropped, t, items: () => out.map((o) => o.item) };
}

describe('FrameThrottle', () => {
  describe('max fps', () => {
    it('emits the first frame at once, then the newest at most every 1/fps s (trailing edge)', () => {
      const { clock, out, dropped, t } = setup({ mode: 'fps', fps: 2 }); // 500 ms
      const t0 = clock.t;
      t.push(1);
      assert.deepEqual(out, [{ item: 1, at: t0 }]);
      clock.advance(100);
      t.push(2);
      clock.advance(100);
      t.push(3); // replaces 2
      assert.equal(out.length, 1);
      assert.deepEqual(dropped, [2]);
      clock.advance(299);
      assert.equal(out.length, 1);
      clock.advance(1); // t0 + 500
      assert.deepEqual(out[1], { item: 3, at: t0 + 500 });
      assert.equal(t.stats.held, false);
      assert.equal(clock.pending, 0);
    });

    it('does not lose the newest frame when the stream pauses', () => {
      const { clock, items, t } = setup({ mode: 'fps', fps: 1 });
      t.push(1);
      clock.advance(10);
      t.push(2);
      clock.advance(10);
      t.push(3);
      clock.advance(5000); // stream paused
      assert.deepEqual(items(), [1, 3]);
    });

    it('emits immediately again once a full interval has passed since the last emit', () => {
      const { clock, out, t } = setup({ mode: 'fps', fps: 4 }); // 250 ms
      const t0 = clock.t;
      t.push(1);
      clock.advance(300);
      t.push(2);
      assert.deepEqual(out.map((o) => [o.item, o.at - t0]), [
        [1, 0],
        [2, 300],
      ]);
    });

    it('a steady 30 fps input becomes ~5 fps output, always the newest of each interval', () => {
      const { clock, out, t, dropped } = setup({ mode: 'fps', fps: 5 }); // 200 ms
      const t0 = clock.t;
      let n = 0;
      for (let i = 0; i < 90; i++) {
        // 3 s at ~33 ms per frame
        t.push(++n);
        clock.advance(33);
      }
      clock.advance(1000);
      // Emits every 200 ms from t0 through the end of the input (t0 + 2970).
      assert.ok(out.length >= 15 && out.length <= 16, `got ${out.length}`);
      for (let i = 1; i < out.length; i++) assert.ok(out[i]!.at - out[i - 1]!.at >= 200, 'never faster than fps');
      // Each trailing emit is the newest frame pushed before it.
      for (const o of out.slice(1)) {
        const newest = Math.floor((o.at - t0) / 33) + 1;
        assert.equal(o.item, Math.min(newest, 90));
      }
      assert.equal(out.length + dropped.length, 90, 'every frame is either emitted or dropped');
      assert.equal(t.stats.in, 90);
      assert.equal(t.stats.out, out.length);
      assert.equal(t.stats.dropped, dropped.length);
    });

    it('supports fractional fps (one frame per 5 s)', () => {
      const { clock, items, t } = setup({ mode: 'fps', fps: 0.2 });
      t.push(1);
      clock.advance(4999);
      t.push(2);
      assert.deepEqual(items(), [1]);
      clock.advance(1);
      assert.deepEqual(items(), [1, 2]);
    });
  });

  describe('every Nth', () => {
    it('forwards the 1st, (N+1)th, (2N+1)th … frame and drops the rest', () => {
      const { items, dropped, t, clock } = setup({ mode: 'nth', nth: 3 });
      for (let i = 1; i <= 10; i++) t.push(i);
      assert.deepEqual(items(), [1, 4, 7, 10]);
      assert.deepEqual(dropped, [2, 3, 5, 6, 8, 9]);
      assert.equal(clock.pending, 0);
      assert.equal(t.stats.held, false);
    });

    it('N = 1 forwards everything', () => {
      const { items, t } = setup({ mode: 'nth', nth: 1 });
      for (let i = 1; i <= 5; i++) t.push(i);
      assert.deepEqual(items(), [1, 2, 3, 4, 5]);
    });
  });

  describe('on demand (ready)', () => {
    it('first frame goes out (ready at start), then only the newest on each ready', () => {
      const { items, dropped, t } = setup({ mode: 'ready' });
      t.push(1);
      t.push(2);
      t.push(3);
      t.push(4);
      assert.deepEqual(items(), [1]);
      assert.deepEqual(dropped, [2, 3]);
      assert.equal(t.stats.held, true);
      t.ready();
      assert.deepEqual(items(), [1, 4]);
      assert.equal(t.stats.held, false);
    });

    it('a ready with nothing held lets the next frame out at once; several readies are one credit', () => {
      const { items, t } = setup({ mode: 'ready', readyAtStart: false });
      t.push(1);
      assert.deepEqual(items(), []);
      t.ready(); // emits 1
      t.ready(); // nothing held → credit
      t.ready(); // still one credit
      t.push(2);
      t.push(3);
      assert.deepEqual(items(), [1, 2]);
      t.ready();
      assert.deepEqual(items(), [1, 2, 3]);
    });

    it('never holds more than one frame', () => {
      const { t } = setup({ mode: 'ready', readyAtStart: false });
      for (let i = 0; i < 1000; i++) {
        t.push(i);
        const s = t.stats;
        assert.ok(s.in - s.out - s.dropped <= 1);
      }
      assert.equal(t.stats.dropped, 999);
      assert.equal(t.stats.in - t.stats.out - t.stats.dropped, 1, 'exactly one frame held');
    });
  });

  it('close() clears the timer and drops the held frame; later pushes are dropped', () => {
    const { clock, items, dropped, t } = setup({ mode: 'fps', fps: 1 });
    t.push(1);
    t.push(2);
    assert.equal(clock.pending, 1);
    t.close();
    assert.equal(clock.pending, 0);
    assert.deepEqual(dropped, [2]);
    t.push(3);
    clock.advance(5000);
    assert.deepEqual(items(), [1]);
    assert.deepEqual(dropped, [2, 3]);
  });

  it('ready() is ignored outside ready mode', () => {
    const { items, t } = setup({ mode: 'fps', fps: 1 });
    t.push(1);
    t.push(2);
    t.ready();
    assert.deepEqual(items(), [1]);
  });

  it('rejects bad settings with ERR_INVALID_SETTING', () => {
    for (const bad of [
      { mode: 'fps', fps: 0 },
      { mode: 'fps', fps: -1 },
      { mode: 'fps', fps: NaN },
      { mode: 'fps', fps: '5' },
      { mode: 'nth', nth: 0 },
      { mode: 'nth', nth: 1.5 },
      { mode: 'bogus' },
    ]) {
      const err = validateThrottleOptions(bad);
      assert.ok(err instanceof CameraError, JSON.stringify(bad));
      assert.equal(err.code, 'ERR_INVALID_SETTING');
    }
    assert.equal(validateThrottleOptions({ mode: 'ready' }), null);
    assert.throws(() => new FrameThrottle({ mode: 'fps', fps: 0, emit: () => {} }), { code: 'ERR_INVALID_SETTING' });
  });

  it('reports in/out rates', () => {
    const { clock, t } = setup({ mode: 'nth', nth: 2 });
    for (let i = 0; i < 40; i++) {
      t.push(i);
      clock.advance(50); // 20 fps in
    }
    const s = t.stats;
    assert.ok(s.inFps > 15 && s.inFps < 25, `in ${s.inFps}`);
    assert.ok(s.outFps > 7 && s.outFps < 13, `out ${s.outFps}`);
  });
});
