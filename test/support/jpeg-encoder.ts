/**
 * A tiny baseline JPEG encoder for decoder tests: greyscale or YCbCr with any
 * luma sampling (4:4:4, 4:2:2, 4:2:0, 4:1:1...), optional restart interval,
 * Annex K tables. jpeg-js can only write 4:2:0 without restart markers; this
 * writes the other layouts real cameras send. Slow (naive DCT): small images only.
 */

export interface EncodeOptions {
  /** 'grey' writes one component; otherwise luma sampling factors h x v, chroma 1x1. */
  sampling?: 'grey' | '444' | '422' | '420' | '411';
  quality?: number;
  /** MCUs per restart interval; 0 = none. */
  restartInterval?: number;
  /** Insert FF fill bytes before each restart marker (allowed by T.81 B.1.1.2). */
  fillBeforeRst?: boolean;
}

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57,
  50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

const Q_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37,
  56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const Q_CHROMA = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

// Annex K.3 tables: counts per length 1..16, then symbols.
const DC_LUMA = { counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const DC_CHROMA = { counts: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const AC_LUMA = {
  counts: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  symbols: hex(
    '01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa',
  ),
};
const AC_CHROMA = {
  counts: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  symbols: hex(
    '000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa',
  ),
};

function hex(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i += 2) out.push(parseInt(s.slice(i, i + 2), 16));
  return out;
}

interface Code {
  code: number[];
  len: number[];
}

function buildCodes(t: { counts: number[]; symbols: number[] }): Code {
  const code: number[] = new Array(256).fill(0);
  const len: number[] = new Array(256).fill(0);
  let c = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    for (let i = 0; i < t.counts[l - 1]!; i++) {
      code[t.symbols[k]!] = c++;
      len[t.symbols[k++]!] = l;
    }
    c <<= 1;
  }
  return { code, len };
}

function scaleQ(base: number[], quality: number): number[] {
  const q = Math.max(1, Math.min(100, quality));
  const f = q < 50 ? 5000 / q : 200 - q * 2;
  return base.map((v) => Math.max(1, Math.min(255, Math.floor((v * f + 50) / 100))));
}

class BitWriter {
  bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0;
    this.n = 0;
  }
  /** Pad the last byte with 1 bits (T.81 F.1.2.3). */
  align(): void {
    while (this.n !== 0) this.write(1, 1);
  }
}

const COS = Array.from({ length: 8 }, (_, x) => Array.from({ length: 8 }, (_, u) => Math.cos(((2 * x + 1) * u * Math.PI) / 16)));

function fdct(block: Float64Array): Float64Array {
  const out = new Float64Array(64);
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += block[y * 8 + x]! * COS[x]![u]! * COS[y]![v]!;
      const cu = u === 0 ? Math.SQRT1_2 : 1;
      const cv = v === 0 ? Math.SQRT1_2 : 1;
      out[v * 8 + u] = 0.25 * cu * cv * s;
    }
  }
  return out;
}

function magnitude(v: number): { size: number; bits: number } {
  const a = Math.abs(v);
  let size = 0;
  while (a >> size) size++;
  return { size, bits: v < 0 ? v + (1 << size) - 1 : v };
}

/** Encodes RGBA pixels (greyscale: their luma). Returns a complete JFIF-style baseline JPEG. */
export function encodeJpeg(rgba: Uint8Array, width: number, height: number, opts: EncodeOptions = {}): Buffer {
  const sampling = opts.sampling ?? '420';
  const quality = opts.quality ?? 75;
  const ri = opts.restartInterval ?? 0;
  const [hY, vY] = { grey: [1, 1], '444': [1, 1], '422': [2, 1], '420': [2, 2], '411': [4, 1] }[sampling]!;
  const grey = sampling === 'grey';

  // Planes at full resolution.
  const planes = [new Float64Array(width * height), new Float64Array(width * height), new Float64Array(width * height)];
  for (let i = 0; i < width * height; i++) {
    const r = rgba[i * 4]!;
    const g = rgba[i * 4 + 1]!;
    const b = rgba[i * 4 + 2]!;
    planes[0]![i] = 0.299 * r + 0.587 * g + 0.114 * b;
    planes[1]![i] = -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
    planes[2]![i] = 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
  }
  const qY = scaleQ(Q_LUMA, quality);
  const qC = scaleQ(Q_CHROMA, quality);
  const comps = grey
    ? [{ id: 1, h: 1, v: 1, q: qY, tq: 0, dc: buildCodes(DC_LUMA), ac: buildCodes(AC_LUMA), t: 0x00 }]
    : [
        { id: 1, h: hY!, v: vY!, q: qY, tq: 0, dc: buildCodes(DC_LUMA), ac: buildCodes(AC_LUMA), t: 0x00 },
        { id: 2, h: 1, v: 1, q: qC, tq: 1, dc: buildCodes(DC_CHROMA), ac: buildCodes(AC_CHROMA), t: 0x11 },
        { id: 3, h: 1, v: 1, q: qC, tq: 1, dc: buildCodes(DC_CHROMA), ac: buildCodes(AC_CHROMA), t: 0x11 },
      ];
  const hMax = grey ? 1 : hY!;
  const vMax = grey ? 1 : vY!;

  // Sample component c at block coordinates with edge replication (and box-averaged subsampling).
  function sample(c: number, bx: number, by: number): Float64Array {
    const comp = comps[c]!;
    const sx = hMax / comp.h;
    const sy = vMax / comp.v;
    const out = new Float64Array(64);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        let s = 0;
        for (let dy = 0; dy < sy; dy++) {
          for (let dx = 0; dx < sx; dx++) {
            const px = Math.min(width - 1, (bx * 8 + x) * sx + dx);
            const py = Math.min(height - 1, (by * 8 + y) * sy + dy);
            s += planes[c]![py * width + px]!;
          }
        }
        out[y * 8 + x] = s / (sx * sy) - 128;
      }
    }
    return out;
  }

  const w = new BitWriter();
  const preds = [0, 0, 0];
  function encodeBlock(c: number, bx: number, by: number): void {
    const comp = comps[c]!;
    const coef = fdct(sample(c, bx, by));
    const zz = ZIGZAG.map((p, i) => Math.round(coef[p]! / comp.q[i]!));
    const diff = zz[0]! - preds[c]!;
    preds[c] = zz[0]!;
    const d = magnitude(diff);
    w.write(comp.dc.code[d.size]!, comp.dc.len[d.size]!);
    if (d.size) w.write(d.bits, d.size);
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = zz[k]!;
      if (v === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        w.write(comp.ac.code[0xf0]!, comp.ac.len[0xf0]!);
        run -= 16;
      }
      const m = magnitude(v);
      const sym = (run << 4) | m.size;
      w.write(comp.ac.code[sym]!, comp.ac.len[sym]!);
      w.write(m.bits, m.size);
      run = 0;
    }
    if (run > 0) w.write(comp.ac.code[0]!, comp.ac.len[0]!);
  }

  const mcusX = grey ? Math.ceil(width / 8) : Math.ceil(width / (8 * hMax));
  const mcusY = grey ? Math.ceil(height / 8) : Math.ceil(height / (8 * vMax));
  let mcu = 0;
  let rst = 0;
  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      if (ri && mcu > 0 && mcu % ri === 0) {
        w.align();
        if (opts.fillBeforeRst) w.bytes.push(0xff, 0xff);
        w.bytes.push(0xff, 0xd0 + (rst++ & 7));
        preds.fill(0);
      }
      for (let c = 0; c < comps.length; c++) {
        const comp = comps[c]!;
        for (let y = 0; y < comp.v; y++) for (let x = 0; x < comp.h; x++) encodeBlock(c, mx * comp.h + x, my * comp.v + y);
      }
      mcu++;
    }
  }
  w.align();

  const out: number[] = [0xff, 0xd8];
  const seg = (marker: number, body: number[]) => out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  seg(0xdb, [0x00, ...qY]);
  if (!grey) seg(0xdb, [0x01, ...qC]);
  seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, comps.length, ...comps.flatMap((c) => [c.id, (c.h << 4) | c.v, c.tq])]);
  seg(0xc4, [0x00, ...DC_LUMA.counts, ...DC_LUMA.symbols, 0x10, ...AC_LUMA.counts, ...AC_LUMA.symbols]);
  if (!grey) seg(0xc4, [0x01, ...DC_CHROMA.counts, ...DC_CHROMA.symbols, 0x11, ...AC_CHROMA.counts, ...AC_CHROMA.symbols]);
  if (ri) seg(0xdd, [ri >> 8, ri & 0xff]);
  seg(0xda, [comps.length, ...comps.flatMap((c) => [c.id, c.t]), 0, 63, 0]);
  const head = Buffer.from(out);
  return Buffer.concat([head, Buffer.from(w.bytes), Buffer.from([0xff, 0xd9])]);
}
