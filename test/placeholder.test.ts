/** The offline picture and its encoder (src/relay/placeholder.ts, src/jpeg/grey-encoder.ts). */
import assert from 'node:assert/strict';
import { decode } from 'jpeg-js';
import { encodeGreyJpeg } from '../src/jpeg/grey-encoder';
import { renderPlaceholder, offlineLines, PlaceholderCache, formatUtc } from '../src/relay/placeholder';
import { jpegSize } from '../src/jpeg/jpeg-info';
import { judgeOffline } from '../nodes/lib/offline';

describe('offline picture', function () {
  it('the grey encoder writes baseline JPEGs that decode to the pixels given, at any size (edges, flat and busy blocks)', function () {
    for (const [w, h] of [[1, 1], [13, 9], [64, 48], [333, 77]] as const) {
      const luma = new Uint8Array(w * h);
      for (let i = 0; i < luma.length; i++) luma[i] = (i % w) < w / 2 ? 30 : ((i * 7) % 200) + 20;
      const d = decode(encodeGreyJpeg(luma, w, h, 95), { useTArray: true });
      assert.deepEqual([d.width, d.height], [w, h]);
      let flatErr = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < Math.floor(w / 2) - 8; x++) flatErr = Math.max(flatErr, Math.abs(d.data[(y * w + x) * 4]! - 30));
      assert.ok(flatErr <= 2, `flat area within 2 levels (${flatErr}) at ${w}x${h}`);
    }
    assert.throws(() => encodeGreyJpeg(new Uint8Array(4), 0, 4), RangeError);
  });

  it('renders at the stream size, says what and since when, and caches per content', function () {
    const t = Date.UTC(2026, 11, 3, 8, 11, 5);
    const info = { width: 1920, height: 1080, ...offlineLines({ lastFrameAt: t, reason: 'conn refused' }) };
    assert.deepEqual(info.lines, ['RECONNECTING...', 'LAST FRAME 2026-12-03 08:11:05 UTC', 'REASON: conn refused']);
    assert.equal(info.title, 'CAMERA OFFLINE');
    assert.equal(offlineLines({ lastFrameAt: null, reason: 'stopped', stopped: true }).title, 'STREAM STOPPED');
    assert.equal(formatUtc(t), '2026-12-03 08:11:05 UTC');
    const t0 = Date.now();
    const jpeg = renderPlaceholder(info);
    assert.ok(Date.now() - t0 < 2000);
    assert.deepEqual(jpegSize(jpeg), { width: 1920, height: 1080 });
    const cache = new PlaceholderCache();
    const a = cache.get({ ...info, width: 160, height: 120 });
    assert.equal(cache.get({ ...info, width: 160, height: 120 }), a, 'same Buffer from the cache');
    assert.notEqual(cache.get({ ...info, width: 160, height: 120, lines: ['other'] }), a);
    // Tiny streams still get a readable (clipped) picture.
    assert.deepEqual(jpegSize(renderPlaceholder({ ...info, width: 16, height: 16 })), { width: 16, height: 16 });
  });

  it('judgeOffline: known source down for offlineAfter, unknown source by silence, up sources never', function () {
    const base = { offlineAfterMs: 5000, startedAt: 0 };
    const down = { up: false, since: 10_000, reason: 'conn refused', code: 'ERR_CONN_REFUSED', stopped: false };
    assert.equal(judgeOffline({ ...base, now: 100_000, lastFrameAt: 1000, source: { ...down, up: true, reason: '' } }), null, 'up: never, however old the last frame');
    assert.equal(judgeOffline({ ...base, now: 14_000, lastFrameAt: 9000, source: down }), null, 'down for 4 s only');
    assert.deepEqual(judgeOffline({ ...base, now: 15_000, lastFrameAt: 9000, source: down }), { since: 9000, reason: 'conn refused', code: 'ERR_CONN_REFUSED', stopped: false });
    assert.equal(judgeOffline({ ...base, now: 13_000, lastFrameAt: 9000, source: null }), null);
    assert.equal(judgeOffline({ ...base, now: 14_000, lastFrameAt: 9000, source: null })!.reason, 'no frame for 5 s');
    assert.equal(judgeOffline({ ...base, now: 6000, lastFrameAt: null, source: null })!.reason, 'no frame received');
    assert.equal(judgeOffline({ ...base, offlineAfterMs: 0, now: 1e9, lastFrameAt: null, source: null }), null, '0 = never');
  });
});
