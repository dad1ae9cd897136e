import assert from 'node:assert/strict';
import { MotionProcessor, validateProcessorOptions } from '../src/motion/processor';
import { tinyJpeg } from './support/jpeg-samples';

describe('motion processor (rate limit, decode, counts)', () => {
  it('analyses at most maxFps by frame time, keeping the average rate under jitter', () => {
    const p = new MotionProcessor({ maxFps: 5 });
    const img = tinyJpeg(1, 32, 32);
    const kinds: string[] = [];
    // 25 fps input for 2 s: 50 frames, 5 fps wanted -> 10 analysed.
    for (let i = 0; i < 50; i++) kinds.push(p.push(img, i * 40).kind);
    assert.equal(kinds.filter((k) => k === 'processed').length, 10);
    assert.equal(p.stats.rateLimited, 40);
    // Frames at exactly the rate but 5 ms early now and then are not dropped every other time.
    const q = new MotionProcessor({ maxFps: 5 });
    let processed = 0;
    for (let i = 0; i < 20; i++) if (q.push(img, i * 200 - (i % 2 ? 5 : 0)).kind === 'processed') processed++;
    assert.ok(processed >= 19, `${processed} of 20`);
  });

  it('undecodable frames are counted, reported once per code, and do not use up the slot', () => {
    const p = new MotionProcessor({ maxFps: 1 });
    const bad = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const r1 = p.push(bad, 0);
    const r2 = p.push(bad, 10);
    assert.ok(r1.kind === 'undecodable' && r1.firstOfCode && r1.error.code === 'ERR_JPEG_CORRUPT');
    assert.ok(r2.kind === 'undecodable' && !r2.firstOfCode);
    assert.equal(p.push(tinyJpeg(1, 32, 32), 20).kind, 'processed');
    assert.equal(p.stats.undecodable, 2);
  });

  it('score every N analysed frames', () => {
    const p = new MotionProcessor({ maxFps: 100, scoreEvery: 3 });
    const flags = Array.from({ length: 9 }, (_, i) => {
      const r = p.push(tinyJpeg(1, 32, 32), i * 100);
      return r.kind === 'processed' && r.sendScore;
    });
    assert.deepEqual(flags, [false, false, true, false, false, true, false, false, true]);
  });

  it('validates its own options', () => {
    assert.equal(validateProcessorOptions({ maxFps: 0 })?.code, 'ERR_INVALID_SETTING');
    assert.equal(validateProcessorOptions({ maxFps: 1000 })?.code, 'ERR_INVALID_SETTING');
    assert.equal(validateProcessorOptions({ scoreEvery: -1 })?.code, 'ERR_INVALID_SETTING');
    assert.equal(validateProcessorOptions({ maxFps: 5, scoreEvery: 0 }), null);
  });
});
