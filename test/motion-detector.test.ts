import assert from 'node:assert/strict';
import type { GreyImage } from '../src/jpeg/dc-decoder';
import { MotionDetector, MotionDetectorOptions, MotionStep, validateMotionOptions } from '../src/motion/detector';
import { maskBlocks, parseMask } from '../src/motion/mask';
import { CameraError } from '../src/errors';
import { rng } from './support/jpeg-samples';

const W = 80; // blocks: a VGA frame
const H = 60;
const FRAME_MS = 200; // 5 fps

interface Box {
  x: number;
  y: number;
  size: number;
  value: number;
}

/** A textured background (fixed per seed), per-frame noise, optional boxes and brightness offset. */
function frame(rand: () => number, opts: { boxes?: Box[]; offset?: number; noise?: number; scene?: number } = {}): GreyImage {
  const { boxes = [], offset = 0, noise = 8, scene = 0 } = opts;
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // scene 1: another picture (what an IR cut filter switch or lights going on look like).
      let v = scene === 0 ? 60 + x + y * 0.8 + 25 * Math.sin(x / 5) * Math.cos(y / 4) : 230 - 2 * x + 30 * Math.sin(y / 3);
      for (const b of boxes) if (x >= b.x && x < b.x + b.size && y >= b.y && y < b.y + b.size) v = b.value;
      v += offset + (rand() - 0.5) * noise;
      data[y * W + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { width: W, height: H, data, imageWidth: W * 8, imageHeight: H * 8 };
}

function run(det: MotionDetector, frames: GreyImage[], t0 = 0): MotionStep[] {
  return frames.map((f, i) => det.process(f, t0 + i * FRAME_MS));
}

function events(steps: MotionStep[]): [number, string][] {
  return steps.flatMap((s, i) => (s.event ? [[i, s.event] as [number, string]] : []));
}

const OPTS: MotionDetectorOptions = { cooldownMs: 2000 };

describe('motion detector', () => {
  it('noise only: never triggers', () => {
    const rand = rng(1);
    const det = new MotionDetector(OPTS);
    const steps = run(det, Array.from({ length: 300 }, () => frame(rand, { noise: 16 })));
    assert.equal(steps[0]!.learning, true);
    assert.deepEqual(events(steps), []);
    assert.ok(steps.every((s) => !s.motion && !s.relearned));
  });

  it('moving box: starts after 2 motion frames, stops after the cooldown', () => {
    const rand = rng(2);
    const det = new MotionDetector(OPTS);
    const frames: GreyImage[] = [];
    for (let i = 0; i < 10; i++) frames.push(frame(rand));
    // 15 frames of a 6x6-block box moving right (36 of 4800 blocks = 0.75 %).
    for (let i = 0; i < 15; i++) frames.push(frame(rand, { boxes: [{ x: 5 + i * 3, y: 20, size: 6, value: 230 }] }));
    for (let i = 0; i < 30; i++) frames.push(frame(rand));
    const steps = run(det, frames);
    const ev = events(steps);
    assert.equal(ev.length, 2, JSON.stringify(ev));
    assert.deepEqual(ev[0], [11, 'start']); // second consecutive motion frame
    assert.equal(ev[1]![1], 'stop');
    // Last motion frame is 24: the stop comes on the first frame >= 2000 ms later.
    assert.equal(ev[1]![0], 24 + 2000 / FRAME_MS);
    const start = steps[11]!;
    assert.ok(start.changedBlocks >= 36 && start.score > 0.2, JSON.stringify(start));
    assert.ok(steps.slice(11, 34).every((s) => s.motion));
  });

  it('a single changed frame (startFrames 2) does not start motion', () => {
    const rand = rng(3);
    const det = new MotionDetector(OPTS);
    const frames = [frame(rand), frame(rand), frame(rand, { boxes: [{ x: 10, y: 10, size: 8, value: 250 }] }), frame(rand), frame(rand)];
    assert.deepEqual(events(run(det, frames)), []);
  });

  it('brightness jump of the whole picture: compensated, no motion', () => {
    const rand = rng(4);
    const det = new MotionDetector(OPTS);
    const frames: GreyImage[] = [];
    for (let i = 0; i < 5; i++) frames.push(frame(rand));
    for (let i = 0; i < 10; i++) frames.push(frame(rand, { offset: 40 }));
    const steps = run(det, frames);
    assert.deepEqual(events(steps), []);
    assert.ok(Math.abs(steps[5]!.brightnessShift - 40) < 3, `shift ${steps[5]!.brightnessShift}`);
    assert.ok(steps[5]!.changedBlocks < 5);
  });

  it('most of the picture changes at once (lights, IR switch): relearn, no motion', () => {
    const rand = rng(5);
    const det = new MotionDetector(OPTS);
    const frames: GreyImage[] = [];
    for (let i = 0; i < 5; i++) frames.push(frame(rand));
    for (let i = 0; i < 10; i++) frames.push(frame(rand, { scene: 1 }));
    const steps = run(det, frames);
    assert.deepEqual(events(steps), []);
    assert.equal(steps[5]!.relearned, true);
    assert.ok(steps[5]!.score > 60);
    assert.ok(steps.slice(6).every((s) => !s.relearned && s.changedBlocks === 0));
  });

  it('mask: a box moving in the ignored region does not trigger; the same box elsewhere does', () => {
    const boxFrames = (x0: number) => {
      const rand = rng(6);
      const fs: GreyImage[] = [];
      for (let i = 0; i < 5; i++) fs.push(frame(rand));
      for (let i = 0; i < 8; i++) fs.push(frame(rand, { boxes: [{ x: x0 + i * 2, y: 30, size: 6, value: 240 }] }));
      return fs;
    };
    const mask = parseMask('50,0,50,100'); // right half
    assert.deepEqual(events(run(new MotionDetector({ ...OPTS, mask }), boxFrames(45))), []);
    assert.deepEqual(events(run(new MotionDetector({ ...OPTS, mask }), boxFrames(5)))[0], [6, 'start']);
    const grid = parseMask('01\n01'); // right half as a grid
    assert.deepEqual(events(run(new MotionDetector({ ...OPTS, mask: grid }), boxFrames(45))), []);
    assert.equal(new MotionDetector({ mask }).process(frame(rng(1)), 0).watchedBlocks, W * H / 2);
  });

  it('checkCooldown ends motion when frames stop arriving', () => {
    const rand = rng(7);
    const det = new MotionDetector(OPTS);
    const frames = [frame(rand), frame(rand)];
    for (let i = 0; i < 3; i++) frames.push(frame(rand, { boxes: [{ x: 10 + i * 4, y: 10, size: 8, value: 250 }] }));
    const steps = run(det, frames);
    assert.equal(steps[3]!.event, 'start');
    const last = 4 * FRAME_MS;
    assert.equal(det.stopDueAt, last + 2000);
    assert.equal(det.checkCooldown(last + 1999), null);
    assert.equal(det.motion, true);
    assert.equal(det.checkCooldown(last + 2000), 'stop');
    assert.equal(det.motion, false);
    assert.equal(det.checkCooldown(last + 5000), null);
  });

  it('a new frame size restarts learning', () => {
    const det = new MotionDetector(OPTS);
    det.process(frame(rng(1)), 0);
    const small: GreyImage = { width: 4, height: 3, data: new Uint8Array(12).fill(50), imageWidth: 32, imageHeight: 24 };
    assert.equal(det.process(small, 200).learning, true);
    assert.equal(det.process(small, 400).learning, false);
  });

  it('validates options with ERR_INVALID_SETTING', () => {
    for (const o of [{ alpha: 0 }, { alpha: 2 }, { pixelThreshold: 0 }, { minAreaPercent: -1 }, { relearnPercent: 0 }, { startFrames: 1.5 },
      { cooldownMs: -1 }, { minAreaPercent: 70, relearnPercent: 60 }, { alpha: Number.NaN }] as MotionDetectorOptions[]) {
      const err = validateMotionOptions(o);
      assert.ok(err instanceof CameraError && err.code === 'ERR_INVALID_SETTING', JSON.stringify(o));
      assert.throws(() => new MotionDetector(o), CameraError);
    }
    assert.equal(validateMotionOptions({ alpha: 0.02, pixelThreshold: 20, minAreaPercent: 0.2, relearnPercent: 60, startFrames: 2, cooldownMs: 0 }), null);
  });
});

describe('motion mask', () => {
  it('grid rows stretch over the block grid; 1 = ignored', () => {
    const m = parseMask('10\n01')!;
    assert.deepEqual(Array.from(maskBlocks(m, 4, 2)), [1, 1, 0, 0, 0, 0, 1, 1]);
    assert.deepEqual(parseMask(' 10 / 01 '), m);
  });

  it('rectangles in percent', () => {
    const m = parseMask('0,0,50,50; 75 50 25 50')!;
    assert.equal(m.kind, 'rects');
    assert.deepEqual(Array.from(maskBlocks(m, 4, 2)), [1, 1, 0, 0, 0, 0, 0, 1]);
  });

  it('empty means no mask; bad input names the problem', () => {
    assert.equal(parseMask(''), null);
    assert.equal(parseMask('  \n'), null);
    for (const [text, re] of [
      ['10\n1', /row 2 has 1 columns/],
      ['0,0,50', /rectangle 1/],
      ['0,0,50,150', /between 0 and 100/],
      ['a,b,c,d', /rectangle 1/],
    ] as [string, RegExp][]) {
      assert.throws(() => parseMask(text), (e: unknown) => e instanceof CameraError && e.code === 'ERR_INVALID_SETTING' && re.test(e.message));
    }
    assert.throws(() => parseMask('0,0,1,1', 'grid'), CameraError);
  });
});
