import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeDcGrey, GreyImage, JpegDecodeError } from '../src/jpeg/dc-decoder';
import { encodeJpeg, EncodeOptions } from './support/jpeg-encoder';
import { hdJpeg, rng, vgaJpeg } from './support/jpeg-samples';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const jpeg = require('jpeg-js') as {
  encode(img: { data: Buffer; width: number; height: number }, quality?: number): { data: Buffer };
  decode(buf: Buffer, opts: Record<string, unknown>): { data: Uint8Array; width: number; height: number };
};

/** Agreed tolerance: mean |block mean - DC value| in grey levels. */
const MAX_MEAN_ABS_DIFF = 2;

/** A scene with gradients, hard-edged boxes and noise, so DC values vary a lot. */
function scene(width: number, height: number, seed = 3): Buffer {
  const rand = rng(seed);
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const box = x > width / 4 && x < width / 2 && y > height / 3 && y < (2 * height) / 3;
      const n = (rand() - 0.5) * 30;
      data[i] = clamp(box ? 240 + n : (x / width) * 255 + n);
      data[i + 1] = clamp(box ? 20 + n : (y / height) * 200 + 30 * Math.sin(x / 7) + n);
      data[i + 2] = clamp(box ? 60 : ((x + y) / (width + height)) * 255 - n);
      data[i + 3] = 255;
    }
  }
  return data;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** Mean of the luma of each whole 8x8 block, from jpeg-js's full decode (no colour transform: channel 0 is Y). */
function referenceBlockMeans(buf: Buffer): { w: number; h: number; means: Float64Array; imgW: number; imgH: number } {
  const img = jpeg.decode(buf, { colorTransform: false, formatAsRGBA: true, useTArray: true });
  const w = Math.floor(img.width / 8);
  const h = Math.floor(img.height / 8);
  const means = new Float64Array(w * h);
  for (let by = 0; by < h; by++) {
    for (let bx = 0; bx < w; bx++) {
      let s = 0;
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += img.data[((by * 8 + y) * img.width + bx * 8 + x) * 4]!;
      means[by * w + bx] = s / 64;
    }
  }
  return { w, h, means, imgW: img.width, imgH: img.height };
}

function compare(buf: Buffer): { meanAbs: number; grey: GreyImage } {
  const grey = decodeDcGrey(buf);
  const ref = referenceBlockMeans(buf);
  assert.equal(grey.imageWidth, ref.imgW);
  assert.equal(grey.imageHeight, ref.imgH);
  assert.equal(grey.width, Math.ceil(ref.imgW / 8));
  assert.equal(grey.height, Math.ceil(ref.imgH / 8));
  let sum = 0;
  for (let by = 0; by < ref.h; by++) for (let bx = 0; bx < ref.w; bx++) sum += Math.abs(grey.data[by * grey.width + bx]! - ref.means[by * ref.w + bx]!);
  return { meanAbs: sum / (ref.w * ref.h), grey };
}

function assertClose(buf: Buffer): GreyImage {
  const { meanAbs, grey } = compare(buf);
  assert.ok(meanAbs <= MAX_MEAN_ABS_DIFF, `mean abs diff ${meanAbs.toFixed(2)} > ${MAX_MEAN_ABS_DIFF}`);
  // The picture is not flat: a decoder returning a constant would not pass by luck.
  const distinct = new Set(grey.data).size;
  assert.ok(distinct > 20, `only ${distinct} distinct grey values`);
  return grey;
}

function expectCode(buf: Uint8Array, code: string): void {
  assert.throws(
    () => decodeDcGrey(buf),
    (e: unknown) => e instanceof JpegDecodeError && e.code === code,
  );
}

describe('DC-only JPEG decoder', () => {
  describe('matches the block means of a full jpeg-js decode', () => {
    it('4:2:0 from jpeg-js (VGA and 1080p samples)', () => {
      assertClose(vgaJpeg(1));
      const g = assertClose(hdJpeg(1));
      assert.equal(g.width, 240);
      assert.equal(g.height, 135);
    });

    it('4:2:0 from jpeg-js, size not a multiple of 16 (partial MCUs)', () => {
      assertClose(Buffer.from(jpeg.encode({ data: scene(203, 117), width: 203, height: 117 }, 85).data));
    });

    const layouts: [string, EncodeOptions][] = [
      ['4:4:4', { sampling: '444' }],
      ['4:2:2', { sampling: '422' }],
      ['4:2:0', { sampling: '420' }],
      ['4:1:1', { sampling: '411' }],
      ['greyscale', { sampling: 'grey' }],
      ['4:2:0 with restart interval 1', { sampling: '420', restartInterval: 1 }],
      ['4:2:2 with restart interval 7', { sampling: '422', restartInterval: 7 }],
      ['greyscale with restart interval 5', { sampling: 'grey', restartInterval: 5 }],
      ['4:4:4 at quality 95', { sampling: '444', quality: 95 }],
      ['4:2:0 at quality 20', { sampling: '420', quality: 20 }],
    ];
    for (const [label, opts] of layouts) {
      it(`${label} (own test encoder)`, () => {
        assertClose(encodeJpeg(scene(160, 120), 160, 120, opts));
      });
    }

    it('FF fill bytes before restart markers (jpeg-js cannot read them): same result as without', () => {
      const img = scene(160, 120);
      const plain = encodeJpeg(img, 160, 120, { sampling: '422', restartInterval: 7 });
      const filled = encodeJpeg(img, 160, 120, { sampling: '422', restartInterval: 7, fillBeforeRst: true });
      assert.ok(filled.length > plain.length);
      assert.deepEqual(decodeDcGrey(filled).data, assertClose(plain).data);
    });

    it('odd sizes for every layout', () => {
      for (const sampling of ['444', '422', '420', 'grey'] as const) {
        assertClose(encodeJpeg(scene(75, 53, 9), 75, 53, { sampling, restartInterval: 3 }));
      }
    });
  });

  describe('ffmpeg JPEGs (skipped without ffmpeg)', function () {
    this.timeout(30_000);
    let dir = '';
    const hasFfmpeg = (() => {
      try {
        execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    before(function () {
      if (!hasFfmpeg) {
        // eslint-disable-next-line no-console
        console.log('      (ffmpeg not installed: skipping ffmpeg-encoded JPEG checks)');
        this.skip();
      }
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcdec-'));
    });
    after(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    function ffjpeg(name: string, args: string[]): Buffer {
      const file = path.join(dir, name);
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1', ...args, file]);
      return fs.readFileSync(file);
    }

    for (const [label, args] of [
      ['yuvj444p', ['-pix_fmt', 'yuvj444p']],
      ['yuvj422p', ['-pix_fmt', 'yuvj422p']],
      ['yuvj420p, optimal Huffman tables', ['-pix_fmt', 'yuvj420p', '-huffman', 'optimal']],
      ['gray', ['-pix_fmt', 'gray']],
    ] as [string, string[]][]) {
      it(label, () => {
        assertClose(ffjpeg(`${label.replace(/\W+/g, '_')}.jpg`, args));
      });
    }
  });

  describe('refuses what it cannot decode with a typed error, never a hang', () => {
    it('not a JPEG', () => {
      expectCode(Buffer.from('hello world'), 'ERR_NOT_JPEG');
      expectCode(Buffer.alloc(0), 'ERR_NOT_JPEG');
      expectCode(Buffer.from([0xff, 0xd8]), 'ERR_NOT_JPEG');
    });

    it('progressive JPEG (SOF2)', () => {
      const buf = Buffer.from(encodeJpeg(scene(32, 32), 32, 32, { sampling: '444' }));
      const sof = buf.indexOf(Buffer.from([0xff, 0xc0]));
      buf[sof + 1] = 0xc2;
      expectCode(buf, 'ERR_JPEG_PROGRESSIVE');
    });

    it('arithmetic-coded and lossless JPEGs', () => {
      for (const m of [0xc3, 0xc9]) {
        const buf = Buffer.from(encodeJpeg(scene(16, 16), 16, 16, { sampling: 'grey' }));
        buf[buf.indexOf(Buffer.from([0xff, 0xc0])) + 1] = m;
        expectCode(buf, 'ERR_JPEG_UNSUPPORTED');
      }
    });

    it('truncated at every eighth byte: an error or (near the end) a result, never anything else', () => {
      const full = encodeJpeg(scene(64, 48), 64, 48, { sampling: '420', restartInterval: 2 });
      const sosEnd = full.indexOf(Buffer.from([0xff, 0xda])) + 14;
      let errors = 0;
      for (let cut = 2; cut < full.length - 2; cut += 8) {
        try {
          decodeDcGrey(full.subarray(0, cut));
        } catch (e) {
          assert.ok(e instanceof JpegDecodeError, String(e));
          errors++;
          continue;
        }
        // Only a cut inside the last few bytes of entropy data may still decode.
        assert.ok(cut > full.length - 16, `cut at ${cut} of ${full.length} decoded`);
      }
      assert.ok(errors > 10);
      // Cut right after the scan header: no image data at all.
      expectCode(full.subarray(0, sosEnd + 1), 'ERR_JPEG_TRUNCATED');
    });

    it('random garbage after a valid header, and random bytes overall (fuzz, bounded)', () => {
      const good = encodeJpeg(scene(64, 48), 64, 48, { sampling: '420' });
      const rand = rng(42);
      for (let i = 0; i < 300; i++) {
        const buf = Buffer.from(good);
        const flips = 1 + Math.floor(rand() * 20);
        for (let f = 0; f < flips; f++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
        try {
          const g = decodeDcGrey(buf);
          assert.equal(g.data.length, g.width * g.height);
        } catch (e) {
          assert.ok(e instanceof JpegDecodeError, `iteration ${i}: ${String(e)}`);
        }
      }
      for (let i = 0; i < 300; i++) {
        const buf = Buffer.alloc(50 + Math.floor(rand() * 2000));
        for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
        buf[0] = 0xff;
        buf[1] = 0xd8;
        assert.throws(() => decodeDcGrey(buf), JpegDecodeError);
      }
    });

    it('huge declared size is refused before allocating', () => {
      const buf = Buffer.from(encodeJpeg(scene(16, 16), 16, 16, { sampling: 'grey' }));
      const sof = buf.indexOf(Buffer.from([0xff, 0xc0]));
      buf.writeUInt16BE(60000, sof + 5);
      buf.writeUInt16BE(60000, sof + 7);
      expectCode(buf, 'ERR_JPEG_UNSUPPORTED');
    });

    it('a scan that names an undefined Huffman table', () => {
      const buf = Buffer.from(encodeJpeg(scene(16, 16), 16, 16, { sampling: 'grey' }));
      const sos = buf.indexOf(Buffer.from([0xff, 0xda]));
      buf[sos + 6] = 0x33; // Td=3, Ta=3
      expectCode(buf, 'ERR_JPEG_CORRUPT');
    });
  });
});
