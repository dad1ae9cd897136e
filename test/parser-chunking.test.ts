/**
 * Chunking must never change the result: a delimiter, a header line or a JPEG
 * marker split at any byte gives the same frames, byte for byte.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MjpegParser } from '../src/parser';
import type { ParserStats } from '../src/parser';
import { multipartStream, part, splitAt, tinyExifJpeg, tinyJpeg } from './support/jpeg-samples';

interface Result {
  frames: Buffer[];
  stats: ParserStats;
  errors: string[];
}

function run(chunks: Buffer[], boundary: string | null | undefined, maxFrameBytes?: number): Result {
  const frames: Buffer[] = [];
  const errors: string[] = [];
  const p = new MjpegParser({ boundary, maxFrameBytes, onFrame: (f) => frames.push(f.data), onError: (e) => errors.push(e.code) });
  for (const c of chunks) p.push(c);
  p.end();
  return { frames, stats: { ...p.stats }, errors };
}

const FRAMES = [tinyJpeg(1), tinyExifJpeg(2), tinyJpeg(3, 20, 12)];

interface Scenario {
  name: string;
  stream: Buffer;
  boundary: string | null | undefined;
  expected: Buffer[];
}

const scenarios: Scenario[] = [
  { name: 'multipart with Content-Length', stream: multipartStream(FRAMES), boundary: 'myboundary', expected: FRAMES },
  {
    name: 'multipart without Content-Length',
    stream: multipartStream(FRAMES, { contentLength: null }),
    boundary: 'myboundary',
    expected: FRAMES,
  },
  {
    name: 'LF-only, ----boundary on the wire, extra headers',
    stream: multipartStream(FRAMES, { eol: '\n', boundary: '--myboundary', extraHeaders: { 'X-Timestamp': '12345' } }),
    boundary: '--myboundary',
    expected: FRAMES,
  },
  {
    name: 'wrong Content-Length (short, long), garbage, closing delimiter',
    stream: Buffer.concat([
      Buffer.from('preamble\r\n'),
      part(FRAMES[0]!, { contentLength: FRAMES[0]!.length - 40 }),
      Buffer.from('junk'),
      part(FRAMES[1]!, { contentLength: FRAMES[1]!.length + 40 }),
      part(FRAMES[2]!),
      Buffer.from('--myboundary--\r\n'),
    ]),
    boundary: 'myboundary',
    expected: FRAMES,
  },
  { name: 'raw JPEG', stream: Buffer.concat([FRAMES[0]!, Buffer.from('\r\n'), ...FRAMES.slice(1)]), boundary: null, expected: FRAMES },
  { name: 'sniffed multipart', stream: Buffer.concat([Buffer.from('\r\n'), multipartStream(FRAMES)]), boundary: undefined, expected: FRAMES },
  { name: 'sniffed raw', stream: Buffer.concat(FRAMES), boundary: undefined, expected: FRAMES },
];

function assertSame(got: Result, want: Result, label: string): void {
  assert.equal(got.frames.length, want.frames.length, `${label}: frame count`);
  got.frames.forEach((f, i) => assert.ok(f.equals(want.frames[i]!), `${label}: frame ${i} differs`));
  assert.deepEqual(got.stats, want.stats, `${label}: stats`);
  assert.deepEqual(got.errors, want.errors, `${label}: errors`);
}

describe('MjpegParser: chunking does not matter', () => {
  for (const sc of scenarios) {
    describe(sc.name, () => {
      const whole = run([sc.stream], sc.boundary);

      it('whole stream in one chunk gives the expected frames', () => {
        assert.equal(whole.frames.length, sc.expected.length);
        whole.frames.forEach((f, i) => assert.ok(f.equals(sc.expected[i]!), `frame ${i}`));
      });

      it(`split into two chunks at every one of ${sc.stream.length} positions`, () => {
        for (let i = 1; i < sc.stream.length; i++) {
          assertSame(run(splitAt(sc.stream, [i]), sc.boundary), whole, `cut at ${i}`);
        }
      });

      it('one byte at a time', () => {
        assertSame(run(splitAt(sc.stream, Array.from({ length: sc.stream.length }, (_, i) => i)), sc.boundary), whole, 'bytewise');
      });

      it('any chunking (property)', () => {
        fc.assert(
          fc.property(fc.array(fc.integer({ min: 1, max: sc.stream.length - 1 }), { maxLength: 40 }), (cuts) => {
            assertSame(run(splitAt(sc.stream, cuts), sc.boundary), whole, `cuts ${cuts.join(',')}`);
          }),
          { numRuns: 300 },
        );
      });
    });
  }

  it('over-limit frames are dropped the same way whatever the chunking', () => {
    const stream = multipartStream(FRAMES, { contentLength: null });
    const whole = run([stream], 'myboundary', 1000); // the EXIF frame (~1.5 KB) is over the limit
    assert.equal(whole.frames.length, 2);
    assert.deepEqual(whole.errors, ['ERR_FRAME_TOO_LARGE']);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 30 }), (cuts) => {
        assertSame(run(splitAt(stream, cuts), 'myboundary', 1000), whole, 'limit');
      }),
      { numRuns: 200 },
    );
  });
});
