import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { rng } from '../support/jpeg-samples';
import { helper, collect, startNodeRed, stopNodeRed, type Msg } from '../support/node-red';
import { catchAndComplete } from '../support/flow-nodes';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const motionNode = require('../../nodes/axmjpeg-motion');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jpeg = require('jpeg-js') as { encode(img: { data: Buffer; width: number; height: number }, q?: number): { data: Buffer } };

const WAIT_MS = 5000;
const W = 160;
const H = 120;
const rand = rng(11);

/** A camera-like frame: gradient, noise, optionally a bright box at (bx, by). */
function jpegFrame(box?: { x: number; y: number }): Buffer {
  const data = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 4;
      const inBox = box && x >= box.x && x < box.x + 24 && y >= box.y && y < box.y + 24;
      const v = inBox ? 240 : 50 + x * 0.5 + y * 0.4 + (rand() - 0.5) * 16;
      data[i] = data[i + 1] = data[i + 2] = Math.max(0, Math.min(255, Math.round(v)));
      data[i + 3] = 255;
    }
  }
  return Buffer.from(jpeg.encode({ data, width: W, height: H }, 80).data);
}

let seq = 0;
function frameMsg(payload: Buffer): Msg {
  seq++;
  return {
    topic: 'cam1',
    payload,
    frame: { seq, time: Date.now(), size: payload.length, width: W, height: H, fps: 5, camera: 'c', headers: {} },
    extra: `x${seq}`,
  };
}

function flow(cfg: Record<string, unknown>) {
  return [
    { id: 'm', type: 'axmjpeg-motion', name: '', wires: [['events'], ['scores']], ...cfg },
    { id: 'events', type: 'helper' },
    { id: 'scores', type: 'helper' },
    ...catchAndComplete('m'),
  ];
}

describe('axmjpeg-motion node', function () {
  this.timeout(15_000);
  const background = Array.from({ length: 4 }, () => jpegFrame());
  const moving = Array.from({ length: 6 }, (_, i) => jpegFrame({ x: 10 + i * 20, y: 40 }));

  beforeEach(startNodeRed);
  afterEach(stopNodeRed);

  it('frames in: motion true with msg.image, then false after the cooldown; scores on output 2; done() once per input', async () => {
    await helper.load(motionNode, flow({ fps: 100, cooldown: 0.3, startFrames: 2, scoreEvery: 1, topic: 'yard' }));
    const events = collect('events');
    const scores = collect('scores');
    const completed = collect('completed');
    const caught = collect('caught');
    const m = helper.getNode('m');
    let sent = 0;
    const send = async (b: Buffer) => {
      m.receive(frameMsg(b));
      sent++;
      await sleep(15);
    };
    for (let i = 0; i < 8; i++) await send(background[i % background.length]!);
    assert.equal(events.length, 0, 'no motion on a still scene');
    for (const f of moving) await send(f);
    await waitFor(() => events.length === 1, WAIT_MS);
    const start = events[0]!;
    assert.equal(start.topic, 'yard');
    assert.equal(start.payload.motion, true);
    assert.ok(start.payload.score > 0.2 && start.payload.changedBlocks > 0, JSON.stringify(start.payload));
    assert.ok(Buffer.isBuffer(start.image) && start.image[0] === 0xff && start.image[1] === 0xd8);
    assert.ok(moving.some((f) => f.equals(start.image)), 'msg.image is the triggering JPEG');
    assert.equal(start.frame.width, W);
    assert.ok(/^x\d+$/.test(start.extra), 'other msg properties travel along');
    // Still scene again: stops once 0.3 s passed without motion frames.
    const stillFrom = Date.now();
    while (events.length < 2 && Date.now() - stillFrom < 3000) await send(background[sent % background.length]!);
    assert.equal(events.length, 2);
    assert.equal(events[1]!.payload.motion, false);
    assert.ok(Buffer.isBuffer(events[1]!.image));
    assert.ok(Date.now() - stillFrom >= 250, 'stop waited for the cooldown');
    await waitFor(() => completed.length === sent, WAIT_MS);
    await sleep(30);
    assert.equal(completed.length, sent, 'done() exactly once per input');
    assert.equal(caught.length, 0);
    assert.equal(scores.length, sent, 'scoreEvery 1 at 100 fps: a score per frame');
    assert.equal(typeof scores[0]!.payload.score, 'number');
    assert.equal(scores[0]!.image, undefined, 'score msgs stay small');
  });

  it('frames stop during motion: the cooldown timer still sends motion false with the last frame', async () => {
    await helper.load(motionNode, flow({ fps: 100, cooldown: 0.2, startFrames: 1 }));
    const events = collect('events');
    const m = helper.getNode('m');
    m.receive(frameMsg(background[0]!));
    await sleep(15);
    m.receive(frameMsg(background[1]!));
    await sleep(15);
    m.receive(frameMsg(moving[2]!));
    await waitFor(() => events.length === 1, WAIT_MS);
    assert.equal(events[0]!.topic, 'motion', 'default topic');
    await waitFor(() => events.length === 2, 2000);
    assert.equal(events[1]!.payload.motion, false);
    assert.ok(moving[2]!.equals(events[1]!.image));
  });

  it('non-JPEG input: a Catch-able ERR_NOT_JPEG once per kind, the rest counted; progressive JPEG: skipped and counted, no error', async () => {
    await helper.load(motionNode, flow({ fps: 100 }));
    const caught = collect('caught');
    const completed = collect('completed');
    const events = collect('events');
    const m = helper.getNode('m');
    for (let i = 0; i < 20; i++) {
      m.receive({ payload: `hello ${i}` });
      m.receive({ payload: Buffer.from('not a jpeg') });
    }
    await waitFor(() => completed.length === 38 && caught.length === 2, WAIT_MS); // done(err) goes to Catch, not Complete
    assert.equal(caught.length, 2, 'one error per kind, not one per msg');
    assert.equal(caught[0]!.error.code, 'ERR_NOT_JPEG');
    assert.equal(caught[0]!.payload, 'hello 0');
    assert.match(caught[1]!.error.message, /errors\.notJpeg|not a JPEG/);
    await waitFor(() => m.status.getCalls().some((c: { args: Msg[] }) => /status\.notFrames|40 msgs without a frame/.test(String(c.args[0]!.text))), 3000);
    const progressive = Buffer.from(background[0]!);
    const sof = progressive.indexOf(Buffer.from([0xff, 0xc0]));
    progressive[sof + 1] = 0xc2;
    m.receive(frameMsg(progressive));
    await sleep(15);
    m.receive(frameMsg(Buffer.from([0xff, 0xd8, 0xff, 0xd9])));
    await waitFor(() => completed.length === 40, WAIT_MS);
    await sleep(50);
    assert.equal(caught.length, 2, 'undecodable JPEGs are not errors');
    assert.equal(events.length, 0);
    // The helper loads no message catalogue: the status shows the key (or, with one, the text).
    const texts = () => m.status.getCalls().map((c: { args: Msg[] }) => `${c.args[0]!.fill} ${c.args[0]!.text}`);
    await waitFor(() => texts().some((t: string) => /^yellow .*(status\.skipped|not decodable)/.test(t)), 3000).catch(() => {
      throw new Error(`status never showed the count: ${JSON.stringify(texts())}`);
    });
    const warned = m.warn.getCalls().map((c: { args: unknown[] }) => String(c.args[0]));
    assert.equal(warned.length, 2, 'one warning per kind of problem (progressive, no image data)');

  });

  it('analyses at most the set rate: frames in between are dropped, not queued', async () => {
    await helper.load(motionNode, flow({ fps: 5, scoreEvery: 1 }));
    const scores = collect('scores');
    const completed = collect('completed');
    const m = helper.getNode('m');
    const started = Date.now();
    for (let i = 0; i < 30; i++) {
      m.receive(frameMsg(background[i % background.length]!));
      await sleep(10);
    }
    const elapsed = Date.now() - started;
    await waitFor(() => completed.length === 30, WAIT_MS);
    assert.ok(scores.length >= 1 && scores.length <= Math.ceil(elapsed / 200) + 1, `${scores.length} analysed in ${elapsed} ms`);
    assert.ok(scores.length < 30);
  });

  it('invalid settings: error, red status, inputs still completed', async () => {
    await helper.load(motionNode, flow({ maskType: 'rects', mask: '0,0,500,1' }));
    const completed = collect('completed');
    const m = helper.getNode('m');
    m.receive(frameMsg(background[0]!));
    await waitFor(() => completed.length === 1, WAIT_MS);
    const calls = m.error.getCalls?.() ?? [];
    assert.ok(calls.some((c: { args: unknown[] }) => /Mask: rectangle 1/.test(String(c.args[0]))), 'error names the mask');
    assert.ok(m.status.getCalls().some((c: { args: Msg[] }) => c.args[0]!.fill === 'red'));
  });
});
