import assert from 'node:assert/strict';
import { normalizeBoundary, parseBoundary } from '../src/parser';

describe('parseBoundary', () => {
  const cases: Array<[string, string | null]> = [
    ['multipart/x-mixed-replace; boundary=myboundary', 'myboundary'], // Axis
    ['multipart/x-mixed-replace;boundary=ffmpeg', 'ffmpeg'], // ffmpeg mpjpeg
    ['multipart/x-mixed-replace; boundary=--myboundary', 'myboundary'], // leading dashes in the value
    ['multipart/x-mixed-replace; boundary="--myboundary"', 'myboundary'],
    ['multipart/x-mixed-replace; boundary="my boundary;x=1"', 'my boundary;x=1'], // quoted, with ; inside
    ['multipart/x-mixed-replace; BOUNDARY=FooBar', 'FooBar'], // name case-insensitive, value kept
    ['Multipart/X-Mixed-Replace; Boundary = frame ', 'frame'],
    ['multipart/x-mixed-replace; charset=utf-8; boundary="frame"', 'frame'],
    ['multipart/x-mixed-replace; boundary="a\\"b"', 'a"b'], // backslash escape in a quoted string
    ['multipart/x-mixed-replace', null],
    ['multipart/x-mixed-replace; boundary=', null],
    ['multipart/x-mixed-replace; boundary=""', null],
    ['multipart/x-mixed-replace; boundary=--', null],
    ['image/jpeg', null],
    ['', null],
  ];
  for (const [ct, want] of cases) {
    it(`${JSON.stringify(ct)} -> ${JSON.stringify(want)}`, () => {
      assert.equal(parseBoundary(ct), want);
    });
  }

  it('returns null for a missing header', () => {
    assert.equal(parseBoundary(undefined), null);
    assert.equal(parseBoundary(null), null);
  });

  it('does not take a parameter that only ends in "boundary"', () => {
    assert.equal(parseBoundary('multipart/x-mixed-replace; xboundary=abc'), null);
  });

  it('normalizeBoundary strips one leading "--" only', () => {
    assert.equal(normalizeBoundary('--abc'), 'abc');
    assert.equal(normalizeBoundary('----abc'), '--abc');
    assert.equal(normalizeBoundary('abc'), 'abc');
  });
});
