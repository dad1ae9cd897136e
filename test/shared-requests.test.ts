import assert from 'node:assert/strict';
import { SharedRequests } from '../src/shared-requests';

const CANCELLED = new Error('cancelled');

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('SharedRequests', () => {
  it('runs one request for concurrent waiters of the same key, and a new one afterwards', async () => {
    const shared = new SharedRequests<number>(() => CANCELLED);
    let starts = 0;
    const d = deferred<number>();
    const start = (): Promise<number> => {
      starts++;
      return d.promise;
    };
    const a = shared.join('k', start, new AbortController().signal);
    const b = shared.join('k', start, new AbortController().signal);
    const other = shared.join('other', async () => 7, new AbortController().signal);
    d.resolve(42);
    assert.deepEqual(await Promise.all([a, b, other]), [42, 42, 7]);
    assert.equal(starts, 1);
    assert.equal(shared.size, 0);
    await shared.join('k', async () => (starts++, 1), new AbortController().signal);
    assert.equal(starts, 2);
  });

  it('lets one waiter leave without cancelling the request for the others', async () => {
    const shared = new SharedRequests<string>(() => CANCELLED);
    let signalSeen: AbortSignal | null = null;
    const d = deferred<string>();
    const start = (s: AbortSignal): Promise<string> => {
      signalSeen = s;
      return d.promise;
    };
    const quitter = new AbortController();
    const a = shared.join('k', start, quitter.signal);
    const b = shared.join('k', start, new AbortController().signal);
    await Promise.resolve();
    quitter.abort(new Error('my timeout'));
    await assert.rejects(a, /my timeout/);
    assert.equal(signalSeen!.aborted, false);
    d.resolve('ok');
    assert.equal(await b, 'ok');
  });

  it('aborts the request with the cancel reason when the last waiter leaves', async () => {
    const shared = new SharedRequests<string>(() => CANCELLED);
    let signalSeen: AbortSignal | null = null;
    const ac = new AbortController();
    const p = shared.join('k', (s) => ((signalSeen = s), new Promise<string>(() => {})), ac.signal);
    await Promise.resolve();
    ac.abort(new Error('closing'));
    await assert.rejects(p, /closing/);
    assert.equal(signalSeen!.aborted, true);
    assert.equal(signalSeen!.reason, CANCELLED);
    assert.equal(shared.size, 0);
  });

  it('rejects every waiter when the request fails', async () => {
    const shared = new SharedRequests<string>(() => CANCELLED);
    const start = async (): Promise<string> => {
      throw new Error('camera said no');
    };
    const a = shared.join('k', start, new AbortController().signal);
    const b = shared.join('k', start, new AbortController().signal);
    await assert.rejects(a, /camera said no/);
    await assert.rejects(b, /camera said no/);
  });
});
