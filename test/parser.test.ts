import assert from 'node:assert/strict';
import { CameraError } from '../src/errors';
import { MjpegParser, parseBoundary } from '../src/parser';
import type { MjpegFrame, MjpegParserOptions } from '../src/parser';
import { chunked, exifJpeg, multipartStream, part, rng, tinyExifJpeg, tinyJpeg, vgaJpeg } from './support/jpeg-samples';

type Opts = Partial<Omit<MjpegParserOptions, 'onFrame' | 'onError'>> & { chunk?: number };

function parse(input: Buffer | Buffer[], opts: Opts = {}) {
  const frames: MjpegFrame[] = [];
  const errors: CameraError[] = [];
  const { chunk, ...rest } = opts;
  const p = new MjpegParser({
    boundary: 'myboundary',
    ...rest,
    onFrame: (f) => frames.push(f),
    onError: (e) => errors.push(e),
  });
  const chunks = Array.isArray(input) ? input : chunked(input, chunk ?? 4096);
  for (const c of chunks) p.push(c);
  p.end();
  return { frames, errors, stats: p.stats, parser: p };
}

function assertFrames(got: MjpegFrame[], want: Buffer[], label = ''): void {
  assert.equal(got.length, want.length, `${label}: ${got.length} frames, expected ${want.length}`);
  got.forEach((f, i) => assert.ok(f.data.equals(want[i]!), `${label}: frame ${i} differs (${f.data.length} vs ${want[i]!.length} bytes)`));
}

/** Every frame emitted must be byte-identical to one of the originals: no wrong or truncated frame. */
function assertOnlyGenuine(got: MjpegFrame[], originals: Buffer[]): void {
  for (const f of got) assert.ok(originals.some((o) => o.equals(f.data)), `emitted a frame of ${f.data.length} bytes that is not an original`);
}

const F = [vgaJpeg(1), vgaJpeg(2), vgaJpeg(3)];
const crlf = Buffer.from('\r\n');

describe('MjpegParser: multipart', () => {
  it('parses an Axis-style stream (Content-Length path), headers lower-cased', () => {
    const { frames, stats, errors } = parse(multipartStream(F), { chunk: 65536 });
    assertFrames(frames, F, 'axis');
    assert.deepEqual(frames[0]!.headers, { 'content-type': 'image/jpeg', 'content-length': String(F[0]!.length) });
    assert.equal(errors.length, 0);
    assert.deepEqual(stats, { frames: 3, bytes: multipartStream(F).length, discardedBytes: 0, droppedParts: 0, resyncs: 0 });
  });

  it('emits a frame as soon as its body is complete, without waiting for the next delimiter', () => {
    const got: MjpegFrame[] = [];
    const p = new MjpegParser({ boundary: 'myboundary', onFrame: (f) => got.push(f) });
    p.push(part(F[0]!)); // delimiter, headers, body, CRLF; the next part has not arrived
    assert.equal(got.length, 1);
    const noCl = new MjpegParser({ boundary: 'myboundary', onFrame: (f) => got.push(f) });
    noCl.push(part(F[1]!, { contentLength: null }));
    assert.equal(got.length, 2, 'also without Content-Length, once the JPEG structure is complete');
    assert.ok(got[1]!.data.equals(F[1]!));
  });

  it('a throwing onFrame leaves the parser consistent: no duplicate, next frames fine', () => {
    for (const contentLength of [undefined, null]) {
      const got: Buffer[] = [];
      let calls = 0;
      const p = new MjpegParser({
        boundary: 'myboundary',
        onFrame: (f) => {
          if (calls++ === 0) throw new Error('consumer bug');
          got.push(f.data);
        },
      });
      assert.throws(() => p.push(part(F[0]!, { contentLength })), /consumer bug/);
      p.push(part(F[1]!, { contentLength }));
      p.push(part(F[2]!, { contentLength }));
      p.end();
      assert.equal(got.length, 2);
      assert.ok(got[0]!.equals(F[1]!) && got[1]!.equals(F[2]!));
      assert.equal(p.stats.frames, 3);
    }
  });

  it('frames are owned copies: changing the input afterwards does not change them', () => {
    const input = Buffer.from(multipartStream([F[0]!], {}));
    const { frames } = parse([input]);
    input.fill(0);
    assert.ok(frames[0]!.data.equals(F[0]!));
  });

  it('parses the same stream without Content-Length (boundary search)', () => {
    for (const chunk of [1000, 4096, 65536]) {
      const { frames, stats } = parse(multipartStream(F, { contentLength: null }), { chunk });
      assertFrames(frames, F, `no CL, ${chunk}`);
      assert.equal(stats.discardedBytes, 0);
      assert.equal(stats.droppedParts, 0);
    }
  });

  describe('boundary spelling', () => {
    const variants: Array<[string, string, string]> = [
      ['header without dashes, wire --b', 'myboundary', 'myboundary'],
      ['header with dashes (--b), wire --b', '--myboundary', 'myboundary'],
      ['header with dashes (--b), wire ----b', '--myboundary', '--myboundary'],
      ['header without dashes, wire ----b', 'myboundary', '--myboundary'],
    ];
    for (const [label, configured, wire] of variants) {
      for (const cl of [true, false]) {
        it(`${label}, ${cl ? 'with' : 'without'} Content-Length`, () => {
          const stream = multipartStream(F, { boundary: wire, contentLength: cl ? undefined : null });
          const { frames, stats } = parse(stream, { boundary: configured, chunk: 7000 });
          assertFrames(frames, F, label);
          assert.equal(stats.resyncs, 0);
          assert.equal(stats.discardedBytes, 0);
        });
      }
    }

    it('boundary from parseBoundary on a Content-Type with dashes', () => {
      const b = parseBoundary('multipart/x-mixed-replace; boundary=--myboundary')!;
      const { frames } = parse(multipartStream(F, { boundary: '--myboundary' }), { boundary: b });
      assertFrames(frames, F, 'parseBoundary');
    });
  });

  it('LF-only line endings, with and without Content-Length', () => {
    for (const contentLength of [undefined, null]) {
      const { frames, stats } = parse(multipartStream(F, { eol: '\n', contentLength }), { chunk: 3000 });
      assertFrames(frames, F, `LF, CL=${contentLength}`);
      assert.equal(stats.resyncs, 0);
    }
  });

  it('no line break at all between a body and the next delimiter', () => {
    for (const contentLength of [undefined, null]) {
      const { frames } = parse(multipartStream(F, { afterBody: '', contentLength }));
      assertFrames(frames, F, `glued, CL=${contentLength}`);
    }
  });

  it('padding after the body (CRLFs, spaces) before the delimiter', () => {
    const { frames, stats } = parse(multipartStream(F, { afterBody: '\r\n\r\n  \r\n' }), { chunk: 2048 });
    assertFrames(frames, F, 'padding');
    assert.equal(stats.resyncs, 0);
    assert.equal(stats.discardedBytes, 0);
  });

  it('keeps extra part headers (X-Timestamp etc.), names lower-cased', () => {
    const { frames } = parse(multipartStream(F, { extraHeaders: { 'X-Timestamp': '1700000000.123', 'X-Frame-Id': '42' } }));
    assertFrames(frames, F, 'extra headers');
    assert.equal(frames[0]!.headers['x-timestamp'], '1700000000.123');
    assert.equal(frames[0]!.headers['x-frame-id'], '42');
  });

  it('ffmpeg -f mpjpeg style: --ffmpeg, Content-type / Content-length spelling', () => {
    const b = parseBoundary('multipart/x-mixed-replace;boundary=ffmpeg');
    assert.equal(b, 'ffmpeg');
    const stream = multipartStream(F, { boundary: 'ffmpeg', contentTypeName: 'Content-type', contentLengthName: 'Content-length' });
    const { frames, stats } = parse(stream, { boundary: b, chunk: 1500 });
    assertFrames(frames, F, 'mpjpeg');
    assert.equal(frames[2]!.headers['content-length'], String(F[2]!.length));
    assert.equal(frames[2]!.headers['content-type'], 'image/jpeg');
    assert.equal(stats.resyncs, 0);
  });

  it('doubled delimiters (an empty part) are skipped', () => {
    const stream = Buffer.concat([
      Buffer.from('--myboundary\r\n'),
      part(F[0]!),
      Buffer.from('--myboundary\r\n--myboundary\r\n'),
      part(F[1]!).subarray('--myboundary\r\n'.length),
    ]);
    const { frames, stats } = parse(stream, { chunk: 999 });
    assertFrames(frames, [F[0]!, F[1]!], 'doubled');
    assert.equal(stats.droppedParts, 0);
  });

  it('a part with no headers at all (JPEG right after the delimiter line)', () => {
    const stream = Buffer.concat([Buffer.from('--myboundary\r\n'), F[0]!, crlf, part(F[1]!)]);
    const { frames } = parse(stream);
    assertFrames(frames, [F[0]!, F[1]!], 'no headers');
  });

  it('closing delimiter ends the body; an epilogue is discarded', () => {
    const epilogue = 'bye now\r\n';
    const stream = Buffer.concat([multipartStream(F), Buffer.from('--myboundary--\r\n' + epilogue)]);
    const { frames, stats } = parse(stream, { chunk: 5000 });
    assertFrames(frames, F, 'closing');
    assert.equal(stats.discardedBytes, epilogue.trimEnd().length);
    // Without CL the last body ends at the closing delimiter.
    const { frames: f2 } = parse(Buffer.concat([multipartStream(F, { contentLength: null }), Buffer.from('--myboundary--')]));
    assertFrames(f2, F, 'closing, no CL');
  });

  it('VLC-style first part with absent, zero or wrong length, then normal parts', () => {
    const rest = multipartStream([F[1]!, F[2]!]);
    for (const contentLength of [null, 0, F[0]!.length - 500, F[0]!.length + 500]) {
      const stream = Buffer.concat([part(F[0]!, { contentLength }), rest]);
      for (const chunk of [1024, 65536]) {
        const { frames } = parse(stream, { chunk });
        assertFrames(frames, F, `first part CL=${contentLength}, chunk ${chunk}`);
      }
    }
  });

  describe('wrong Content-Length', () => {
    for (const delta of [-1, -2, -300, -20000, +1, +2, +300, +20000, +60000]) {
      it(`off by ${delta} on the middle frame: resync, no wrong frame, later frames fine`, () => {
        const frames4 = [...F, vgaJpeg(4)];
        const stream = Buffer.concat([
          part(frames4[0]!),
          part(frames4[1]!, { contentLength: frames4[1]!.length + delta }),
          part(frames4[2]!),
          part(frames4[3]!),
        ]);
        for (const chunk of [512, 4096, 65536]) {
          const { frames, stats } = parse(stream, { chunk });
          assertOnlyGenuine(frames, frames4);
          // A length too long by 1 or 2 only takes in the CR/LF, which is padding.
          if (Math.abs(delta) > 2) assert.ok(stats.resyncs >= 1, `delta ${delta}: resync counted`);
          // Frame 0 and the last frame always survive; with a length too long
          // by less than a whole part, every frame is recovered.
          assert.ok(frames[0]!.data.equals(frames4[0]!));
          assert.ok(frames[frames.length - 1]!.data.equals(frames4[3]!), `delta ${delta}, chunk ${chunk}: last frame`);
          if (Math.abs(delta) < 1000) assertFrames(frames, frames4, `delta ${delta}, chunk ${chunk}`);
        }
      });
    }

    it('a length that swallows whole frames: those are still found by search', () => {
      const frames4 = [...F, vgaJpeg(4)];
      const swallow = part(frames4[1]!).length + part(frames4[2]!).length + 100;
      const stream = Buffer.concat([part(frames4[0]!, { contentLength: swallow }), part(frames4[1]!), part(frames4[2]!), part(frames4[3]!)]);
      const { frames } = parse(stream, { chunk: 8192 });
      assertFrames(frames, frames4, 'swallow');
    });
  });

  it('skips garbage between parts and before the first one, and counts it', () => {
    const rand = rng(7);
    const junk = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
    const g1 = junk(333);
    const g2 = Buffer.from('some text garbage\r\nmore\r\n');
    const g3 = junk(5000);
    for (const contentLength of [undefined, null]) {
      const stream = Buffer.concat([g1, part(F[0]!, { contentLength }), g2, part(F[1]!, { contentLength }), g3, part(F[2]!, { contentLength })]);
      for (const chunk of [100, 4096, 65536]) {
        const { frames, stats } = parse(stream, { chunk });
        assertFrames(frames, F, `garbage, CL=${contentLength}, chunk ${chunk}`);
        const garbage = g1.length + g2.length + g3.length;
        // Trailing line breaks of the text garbage count as framing, not garbage.
        assert.ok(stats.discardedBytes <= garbage && stats.discardedBytes >= garbage - 8, `discarded ${stats.discardedBytes} of ${garbage}`);
        assert.equal(stats.droppedParts, 0);
      }
    }
  });

  it('drops a part whose body is not a JPEG', () => {
    const html = Buffer.from('<html>not a picture</html>');
    for (const contentLength of [undefined, null]) {
      const stream = Buffer.concat([part(F[0]!, { contentLength }), part(html, { contentLength }), part(F[1]!, { contentLength })]);
      const { frames, stats } = parse(stream);
      assertFrames(frames, [F[0]!, F[1]!], 'html part');
      assert.equal(stats.droppedParts, 1);
      assert.ok(stats.discardedBytes >= html.length);
    }
  });

  describe('limits', () => {
    const small = [tinyJpeg(1), tinyJpeg(2)];

    for (const mode of ['cl', 'no-cl', 'raw'] as const) {
      it(`frame over maxFrameBytes (${mode}): ERR_FRAME_TOO_LARGE, next frame fine`, () => {
        const seq = [small[0]!, exifJpeg(1), small[1]!];
        const stream = mode === 'raw' ? Buffer.concat(seq) : multipartStream(seq, { contentLength: mode === 'cl' ? undefined : null });
        for (const chunk of [1000, 65536]) {
          const { frames, errors, stats } = parse(stream, { boundary: mode === 'raw' ? null : 'myboundary', maxFrameBytes: 20000, chunk });
          assertFrames(frames, small, `${mode} ${chunk}`);
          assert.equal(errors.length, 1);
          assert.ok(errors[0] instanceof CameraError);
          assert.equal(errors[0]!.code, 'ERR_FRAME_TOO_LARGE');
          assert.equal(stats.droppedParts, 1);
          assert.ok(stats.discardedBytes >= exifJpeg(1).length - 10);
        }
      });
    }

    it('memory stays bounded while skipping an oversized part without Content-Length', () => {
      const maxFrameBytes = 256 * 1024;
      const frames: MjpegFrame[] = [];
      const errors: CameraError[] = [];
      const p = new MjpegParser({ boundary: 'myboundary', maxFrameBytes, onFrame: (f) => frames.push(f), onError: (e) => errors.push(e) });
      p.push(Buffer.from('--myboundary\r\nContent-Type: image/jpeg\r\n\r\n'));
      p.push(Buffer.from([0xff, 0xd8]));
      const chunk = Buffer.alloc(64 * 1024, 0x11);
      let peak = 0;
      for (let i = 0; i < 160; i++) {
        p.push(chunk); // 10 MiB with no delimiter
        peak = Math.max(peak, p.bufferedBytes);
      }
      assert.ok(peak <= maxFrameBytes + 64 * 1024, `peak ${peak}`);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.code, 'ERR_FRAME_TOO_LARGE');
      p.push(Buffer.concat([crlf, part(tinyJpeg(3))]));
      p.end();
      assertFrames(frames, [tinyJpeg(3)], 'after oversize');
    });

    it('a Content-Length above the limit is refused before buffering anything', () => {
      const p = new MjpegParser({ boundary: 'myboundary', maxFrameBytes: 1000, onFrame: () => assert.fail('no frame') });
      const errors: CameraError[] = [];
      const q = new MjpegParser({ boundary: 'myboundary', maxFrameBytes: 1000, onFrame: () => {}, onError: (e) => errors.push(e) });
      const head = Buffer.from('--myboundary\r\nContent-Length: 900000000\r\n\r\n');
      p.push(head);
      q.push(head);
      q.push(Buffer.alloc(100000, 1));
      assert.ok(q.bufferedBytes < 2000);
      assert.equal(errors[0]!.code, 'ERR_FRAME_TOO_LARGE');
    });

    it('header over maxHeaderBytes: ERR_HEADER_TOO_LARGE, next frame fine', () => {
      const big = 'x'.repeat(20 * 1024);
      for (const chunk of [1000, 65536]) {
        const stream = Buffer.concat([part(F[0]!), part(F[1]!, { extraHeaders: { 'X-Junk': big } }), part(F[2]!)]);
        const { frames, errors, stats } = parse(stream, { chunk });
        assertFrames(frames, [F[0]!, F[2]!], `header limit ${chunk}`);
        assert.equal(errors.length, 1);
        assert.equal(errors[0]!.code, 'ERR_HEADER_TOO_LARGE');
        assert.equal(stats.droppedParts, 1);
      }
      const { errors } = parse(part(F[0]!, { extraHeaders: { 'X-A': 'y'.repeat(200) } }), { maxHeaderBytes: 100 });
      assert.equal(errors[0]?.code, 'ERR_HEADER_TOO_LARGE');
    });

    it('rejects bad options with a typed error', () => {
      assert.throws(() => new MjpegParser({ boundary: 'b', maxFrameBytes: 0, onFrame: () => {} }), { code: 'ERR_INVALID_SETTING' });
      assert.throws(() => new MjpegParser({ boundary: ' ', onFrame: () => {} }), { code: 'ERR_BAD_BOUNDARY' });
    });
  });

  describe('end of stream', () => {
    it('emits a final complete part without closing delimiter, with or without Content-Length', () => {
      for (const contentLength of [undefined, null]) {
        const stream = multipartStream(F, { contentLength, afterBody: '' });
        const { frames } = parse(stream, { chunk: 65536 });
        assertFrames(frames, F, `final part, CL=${contentLength}`);
      }
    });

    it('drops a truncated final part', () => {
      for (const contentLength of [undefined, null]) {
        const whole = multipartStream(F, { contentLength });
        const cut = whole.subarray(0, whole.length - 1000);
        const { frames, stats } = parse(cut);
        assertFrames(frames, [F[0]!, F[1]!], `truncated, CL=${contentLength}`);
        assert.equal(stats.droppedParts, 1);
      }
    });

    it('does not emit a final part cut right after an EXIF thumbnail', () => {
      const img = exifJpeg(1);
      const thumbEnd = img.indexOf(Buffer.from([0xff, 0xd9])) + 2;
      const stream = Buffer.concat([part(F[0]!, { contentLength: null }), part(img.subarray(0, thumbEnd), { contentLength: null, afterBody: '' })]);
      const { frames, stats } = parse(stream);
      assertFrames(frames, [F[0]!], 'cut after thumbnail');
      assert.equal(stats.droppedParts, 1);
    });
  });

  it('EXIF thumbnails inside frames do not cut them (multipart without Content-Length)', () => {
    const ex = [exifJpeg(1), exifJpeg(2), exifJpeg(3)];
    for (const chunk of [1, 300, 4096, 65536]) {
      const { frames } = parse(multipartStream(ex, { contentLength: null }), { chunk });
      assertFrames(frames, ex, `exif no CL, chunk ${chunk}`);
    }
  });

  it('reset() drops a partial part; the parser then takes a new stream', () => {
    const frames: MjpegFrame[] = [];
    const p = new MjpegParser({ boundary: 'myboundary', onFrame: (f) => frames.push(f) });
    const s = multipartStream(F);
    p.push(s.subarray(0, 50000)); // first frame and half of the second
    p.reset();
    p.push(s);
    p.end();
    assertFrames(frames, [F[0]!, ...F], 'reset');
    p.reset(null); // switch to raw for the next stream
    p.push(Buffer.concat(F));
    p.end();
    assert.equal(frames.length, 7);
    assert.equal(p.stats.frames, 7);
  });

  it('after end() a new stream is counted exactly as by a fresh parser', () => {
    // The first stream ends while skipping after its closing delimiter; the
    // second starts with a line break and garbage before its first part.
    const first = Buffer.concat([multipartStream([F[0]!]), Buffer.from('--myboundary--\r\n')]);
    const second = Buffer.concat([Buffer.from('\r\nxx\r\n'), multipartStream([F[1]!])]);
    const fresh = parse(second, { chunk: 65536 }).stats;
    const p = new MjpegParser({ boundary: 'myboundary', onFrame: () => {} });
    p.push(first);
    p.end();
    const before = { ...p.stats };
    p.push(second);
    p.end();
    assert.equal(p.stats.frames - before.frames, fresh.frames);
    assert.equal(p.stats.discardedBytes - before.discardedBytes, fresh.discardedBytes);
    assert.equal(fresh.discardedBytes, 4); // CRLF + "xx"; the CRLF before the delimiter is framing
  });
});

describe('MjpegParser: raw JPEG mode (boundary null)', () => {
  it('splits concatenated JPEGs, EXIF thumbnails included', () => {
    const seq = [exifJpeg(1), vgaJpeg(2), exifJpeg(3)];
    for (const chunk of [1, 1000, 65536]) {
      const { frames, stats } = parse(Buffer.concat(seq), { boundary: null, chunk });
      assertFrames(frames, seq, `raw ${chunk}`);
      assert.deepEqual(frames[0]!.headers, {});
      assert.equal(stats.discardedBytes, 0);
    }
  });

  it('skips and counts bytes between frames and a broken frame', () => {
    const junk = Buffer.from('garbage between frames \xff\x00\xff');
    const broken = Buffer.concat([vgaJpeg(4).subarray(0, 3000), Buffer.from('cut here')]);
    const seq = [vgaJpeg(1), junk, broken, vgaJpeg(2), junk];
    for (const chunk of [7, 4096]) {
      const { frames, stats } = parse(Buffer.concat(seq), { boundary: null, chunk });
      assertFrames(frames, [vgaJpeg(1), vgaJpeg(2)], `raw junk ${chunk}`);
      assert.equal(stats.discardedBytes, junk.length * 2 + broken.length);
      assert.equal(stats.droppedParts, 1);
    }
  });

  it('a truncated JPEG followed by a new SOI restarts at that SOI', () => {
    const seq = [vgaJpeg(4).subarray(0, 600), vgaJpeg(1)];
    const { frames, stats } = parse(Buffer.concat(seq), { boundary: null, chunk: 100 });
    assertFrames(frames, [vgaJpeg(1)], 'restart');
    assert.equal(stats.resyncs, 1);
  });

  it('drops a final incomplete frame at end()', () => {
    const { frames, stats } = parse(Buffer.concat([vgaJpeg(1), vgaJpeg(2).subarray(0, 9000)]), { boundary: null });
    assertFrames(frames, [vgaJpeg(1)], 'raw end');
    assert.equal(stats.droppedParts, 1);
  });
});

describe('MjpegParser: sniff mode (boundary undefined)', () => {
  it('multipart: boundary taken from the first line', () => {
    const { frames, parser } = parse(multipartStream(F, { boundary: 'abc123' }), { boundary: undefined, chunk: 5 });
    assertFrames(frames, F, 'sniff multipart');
    assert.equal(parser.boundary, null, 'reset by end()');
  });

  it('multipart with a leading CRLF and a ----boundary first line', () => {
    const stream = Buffer.concat([crlf, multipartStream(F, { boundary: '--frame' })]);
    const { frames, stats } = parse(stream, { boundary: undefined, chunk: 1 << 16 });
    assertFrames(frames, F, 'sniff ----');
    assert.equal(stats.discardedBytes, 0);
  });

  it('raw JPEG', () => {
    const { frames } = parse(Buffer.concat(F), { boundary: undefined, chunk: 1 });
    assertFrames(frames, F, 'sniff raw');
  });

  it('reports ERR_BAD_BOUNDARY once for a stream that is neither', () => {
    const { frames, errors } = parse(Buffer.alloc(100000, 0x41), { boundary: undefined, maxHeaderBytes: 1024 });
    assert.equal(frames.length, 0);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'ERR_BAD_BOUNDARY');
  });

  it('exposes the mode and boundary it found', () => {
    const p = new MjpegParser({ onFrame: () => {} });
    assert.equal(p.mode, 'sniff');
    p.push(Buffer.from('--myb\r\nContent-Type: image/jpeg\r\n'));
    assert.equal(p.mode, 'multipart');
    assert.equal(p.boundary, 'myb');
    const r = new MjpegParser({ onFrame: () => {} });
    r.push(tinyExifJpeg(1).subarray(0, 10));
    assert.equal(r.mode, 'raw');
  });
});
