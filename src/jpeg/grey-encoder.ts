/**
 * A small baseline JPEG encoder for greyscale pictures the package draws
 * itself (the relay's "camera offline" picture). Standard Annex K tables, no
 * subsampling, no restart markers: every decoder reads it, Safari's included
 * (it refuses JPEGs without Huffman tables).
 *
 * Such pictures are mostly flat background, so an 8x8 block of one value is
 * coded from its DC term alone without a DCT; the rest use a separable DCT.
 * A 1920x1080 picture takes a few ms.
 */

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57,
  50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/** T.81 Annex K.1 luminance quantisation, scaled by quality as libjpeg does. */
const Q_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37,
  56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** Annex K.3 luminance Huffman tables: code counts per length 1..16, then symbols. */
const DC_COUNTS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_SYMBOLS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_COUNTS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_SYMBOLS = Buffer.from(
  '01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa',
  'hex',
);

interface Codes {
  code: Uint16Array;
  len: Uint8Array;
}

function buildCodes(counts: number[], symbols: ArrayLike<number>): Codes {
  const code = new Uint16Array(256);
  const len = new Uint8Array(256);
  let c = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    for (let i = 0; i < counts[l - 1]!; i++) {
      code[symbols[k]!] = c++;
      len[symbols[k++]!] = l;
    }
    c <<= 1;
  }
  return { code, len };
}

const DC = buildCodes(DC_COUNTS, DC_SYMBOLS);
const AC = buildCodes(AC_COUNTS, AC_SYMBOLS);

/** cos((2x+1)uπ/16) with the DCT's normalisation folded in. */
const DCT = new Float64Array(64);
for (let u = 0; u < 8; u++) for (let x = 0; x < 8; x++) DCT[u * 8 + x] = 0.5 * (u === 0 ? Math.SQRT1_2 : 1) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);

class BitWriter {
  private buf = Buffer.alloc(64 * 1024);
  private pos = 0;
  private acc = 0;
  private n = 0;

  write(value: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) {
        this.byte(this.acc);
        // Byte stuffing (T.81 F.1.2.3).
        if (this.acc === 0xff) this.byte(0);
        this.acc = 0;
        this.n = 0;
      }
    }
  }

  private byte(b: number): void {
    if (this.pos === this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger);
      this.buf = bigger;
    }
    this.buf[this.pos++] = b;
  }

  /** Pads the last byte with 1 bits and returns the entropy-coded bytes. */
  finish(): Buffer {
    while (this.n !== 0) this.write(1, 1);
    return this.buf.subarray(0, this.pos);
  }
}

function magnitudeSize(v: number): number {
  let a = Math.abs(v);
  let size = 0;
  while (a) {
    size++;
    a >>= 1;
  }
  return size;
}

function writeValue(w: BitWriter, v: number, size: number): void {
  if (size) w.write(v < 0 ? v + (1 << size) - 1 : v, size);
}

/**
 * Encodes `luma` (width*height bytes, row by row) as a greyscale baseline JPEG.
 * quality 1..100, as libjpeg's.
 */
export function encodeGreyJpeg(luma: Uint8Array, width: number, height: number, quality = 80): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 65535 || height > 65535) {
    throw new RangeError(`JPEG size must be 1..65535 pixels each way, not ${width}x${height}`);
  }
  if (luma.length < width * height) throw new RangeError('luma has fewer than width*height bytes');
  const q = Math.max(1, Math.min(100, Math.round(quality)));
  const f = q < 50 ? 5000 / q : 200 - q * 2;
  const quant = Q_LUMA.map((v) => Math.max(1, Math.min(255, Math.floor((v * f + 50) / 100))));
  // In zigzag order, as the DQT segment and the coefficient loop use them.
  const quantZz = ZIGZAG.map((p) => quant[p]!);

  const w = new BitWriter();
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  const coef = new Float64Array(64);
  let pred = 0;
  const bw = Math.ceil(width / 8);
  const bh = Math.ceil(height / 8);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      // Edge blocks repeat the last column/row.
      let flat = true;
      const first = luma[Math.min(height - 1, by * 8) * width + Math.min(width - 1, bx * 8)]!;
      for (let y = 0; y < 8; y++) {
        const row = Math.min(height - 1, by * 8 + y) * width;
        for (let x = 0; x < 8; x++) {
          const v = luma[row + Math.min(width - 1, bx * 8 + x)]!;
          if (v !== first) flat = false;
          block[y * 8 + x] = v - 128;
        }
      }
      let dc: number;
      if (flat) {
        // DC of a constant block: 8 × (value − 128).
        dc = Math.round((8 * (first - 128)) / quantZz[0]!);
        coef.fill(0);
      } else {
        // Rows, then columns.
        for (let y = 0; y < 8; y++) {
          for (let u = 0; u < 8; u++) {
            let s = 0;
            for (let x = 0; x < 8; x++) s += block[y * 8 + x]! * DCT[u * 8 + x]!;
            tmp[y * 8 + u] = s;
          }
        }
        for (let u = 0; u < 8; u++) {
          for (let v = 0; v < 8; v++) {
            let s = 0;
            for (let y = 0; y < 8; y++) s += tmp[y * 8 + u]! * DCT[v * 8 + y]!;
            coef[v * 8 + u] = s;
          }
        }
        dc = Math.round(coef[0]! / quantZz[0]!);
      }
      const diff = dc - pred;
      pred = dc;
      const ds = magnitudeSize(diff);
      w.write(DC.code[ds]!, DC.len[ds]!);
      writeValue(w, diff, ds);
      let run = 0;
      if (!flat) {
        for (let k = 1; k < 64; k++) {
          const v = Math.round(coef[ZIGZAG[k]!]! / quantZz[k]!);
          if (v === 0) {
            run++;
            continue;
          }
          while (run > 15) {
            w.write(AC.code[0xf0]!, AC.len[0xf0]!);
            run -= 16;
          }
          const s = magnitudeSize(v);
          const sym = (run << 4) | s;
          w.write(AC.code[sym]!, AC.len[sym]!);
          writeValue(w, v, s);
          run = 0;
        }
      } else {
        run = 63;
      }
      if (run > 0) w.write(AC.code[0]!, AC.len[0]!);
    }
  }
  const scan = w.finish();

  const head: number[] = [0xff, 0xd8];
  const seg = (marker: number, body: number[]): void => {
    head.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  };
  seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  seg(0xdb, [0x00, ...quantZz]);
  seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  seg(0xc4, [0x00, ...DC_COUNTS, ...DC_SYMBOLS, 0x10, ...AC_COUNTS, ...AC_SYMBOLS]);
  seg(0xda, [1, 1, 0x00, 0, 63, 0]);
  return Buffer.concat([Buffer.from(head), scan, Buffer.from([0xff, 0xd9])]);
}
