import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { helper, collect, startNodeRed, stopNodeRed, type Msg } from '../support/node-red';
import { catchAndComplete } from '../support/flow-nodes';
import { statusesOf, warningsOf } from '../support/node-red';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const throttleNode = require('../../nodes/axmjpeg-throttle');

const WAIT_MS = 3000;

function frameMsg(seq: number): Msg {
  return {
    topic: 'cam1',
    payload: Buffer.from([0xff, 0xd8, 0xff, 0xe0, seq & 0xff, 0xff, 0xd9]),
    frame: { seq, time: Date.now(), size: 7, width: null, height: null, fps: 0, camera: 'c', headers: {} },
    extra: `x${seq}`,
  };
}

function flow(cfg: Record<string, unknown>) {
  return [
    { id: 't', type: 'axmjpeg-throttle', name: '', wires: [['out']], ...cfg },
    { id: 'out', type: 'helper' },
    ...catchAndComplete('t'),
  ];
}

describe('axmjpeg-throttle node', function () {
  this.timeout(10_000);
  beforeEach(startNodeRed);
  afterEach(stopNodeRed);

  it('max frame size (an MQTT broker\'s limit): larger frames are held back, counted in a yellow status, warned about once per new largest size', async () => {
    await helper.load(throttleNode, flow({ mode: 'nth', nth: 1, maxKB: 1 }));
    const out = collect('out');
    const completed = collect('completed');
    const t = helper.getNode('t');
    const big = (n: number): Msg => ({ ...frameMsg(n), payload: Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(2000 + n), Buffer.from([0xff, 0xd9])]) });
    t.receive(frameMsg(1));
    t.receive(big(2));
    t.receive(big(3));
    t.receive(frameMsg(4));
    await waitFor(() => completed.length === 4, WAIT_MS, 'done for every input');
    assert.deepEqual(out.map((m) => m.frame.seq), [1, 4], 'only frames within 1 kB pass');
    // The test runtime has no message catalogs: texts are their keys (the en-US text is checked by the e2e editor load).
    const warns = warningsOf(t).filter((w) => /tooLarge/.test(w));
    assert.equal(warns.length, 1, 'one warning for that size (the next is not larger in kB)');
    await waitFor(() => statusesOf(t).some((st) => st.fill === 'yellow'), WAIT_MS, 'yellow status');
  });

  it('max frame size that is not a number: refused with a red status', async () => {
    await helper.load(throttleNode, flow({ mode: 'fps', fps: 1, maxKB: 'big' }));
    const t = helper.getNode('t');
    await waitFor(() => statusesOf(t).some((st) => st.fill === 'red'), WAIT_MS, 'red status');
  });

  it('max fps in real time: throttles, keeps the newest (trailing edge), done() once per input', async () => {
    await helper.load(throttleNode, flow({ mode: 'fps', fps: 10 }));
    const out = collect('out');
    const completed = collect('completed');
    const at: number[] = [];
    helper.getNode('out').on('input', () => at.push(Date.now()));
    const N = 50;
    const started = Date.now();
    for (let i = 1; i <= N; i++) {
      helper.getNode('t').receive(frameMsg(i));
      await sleep(10);
    }
    const elapsed = Date.now() - started;
    // The stream pauses: the held newest frame still goes out at the end of its interval.
    await waitFor(() => out.length > 0 && out[out.length - 1]!.frame.seq === N, WAIT_MS);
    await sleep(250);
    // Never faster than 10 fps: at most one frame per 100 ms of input, plus the first and the trailing one.
    assert.ok(out.length >= 2 && out.length <= Math.ceil(elapsed / 100) + 2, `out ${out.length} in ${elapsed} ms`);
    assert.ok(out.length < N);
    for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= 90, `gap ${at[i]! - at[i - 1]!} ms`);
    assert.equal(out[0]!.frame.seq, 1, 'first frame goes out at once');
    assert.equal(out[out.length - 1]!.frame.seq, N, 'newest frame is not lost');
    for (let i = 1; i < out.length; i++) assert.ok(out[i]!.frame.seq > out[i - 1]!.frame.seq);
    await waitFor(() => completed.length === N, WAIT_MS);
    await sleep(50);
    assert.equal(completed.length, N, 'done() exactly once per input, held-then-dropped frames included');
  });

  it('every Nth frame', async () => {
    await helper.load(throttleNode, flow({ mode: 'nth', nth: 4 }));
    const out = collect('out');
    for (let i = 1; i <= 9; i++) helper.getNode('t').receive(frameMsg(i));
    await waitFor(() => out.length === 3, WAIT_MS);
    assert.deepEqual(
      out.map((m) => m.frame.seq),
      [1, 5, 9],
    );
  });

  it('on demand: ready (topic or msg.ready) gives the newest frame, with the msg preserved', async () => {
    await helper.load(throttleNode, flow({ mode: 'ready', readyTopic: 'go', readyAtStart: true }));
    const out = collect('out');
    const completed = collect('completed');
    const t = helper.getNode('t');
    for (let i = 1; i <= 5; i++) t.receive(frameMsg(i));
    await waitFor(() => out.length === 1, WAIT_MS);
    assert.equal(out[0]!.frame.seq, 1);
    await sleep(30);
    assert.equal(out.length, 1, 'nothing more without ready');
    t.receive({ topic: 'go' });
    await waitFor(() => out.length === 2, WAIT_MS);
    assert.equal(out[1]!.frame.seq, 5, 'the newest');
    assert.equal(out[1]!.topic, 'cam1');
    assert.equal(out[1]!.extra, 'x5');
    assert.ok(Buffer.isBuffer(out[1]!.payload));
    // Nothing held: the next frame goes out at once.
    t.receive({ ready: true });
    t.receive(frameMsg(6));
    await waitFor(() => out.length === 3, WAIT_MS);
    assert.equal(out[2]!.frame.seq, 6);
    await waitFor(() => completed.length === 8, WAIT_MS);
  });

  it('rejects msgs that are neither frame nor ready: reported once per kind, to Catch, with done()', async () => {
    await helper.load(throttleNode, flow({ mode: 'ready' }));
    const caught = collect('caught');
    const completed = collect('completed');
    const out = collect('out');
    const t = helper.getNode('t');
    t.receive({ payload: 'hello' });
    t.receive({ payload: 'again' });
    t.receive({ payload: Buffer.from('not a jpeg') });
    t.receive({ topic: 'other' });
    await waitFor(() => completed.length === 4, WAIT_MS);
    await sleep(50);
    assert.equal(caught.length, 3, 'three distinct problems');
    assert.equal(caught[0]!.error.code, 'ERR_NOT_JPEG');
    assert.equal(caught[0]!.payload, 'hello');
    assert.equal(out.length, 0);
  });

  it('invalid settings: error, red status, inputs still completed', async () => {
    await helper.load(throttleNode, flow({ mode: 'fps', fps: 0 }));
    const completed = collect('completed');
    const t = helper.getNode('t');
    t.receive(frameMsg(1));
    await waitFor(() => completed.length === 1, WAIT_MS);
    const errorLogged = helper.log().args.some((a: any[]) => a[0]?.level === helper.log().ERROR && /fps/.test(String(a[0].msg)));
    assert.ok(errorLogged);
  });

  it('close drops the held frame and stops its timer', async () => {
    await helper.load(throttleNode, flow({ mode: 'fps', fps: 1 }));
    const out = collect('out');
    const t = helper.getNode('t');
    t.receive(frameMsg(1));
    t.receive(frameMsg(2));
    await waitFor(() => out.length === 1, WAIT_MS);
    await helper.unload();
    await sleep(1200);
    assert.equal(out.length, 1, 'held frame not sent after close');
  });
});
