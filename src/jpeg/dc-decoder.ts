/**
 * DC-only baseline JPEG decoder: a 1/8-scale grey image, one value per 8x8
 * luma block, for motion detection.
 *
 * The DC coefficient of a block is 8x the mean of its 64 samples (minus the
 * level shift), so DC * q0 / 8 + 128 is the block's mean grey without any IDCT.
 * Every block (chroma too) must still be Huffman-decoded to walk the bit
 * stream, but AC coefficients are only skipped: one lookahead-table read per
 * coefficient when code + extra bits fit in LOOKAHEAD_BITS.
 *
 * Only sequential Huffman JPEGs (SOF0, SOF1) are read; progressive, lossless,
 * hierarchical and arithmetic-coded files give a JpegDecodeError with a code.
 * Every read is bounds-checked and every loop is bounded by the block count,
 * so garbage input ends in an error, never a hang.
 */

import { EOB_ADVANCE, HuffmanTable, LOOKAHEAD_BITS, buildHuffmanTable } from './huffman';

export const JpegErrorCodes = {
  /** No SOI: not a JPEG at all. Same code as CameraError's, so flows can match one code. */
  NOT_JPEG: 'ERR_NOT_JPEG',
  /** Progressive (SOF2/6/10/14): valid but not decodable without every scan. */
  PROGRESSIVE: 'ERR_JPEG_PROGRESSIVE',
  /** Lossless, hierarchical, arithmetic coding, DNL height, 12-bit tables beyond range. */
  UNSUPPORTED: 'ERR_JPEG_UNSUPPORTED',
  /** Structure or entropy data makes no sense. */
  CORRUPT: 'ERR_JPEG_CORRUPT',
  /** Ends before the luma data does. */
  TRUNCATED: 'ERR_JPEG_TRUNCATED',
} as const;

export type JpegErrorCode = (typeof JpegErrorCodes)[keyof typeof JpegErrorCodes];

export class JpegDecodeError extends Error {
  readonly code: JpegErrorCode;
  constructor(code: JpegErrorCode, message: string) {
    super(message);
    this.name = 'JpegDecodeError';
    this.code = code;
  }
}

export function isJpegDecodeError(e: unknown): e is JpegDecodeError {
  return e instanceof JpegDecodeError;
}

/** The 1/8-scale picture: `data[y * width + x]` is the mean grey of luma block (x, y). */
export interface GreyImage {
  /** Blocks across (ceil(luma width / 8)). */
  width: number;
  /** Blocks down. */
  height: number;
  data: Uint8Array;
  /** Size of the JPEG in pixels. */
  imageWidth: number;
  imageHeight: number;
}

/** Larger frames are refused before allocating anything (a 16K camera is far off). */
export const MAX_DIMENSION = 16384;
/** Zero bytes fed past the end of the entropy data before the data counts as truncated. */
const MAX_PAD_BYTES = 16;
const LOOKAHEAD_MASK = (1 << LOOKAHEAD_BITS) - 1;

interface FrameComponent {
  id: number;
  h: number;
  v: number;
  tq: number;
}

interface Frame {
  precision: number;
  width: number;
  height: number;
  comps: FrameComponent[];
}

function fail(code: JpegErrorCode, message: string): never {
  throw new JpegDecodeError(code, message);
}

/**
 * Decodes the luma DC coefficients of a baseline/extended-sequential JPEG into
 * a grey image of ceil(w/8) x ceil(h/8) values (for 4:2:0/4:2:2/4:4:4 and
 * greyscale; luma is the first component of the frame).
 * Throws JpegDecodeError, nothing else, for any input.
 */
export function decodeDcGrey(buf: Uint8Array): GreyImage {
  const n = buf.length;
  if (n < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) fail(JpegErrorCodes.NOT_JPEG, 'No JPEG start (FF D8)');

  const q0 = new Int32Array(4);
  const qDefined = [false, false, false, false];
  const dcTables: (HuffmanTable | null)[] = [null, null, null, null];
  const acTables: (HuffmanTable | null)[] = [null, null, null, null];
  let frame: Frame | null = null;
  let restartInterval = 0;
  let pos = 2;

  for (;;) {
    // Tolerate junk and fill bytes between segments: find the next FF xx.
    while (pos < n && buf[pos] !== 0xff) pos++;
    while (pos < n && buf[pos] === 0xff) pos++;
    if (pos >= n) fail(JpegErrorCodes.TRUNCATED, frame ? 'JPEG ends before its image data' : 'JPEG ends before its frame header');
    const code = buf[pos++]!;
    if (code === 0xd9) fail(JpegErrorCodes.CORRUPT, 'JPEG has no image data before its end marker');
    if (code === 0xd8 || code === 0x01 || (code >= 0xd0 && code <= 0xd7)) continue;
    if (pos + 2 > n) fail(JpegErrorCodes.TRUNCATED, 'JPEG ends inside a segment header');
    const len = (buf[pos]! << 8) | buf[pos + 1]!;
    if (len < 2) fail(JpegErrorCodes.CORRUPT, 'JPEG segment length below 2');
    const segStart = pos + 2;
    const segEnd = pos + len;
    if (segEnd > n) fail(JpegErrorCodes.TRUNCATED, 'JPEG ends inside a segment');

    switch (code) {
      case 0xc0:
      case 0xc1:
        if (frame) fail(JpegErrorCodes.CORRUPT, 'JPEG has two frame headers');
        frame = parseSof(buf, segStart, segEnd);
        break;
      case 0xc2:
      case 0xc6:
      case 0xca:
      case 0xce:
        fail(JpegErrorCodes.PROGRESSIVE, 'Progressive JPEG: only baseline (sequential) JPEGs are decoded');
      // eslint-disable-next-line no-fallthrough
      case 0xc3:
      case 0xc5:
      case 0xc7:
      case 0xc9:
      case 0xcb:
      case 0xcd:
      case 0xcf:
        fail(JpegErrorCodes.UNSUPPORTED, `Unsupported JPEG coding (SOF marker 0x${code.toString(16)})`);
      // eslint-disable-next-line no-fallthrough
      case 0xdc:
        fail(JpegErrorCodes.UNSUPPORTED, 'JPEG with height defined after the scan (DNL) is not supported');
      // eslint-disable-next-line no-fallthrough
      case 0xc4:
        parseDht(buf, segStart, segEnd, dcTables, acTables);
        break;
      case 0xdb:
        parseDqt(buf, segStart, segEnd, q0, qDefined);
        break;
      case 0xdd:
        if (len !== 4) fail(JpegErrorCodes.CORRUPT, 'Bad restart interval segment');
        restartInterval = (buf[segStart]! << 8) | buf[segStart + 1]!;
        break;
      case 0xda: {
        if (!frame) fail(JpegErrorCodes.CORRUPT, 'JPEG scan before its frame header');
        const result = readScan(buf, segStart, segEnd, frame, q0, qDefined, dcTables, acTables, restartInterval);
        if (result.image) return result.image;
        pos = result.next;
        continue;
      }
      default:
        break; // APPn, COM, DAC-free extensions: skipped by length
    }
    pos = segEnd;
  }
}

function parseSof(buf: Uint8Array, s: number, e: number): Frame {
  if (e - s < 6) fail(JpegErrorCodes.CORRUPT, 'Frame header too short');
  const precision = buf[s]!;
  const height = (buf[s + 1]! << 8) | buf[s + 2]!;
  const width = (buf[s + 3]! << 8) | buf[s + 4]!;
  const nc = buf[s + 5]!;
  if (precision !== 8 && precision !== 12) fail(JpegErrorCodes.UNSUPPORTED, `JPEG sample precision ${precision} is not supported`);
  if (height === 0) fail(JpegErrorCodes.UNSUPPORTED, 'JPEG with height defined after the scan (DNL) is not supported');
  if (width === 0) fail(JpegErrorCodes.CORRUPT, 'JPEG width is 0');
  if (width > MAX_DIMENSION || height > MAX_DIMENSION) fail(JpegErrorCodes.UNSUPPORTED, `JPEG larger than ${MAX_DIMENSION} pixels`);
  if (nc < 1 || nc > 4 || e - s < 6 + nc * 3) fail(JpegErrorCodes.CORRUPT, 'Bad component count in frame header');
  const comps: FrameComponent[] = [];
  for (let i = 0; i < nc; i++) {
    const o = s + 6 + i * 3;
    const h = buf[o + 1]! >> 4;
    const v = buf[o + 1]! & 15;
    const tq = buf[o + 2]!;
    if (h < 1 || h > 4 || v < 1 || v > 4 || tq > 3) fail(JpegErrorCodes.CORRUPT, 'Bad component in frame header');
    comps.push({ id: buf[o]!, h, v, tq });
  }
  return { precision, width, height, comps };
}

function parseDht(buf: Uint8Array, s: number, e: number, dc: (HuffmanTable | null)[], ac: (HuffmanTable | null)[]): void {
  let p = s;
  while (p < e) {
    if (p + 17 > e) fail(JpegErrorCodes.CORRUPT, 'Huffman table segment too short');
    const tc = buf[p]! >> 4;
    const th = buf[p]! & 15;
    if (tc > 1 || th > 3) fail(JpegErrorCodes.CORRUPT, 'Bad Huffman table class or id');
    const counts = buf.subarray(p + 1, p + 17);
    let total = 0;
    for (let i = 0; i < 16; i++) total += counts[i]!;
    p += 17;
    if (total > 256 || p + total > e) fail(JpegErrorCodes.CORRUPT, 'Huffman table has more symbols than its segment');
    const table = buildHuffmanTable(counts, buf.subarray(p, p + total), tc === 1);
    if (!table) fail(JpegErrorCodes.CORRUPT, 'Huffman table has too many codes');
    (tc === 1 ? ac : dc)[th] = table;
    p += total;
  }
}

function parseDqt(buf: Uint8Array, s: number, e: number, q0: Int32Array, defined: boolean[]): void {
  let p = s;
  while (p < e) {
    const pq = buf[p]! >> 4;
    const tq = buf[p]! & 15;
    if (pq > 1 || tq > 3) fail(JpegErrorCodes.CORRUPT, 'Bad quantisation table precision or id');
    const size = pq === 0 ? 64 : 128;
    if (p + 1 + size > e) fail(JpegErrorCodes.CORRUPT, 'Quantisation table segment too short');
    // Only the DC quantiser (first in zig-zag order) matters here.
    q0[tq] = pq === 0 ? buf[p + 1]! : (buf[p + 1]! << 8) | buf[p + 2]!;
    defined[tq] = true;
    p += 1 + size;
  }
}

interface ScanResult {
  image: GreyImage | null;
  /** Where to continue reading markers when the scan held no luma. */
  next: number;
}

function readScan(
  buf: Uint8Array,
  s: number,
  e: number,
  frame: Frame,
  q0: Int32Array,
  qDefined: boolean[],
  dcTables: (HuffmanTable | null)[],
  acTables: (HuffmanTable | null)[],
  restartInterval: number,
): ScanResult {
  const ns = buf[s]!;
  if (ns < 1 || ns > 4 || e - s < 1 + ns * 2 + 3) fail(JpegErrorCodes.CORRUPT, 'Bad scan header');
  const scanComps: { comp: FrameComponent; dc: HuffmanTable; ac: HuffmanTable; luma: boolean }[] = [];
  for (let i = 0; i < ns; i++) {
    const id = buf[s + 1 + i * 2]!;
    const t = buf[s + 2 + i * 2]!;
    const idx = frame.comps.findIndex((c) => c.id === id);
    if (idx < 0) fail(JpegErrorCodes.CORRUPT, 'Scan names a component the frame does not have');
    const dc = dcTables[t >> 4];
    const ac = acTables[t & 15];
    if (!dc || !ac) fail(JpegErrorCodes.CORRUPT, 'Scan uses an undefined Huffman table');
    scanComps.push({ comp: frame.comps[idx]!, dc, ac, luma: idx === 0 });
  }
  if (!scanComps.some((c) => c.luma)) return { image: null, next: skipEntropyData(buf, e) };

  const luma = frame.comps[0]!;
  if (!qDefined[luma.tq]) fail(JpegErrorCodes.CORRUPT, 'Luma quantisation table is not defined');
  let hMax = 1;
  let vMax = 1;
  for (const c of frame.comps) {
    hMax = Math.max(hMax, c.h);
    vMax = Math.max(vMax, c.v);
  }
  const bw = Math.ceil(Math.ceil((frame.width * luma.h) / hMax) / 8);
  const bh = Math.ceil(Math.ceil((frame.height * luma.v) / vMax) / 8);
  const image: GreyImage = { width: bw, height: bh, data: new Uint8Array(bw * bh), imageWidth: frame.width, imageHeight: frame.height };

  // One "slot" per block of an MCU, flattened so the hot loop indexes arrays only.
  const slotDcSkip: Uint16Array[] = [];
  const slotAcSkip: Uint16Array[] = [];
  const slotDc: HuffmanTable[] = [];
  const slotAc: HuffmanTable[] = [];
  const slotX: number[] = [];
  const slotY: number[] = [];
  const slotLuma: boolean[] = [];
  let mcusX: number;
  let mcusY: number;
  let lumaH: number;
  let lumaV: number;
  if (ns === 1) {
    // Non-interleaved: one block per MCU, over the component's own block grid.
    const c = scanComps[0]!;
    mcusX = bw;
    mcusY = bh;
    lumaH = 1;
    lumaV = 1;
    pushSlot(c.dc, c.ac, 0, 0, true);
  } else {
    mcusX = Math.ceil(frame.width / (8 * hMax));
    mcusY = Math.ceil(frame.height / (8 * vMax));
    lumaH = luma.h;
    lumaV = luma.v;
    for (const c of scanComps) {
      for (let y = 0; y < c.comp.v; y++) for (let x = 0; x < c.comp.h; x++) pushSlot(c.dc, c.ac, x, y, c.luma);
    }
  }
  if (slotX.length > 10) fail(JpegErrorCodes.CORRUPT, 'More than 10 blocks per MCU');
  function pushSlot(dc: HuffmanTable, ac: HuffmanTable, x: number, y: number, isLuma: boolean): void {
    slotDc.push(dc);
    slotAc.push(ac);
    slotDcSkip.push(dc.skip);
    slotAcSkip.push(ac.skip);
    slotX.push(x);
    slotY.push(y);
    slotLuma.push(isLuma);
  }

  const q = q0[luma.tq]!;
  const out = image.data;
  const slots = slotX.length;
  const twelveBit = frame.precision === 12;
  const n = buf.length;

  let pos = e;
  let acc = 0;
  let bits = 0;
  let pad = 0;
  let pred = 0;
  let restartLeft = restartInterval;

  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      if (restartInterval !== 0) {
        if (restartLeft === 0) {
          // The rest of the byte before RSTn is padding; predictors restart at 0.
          bits = 0;
          while (pos + 1 < n && !(buf[pos] === 0xff && buf[pos + 1] !== 0 && buf[pos + 1] !== 0xff)) pos++;
          if (pos + 1 >= n) fail(JpegErrorCodes.TRUNCATED, 'JPEG ends before a restart marker');
          const m = buf[pos + 1]!;
          if (m < 0xd0 || m > 0xd7) fail(JpegErrorCodes.CORRUPT, 'Missing restart marker');
          pos += 2;
          pad = 0;
          pred = 0;
          restartLeft = restartInterval;
        }
        restartLeft--;
      }
      for (let sl = 0; sl < slots; sl++) {
        // ---- DC ----
        if (bits < 16) {
          while (bits <= 24) {
            let b = 0;
            if (pos < n) {
              b = buf[pos]!;
              if (b !== 0xff) pos++;
              else if (pos + 1 < n && buf[pos + 1] === 0) pos += 2;
              else {
                b = 0; // a marker: the entropy data ends here, feed zeros
                if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
              }
            } else if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
            acc = (acc << 8) | b;
            bits += 8;
          }
        }
        if (slotLuma[sl]) {
          const t = slotDc[sl]!;
          let e1 = t.lookup[(acc >>> (bits - LOOKAHEAD_BITS)) & LOOKAHEAD_MASK]!;
          if (e1 === 0) e1 = slowDecode(t, acc, bits);
          bits -= e1 >> 8;
          const size = e1 & 0xff;
          if (size !== 0) {
            if (size > 15) fail(JpegErrorCodes.CORRUPT, 'Bad DC coefficient size');
            if (bits < size) {
              while (bits <= 24) {
                let b = 0;
                if (pos < n) {
                  b = buf[pos]!;
                  if (b !== 0xff) pos++;
                  else if (pos + 1 < n && buf[pos + 1] === 0) pos += 2;
                  else if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
                  else b = 0;
                } else if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
                acc = (acc << 8) | b;
                bits += 8;
              }
            }
            bits -= size;
            let v = (acc >>> bits) & ((1 << size) - 1);
            if (v < 1 << (size - 1)) v -= (1 << size) - 1;
            pred += v;
          }
          const bx = mx * lumaH + slotX[sl]!;
          const by = my * lumaV + slotY[sl]!;
          if (bx < bw && by < bh) {
            let g = twelveBit ? ((pred * q) / 8 + 2048) / 16 : (pred * q) / 8 + 128;
            g = Math.round(g);
            out[by * bw + bx] = g < 0 ? 0 : g > 255 ? 255 : g;
          }
        } else {
          let e1 = slotDcSkip[sl]![(acc >>> (bits - LOOKAHEAD_BITS)) & LOOKAHEAD_MASK]!;
          if (e1 !== 0) bits -= e1 & 0xff;
          else {
            const t = slotDc[sl]!;
            e1 = t.lookup[(acc >>> (bits - LOOKAHEAD_BITS)) & LOOKAHEAD_MASK]!;
            if (e1 === 0) e1 = slowDecode(t, acc, bits);
            bits -= e1 >> 8;
            const size = e1 & 0xff;
            if (size > 15) fail(JpegErrorCodes.CORRUPT, 'Bad DC coefficient size');
            if (bits < size) {
              while (bits <= 24) {
                let b = 0;
                if (pos < n) {
                  b = buf[pos]!;
                  if (b !== 0xff) pos++;
                  else if (pos + 1 < n && buf[pos + 1] === 0) pos += 2;
                  else if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
                  else b = 0;
                } else if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
                acc = (acc << 8) | b;
                bits += 8;
              }
            }
            bits -= size;
          }
        }

        // ---- AC: decoded only to be skipped ----
        const acSkip = slotAcSkip[sl]!;
        let k = 1;
        while (k < 64) {
          if (bits < 16) {
            while (bits <= 24) {
              let b = 0;
              if (pos < n) {
                b = buf[pos]!;
                if (b !== 0xff) pos++;
                else if (pos + 1 < n && buf[pos + 1] === 0) pos += 2;
                else if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
                else b = 0;
              } else if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
              acc = (acc << 8) | b;
              bits += 8;
            }
          }
          const f = acSkip[(acc >>> (bits - LOOKAHEAD_BITS)) & LOOKAHEAD_MASK]!;
          if (f !== 0) {
            bits -= f & 0xff;
            k += f >> 8;
            continue;
          }
          const t = slotAc[sl]!;
          let e2 = t.lookup[(acc >>> (bits - LOOKAHEAD_BITS)) & LOOKAHEAD_MASK]!;
          if (e2 === 0) e2 = slowDecode(t, acc, bits);
          bits -= e2 >> 8;
          const sym = e2 & 0xff;
          const size = sym & 15;
          if (size === 0) {
            if (sym === 0xf0) k += 16;
            else k = EOB_ADVANCE; // EOB (other run/0 symbols are invalid; treat as EOB)
            continue;
          }
          if (bits < size) {
            while (bits <= 24) {
              let b = 0;
              if (pos < n) {
                b = buf[pos]!;
                if (b !== 0xff) pos++;
                else if (pos + 1 < n && buf[pos + 1] === 0) pos += 2;
                else if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
                else b = 0;
              } else if (++pad > MAX_PAD_BYTES) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
              acc = (acc << 8) | b;
              bits += 8;
            }
          }
          bits -= size;
          k += (sym >> 4) + 1;
        }
        // EOB lands at or past EOB_ADVANCE; anything between 64 and it ran off the block.
        if (k > 64 && k < EOB_ADVANCE) fail(JpegErrorCodes.CORRUPT, 'AC coefficients run past the end of a block');
      }
    }
  }
  // Zero bits we fed ourselves were consumed: the data stopped before the last block.
  if (pad * 8 > bits) fail(JpegErrorCodes.TRUNCATED, 'JPEG image data ends early');
  return { image, next: pos };
}

/**
 * Decodes a code longer than the lookahead (canonical max-code walk), with at
 * least 16 valid bits in the accumulator. Returns (length << 8) | symbol.
 */
function slowDecode(t: HuffmanTable, acc: number, bits: number): number {
  const code16 = (acc >>> (bits - 16)) & 0xffff;
  for (let len = LOOKAHEAD_BITS + 1; len <= 16; len++) {
    const c = code16 >>> (16 - len);
    if (c <= t.maxCode[len]!) {
      const idx = c + t.valOffset[len]!;
      if (idx < 0 || idx >= t.values.length) break;
      return (len << 8) | t.values[idx]!;
    }
  }
  return fail(JpegErrorCodes.CORRUPT, 'Invalid Huffman code in JPEG image data');
}

/** Index of the first marker after entropy-coded data (RSTn and stuffed FF 00 belong to the data). */
function skipEntropyData(buf: Uint8Array, from: number): number {
  const n = buf.length;
  let p = from;
  while (p + 1 < n) {
    if (buf[p] === 0xff) {
      const m = buf[p + 1]!;
      if (m !== 0 && m !== 0xff && (m < 0xd0 || m > 0xd7)) return p;
    }
    p++;
  }
  return fail(JpegErrorCodes.TRUNCATED, 'JPEG ends inside a scan');
}
