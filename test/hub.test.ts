import assert from 'node:assert/strict';
import { waitFor } from './support/wait';
import { startSimulator, CameraSimulator } from '../simulator';
import { CameraHttpClient } from '../src/http';
import { HttpStreamSource } from '../src/http-source';
import { StreamSession, Frame } from '../src/session';
import { StreamHub } from '../src/hub';


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('StreamHub', () => {
  let sim: CameraSimulator;
  let client: CameraHttpClient;
  let hub: StreamHub;
  const target = '/axis-cgi/mjpg/video.cgi?resolution=160x120&fps=25';
  const create = (t = target) => () => new StreamSession({ source: new HttpStreamSource(client, t) });

  beforeEach(async () => {
    sim = await startSimulator({ auth: 'digest' });
    client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port, username: 'root', password: 'pass' });
  });

  afterEach(async () => {
    await hub.close();
    await client.close();
    await sim.close();
  });

  it('shares one camera connection between subscribers of the same stream', async () => {
    hub = new StreamHub({ lingerMs: 0 });
    const a: Frame[] = [];
    const b: Frame[] = [];
    const sa = hub.subscribe('k', create(), { onFrame: (f) => void a.push(f) });
    const sb = hub.subscribe('k', create(), { onFrame: (f) => void b.push(f) });
    assert.equal(sa.session, sb.session);
    await waitFor(() => a.length >= 5 && b.length >= 5, 5000, 'frames at both');
    assert.equal(sim.stats.streamRequests, 1);
    assert.equal(hub.subscriberCount('k'), 2);
    // The same frame object reaches both: no copy per subscriber.
    assert.ok(a.some((f) => b.includes(f)));
    const other: Frame[] = [];
    hub.subscribe('other', create('/axis-cgi/mjpg/video.cgi?resolution=320x240&fps=5'), { onFrame: (f) => void other.push(f) });
    await waitFor(() => other.length >= 1, 5000, 'second stream');
    assert.equal(sim.stats.streamRequests, 2);
  });

  it('keeps the stream for the linger time after the last subscriber, then closes it', async () => {
    hub = new StreamHub({ lingerMs: 400 });
    const frames: Frame[] = [];
    const s1 = hub.subscribe('k', create(), { onFrame: (f) => void frames.push(f) });
    await waitFor(() => frames.length >= 2, 5000, 'frames');
    s1.unsubscribe();
    await sleep(150);
    assert.equal(hub.size, 1, 'still lingering');
    const s2 = hub.subscribe('k', create(), { onFrame: () => {} });
    assert.equal(s2.session, s1.session, 'reused during linger');
    s2.unsubscribe();
    await waitFor(() => hub.size === 0, 3000, 'linger to end');
    await waitFor(() => sim.stats.activeStreams === 0, 3000, 'camera connection closed');
    assert.equal(sim.stats.streamRequests, 1);
  });

  it('does not let a slow subscriber delay the others or build a queue', async () => {
    hub = new StreamHub({ lingerMs: 0 });
    const fast: Frame[] = [];
    const slow: Frame[] = [];
    hub.subscribe('k', create(), { onFrame: (f) => void fast.push(f) });
    const slowSub = hub.subscribe('k', create(), {
      onFrame: async (f) => {
        slow.push(f);
        await sleep(300);
      },
    });
    await waitFor(() => fast.length >= 25, 8000, '25 frames at the fast subscriber');
    assert.ok(slow.length <= Math.ceil(fast.length / 5), `slow got ${slow.length} of ${fast.length}`);
    assert.ok(slowSub.dropped > 0);
    // Each frame the slow one gets is the newest at the time it became free.
    const lastSlow = slow[slow.length - 1]!;
    assert.ok(lastSlow.seq > slow[0]!.seq);
  });

  it('tells a late subscriber the current state at once', async () => {
    hub = new StreamHub({ lingerMs: 0 });
    hub.subscribe('k', create(), { onFrame: () => {} });
    await waitFor(() => hub.get('k')?.state === 'streaming', 5000, 'streaming');
    const seen: string[] = [];
    hub.subscribe('k', create(), { onFrame: () => {}, onState: (c) => seen.push(c.state) });
    assert.deepEqual(seen, ['streaming']);
  });
});
