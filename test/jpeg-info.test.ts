import assert from 'node:assert/strict';
import { JPEG_INVALID, JPEG_NEED_MORE, JpegScanner, isCompleteJpeg, jpegEnd, jpegSize } from '../src/jpeg/jpeg-info';
import { exifJpeg, hdJpeg, makeJpeg, tinyExifJpeg, vgaJpeg } from './support/jpeg-samples';

/** A JPEG-shaped byte string: the walker does not decode, so structure is all that matters. */
function synthetic(ecs: number[], opts: { dhtFirst?: boolean; sof?: number; fill?: boolean } = {}): Buffer {
  const sof = [0xff, opts.sof ?? 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x78, 0x00, 0xa0, 0x01, 0x01, 0x11, 0x00]; // 160x120
  const dht = [0xff, 0xc4, 0x00, 0x06, 0x00, 0x12, 0x34, 0x56];
  const dri = [0xff, 0xdd, 0x00, 0x04, 0x00, 0x08];
  const sos = [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00];
  const fill = opts.fill ? [0xff, 0xff] : [];
  const head = opts.dhtFirst ? [...dht, ...sof] : [...sof, ...dht];
  return Buffer.from([0xff, 0xd8, ...fill, ...head, ...dri, ...sos, ...ecs, 0xff, 0xd9]);
}

describe('jpegSize', () => {
  it('reads the size of real encoded frames', () => {
    assert.deepEqual(jpegSize(vgaJpeg(1)), { width: 640, height: 480 });
    assert.deepEqual(jpegSize(hdJpeg(1)), { width: 1920, height: 1080 });
    assert.deepEqual(jpegSize(makeJpeg(33, 17)), { width: 33, height: 17 });
  });

  it('answers for the main image, not the EXIF thumbnail (160x120) that comes first', () => {
    const img = exifJpeg(1);
    assert.ok(img.indexOf(Buffer.from([0xff, 0xd8]), 2) > 0, 'sample carries an inner SOI');
    assert.deepEqual(jpegSize(img), { width: 640, height: 480 });
  });

  it('skips DHT (C4), which lies in the SOF range, and accepts SOF2 and fill bytes', () => {
    assert.deepEqual(jpegSize(synthetic([1, 2, 3], { dhtFirst: true })), { width: 160, height: 120 });
    assert.deepEqual(jpegSize(synthetic([1, 2, 3], { sof: 0xc2, fill: true })), { width: 160, height: 120 });
    // C8 (JPG) and CC (DAC) are not frame headers either.
    const c8 = synthetic([1], { sof: 0xc8 });
    assert.equal(jpegSize(c8), null);
  });

  it('returns null for non-JPEG, truncated and empty input', () => {
    assert.equal(jpegSize(Buffer.alloc(0)), null);
    assert.equal(jpegSize(Buffer.from('hello world, not a jpeg')), null);
    assert.equal(jpegSize(vgaJpeg(1).subarray(0, 10)), null);
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xd9])), null);
  });
});

describe('isCompleteJpeg', () => {
  it('checks SOI at the start and EOI at the end', () => {
    assert.equal(isCompleteJpeg(vgaJpeg(1)), true);
    assert.equal(isCompleteJpeg(vgaJpeg(1).subarray(0, 1000)), false);
    assert.equal(isCompleteJpeg(vgaJpeg(1).subarray(1)), false);
  });
});

describe('jpegEnd / JpegScanner', () => {
  it('finds the end of real frames, past an EXIF thumbnail', () => {
    for (const img of [vgaJpeg(1), hdJpeg(1), exifJpeg(1), tinyExifJpeg(1)]) assert.equal(jpegEnd(img), img.length);
  });

  it('ends at the first image when two are concatenated', () => {
    const a = exifJpeg(1);
    assert.equal(jpegEnd(Buffer.concat([a, vgaJpeg(2)])), a.length);
  });

  it('treats FF00 stuffing and RSTn in entropy-coded data as data', () => {
    const ecs = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd7, 0xff, 0xff, 0xd1, 0x78, 0xff, 0x00];
    const img = synthetic(ecs);
    assert.equal(jpegEnd(img), img.length);
    assert.equal(jpegEnd(Buffer.concat([img, img])), img.length);
  });

  it('reports truncated and invalid input', () => {
    const img = exifJpeg(1);
    assert.equal(jpegEnd(img.subarray(0, img.length - 1)), JPEG_NEED_MORE);
    // Cut right after the thumbnail's EOI: a naive FFD9 scan would stop there.
    const thumbEnd = img.indexOf(Buffer.from([0xff, 0xd9])) + 2;
    assert.ok(thumbEnd < img.length);
    assert.equal(jpegEnd(img.subarray(0, thumbEnd)), JPEG_NEED_MORE);
    assert.equal(jpegEnd(Buffer.from('not a jpeg')), JPEG_INVALID);
    // A new SOI where a marker is expected is invalid and reported as such.
    const s = new JpegScanner();
    const bad = Buffer.from([0xff, 0xd8, 0xff, 0xd8, 0xff, 0xd9]);
    assert.equal(s.feed(bad, 0, bad.length), JPEG_INVALID);
    assert.equal(s.invalidAtSoi, true);
    assert.equal(s.errorIndex, 3);
  });

  it('gives the same answer fed one byte at a time', () => {
    const img = Buffer.concat([tinyExifJpeg(2), Buffer.from([1, 2, 3])]);
    const s = new JpegScanner();
    let end = JPEG_NEED_MORE;
    for (let i = 0; i < img.length && end === JPEG_NEED_MORE; i++) {
      end = s.feed(img, i, i + 1);
    }
    assert.equal(end, tinyExifJpeg(2).length);
  });
});
