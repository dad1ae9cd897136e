/**
 * Real JPEGs for parser tests and the benchmark, encoded with jpeg-js.
 *
 * Images are gradients, blocks and seeded noise so their compressed size is
 * close to what a camera sends (VGA ~40 KB, 1080p ~200 KB) and identical run
 * to run. Encoding is slow in pure JS, so every sample is cached in memory.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports
const jpeg = require('jpeg-js') as {
  encode(img: { data: Buffer; width: number; height: number }, quality?: number): { data: Buffer };
};

const cache = new Map<string, Buffer>();

function cached(key: string, make: () => Buffer): Buffer {
  let b = cache.get(key);
  if (b === undefined) {
    b = make();
    cache.set(key, b);
  }
  return b;
}

/** Small deterministic PRNG (mulberry32), so samples are the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Encode a synthetic scene of `width` x `height`; `noise` is the per-pixel noise amplitude. */
export function makeJpeg(width: number, height: number, opts: { seed?: number; noise?: number; quality?: number } = {}): Buffer {
  const { seed = 1, noise = 24, quality = 75 } = opts;
  const rand = rng(seed);
  const data = Buffer.alloc(width * height * 4);
  // A few random rectangles, like objects in a scene.
  const rects = Array.from({ length: 12 }, () => ({
    x: Math.floor(rand() * width),
    y: Math.floor(rand() * height),
    w: Math.floor(rand() * width * 0.3),
    h: Math.floor(rand() * height * 0.3),
    c: [rand() * 255, rand() * 255, rand() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = (x / width) * 200 + 20;
      let g = (y / height) * 180 + 30;
      let b = ((x + y) / (width + height)) * 160 + 40 + 30 * Math.sin(x / 17) * Math.cos(y / 23);
      for (const q of rects) {
        if (x >= q.x && x < q.x + q.w && y >= q.y && y < q.y + q.h) {
          r = q.c[0]!;
          g = q.c[1]!;
          b = q.c[2]!;
        }
      }
      const n = (rand() - 0.5) * noise;
      const i = (y * width + x) * 4;
      data[i] = clamp(r + n);
      data[i + 1] = clamp(g + n);
      data[i + 2] = clamp(b + n);
      data[i + 3] = 255;
    }
  }
  return Buffer.from(jpeg.encode({ data, width, height }, quality).data);
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** 640x480, about 40 KB. Different seeds give different frames of similar size. */
export function vgaJpeg(seed = 1): Buffer {
  return cached(`vga:${seed}`, () => makeJpeg(640, 480, { seed, noise: 19, quality: 70 }));
}

/** 1920x1080, about 200 KB. */
export function hdJpeg(seed = 1): Buffer {
  return cached(`hd:${seed}`, () => makeJpeg(1920, 1080, { seed, noise: 15, quality: 68 }));
}

/** A tiny real JPEG (w x h), for tests that split a stream at every byte. */
export function tinyJpeg(seed = 1, width = 16, height = 16): Buffer {
  return cached(`tiny:${seed}:${width}x${height}`, () => makeJpeg(width, height, { seed, noise: 40, quality: 80 }));
}

/**
 * `main` with an EXIF APP1 segment right after SOI that carries `thumb` as its
 * thumbnail: TIFF header, an empty IFD0, IFD1 with JPEGInterchangeFormat and
 * JPEGInterchangeFormatLength pointing at the thumbnail bytes. The result has
 * an inner FF D8 … FF D9 before the main image's SOF, as camera JPEGs do.
 */
export function withExifThumbnail(main: Buffer, thumb: Buffer): Buffer {
  const tiffHeader = Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]); // "II*\0", IFD0 at 8
  const ifd0 = Buffer.alloc(2 + 4);
  ifd0.writeUInt16LE(0, 0); // no entries
  const ifd1Offset = 8 + ifd0.length;
  ifd0.writeUInt32LE(ifd1Offset, 2);
  const ifd1 = Buffer.alloc(2 + 2 * 12 + 4);
  const thumbOffset = ifd1Offset + ifd1.length;
  ifd1.writeUInt16LE(2, 0);
  writeEntry(ifd1, 2, 0x0201, thumbOffset);
  writeEntry(ifd1, 14, 0x0202, thumb.length);
  ifd1.writeUInt32LE(0, 26); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiffHeader, ifd0, ifd1, thumb]);
  if (payload.length + 2 > 0xffff) throw new Error('thumbnail too large for one APP1 segment');
  const seg = Buffer.alloc(4);
  seg[0] = 0xff;
  seg[1] = 0xe1;
  seg.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([main.subarray(0, 2), seg, payload, main.subarray(2)]);
}

function writeEntry(ifd: Buffer, at: number, tag: number, value: number): void {
  ifd.writeUInt16LE(tag, at);
  ifd.writeUInt16LE(4, at + 2); // LONG
  ifd.writeUInt32LE(1, at + 4);
  ifd.writeUInt32LE(value, at + 8);
}

/** VGA frame carrying a 160x120 EXIF thumbnail. */
export function exifJpeg(seed = 1): Buffer {
  return cached(`exif:${seed}`, () => withExifThumbnail(vgaJpeg(seed), makeJpeg(160, 120, { seed: seed + 1000, noise: 20, quality: 70 })));
}

/** Small frame with an EXIF thumbnail, for byte-by-byte split tests. */
export function tinyExifJpeg(seed = 1): Buffer {
  return cached(`tinyexif:${seed}`, () => withExifThumbnail(tinyJpeg(seed, 24, 16), tinyJpeg(seed + 500, 8, 8)));
}

export interface PartOptions {
  boundary?: string;
  /** Content-Length to announce; `null` omits the header; default: the true length. */
  contentLength?: number | null;
  /** Line ending for delimiter and headers. */
  eol?: '\r\n' | '\n';
  extraHeaders?: Record<string, string>;
  /** Header name spelling for Content-Type / Content-Length. */
  contentTypeName?: string;
  contentLengthName?: string;
  /** Bytes written between the body and the next delimiter (default: eol). */
  afterBody?: string;
}

/** One multipart part as Axis writes it: delimiter, headers, blank line, body, CRLF. */
export function part(body: Buffer, o: PartOptions = {}): Buffer {
  const eol = o.eol ?? '\r\n';
  const b = o.boundary ?? 'myboundary';
  let head = `--${b}${eol}${o.contentTypeName ?? 'Content-Type'}: image/jpeg${eol}`;
  const cl = o.contentLength === undefined ? body.length : o.contentLength;
  if (cl !== null) head += `${o.contentLengthName ?? 'Content-Length'}: ${cl}${eol}`;
  for (const [k, v] of Object.entries(o.extraHeaders ?? {})) head += `${k}: ${v}${eol}`;
  head += eol;
  return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from(o.afterBody ?? eol, 'latin1')]);
}

/** A whole multipart stream of `frames`. */
export function multipartStream(frames: Buffer[], o: PartOptions = {}): Buffer {
  return Buffer.concat(frames.map((f) => part(f, o)));
}

/**
 * Split `buf` at the given offsets (taken modulo its length, any order,
 * repeats ignored) into views; cuts at 0 or the end add no empty chunk.
 */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...new Set(cuts.map((x) => (buf.length ? x % buf.length : 0)))].sort((a, b) => a - b)) {
    if (c <= prev) continue;
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** Split `buf` into chunks of `size` bytes (views, no copy). */
export function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, Math.min(buf.length, i + size)));
  return out;
}

let labelBase: Buffer | null = null;

/**
 * Small, distinct, structurally valid JPEGs: one real 32x24 image with a COM
 * segment naming the frame after SOI (sizes vary a little), so tests can tell
 * frames apart byte for byte without encoding each one (~50 ms a frame).
 */
export function labelledJpegs(n: number): Buffer[] {
  if (!labelBase) {
    const w = 32;
    const h = 24;
    const data = Buffer.alloc(w * h * 4);
    for (let p = 0; p < w * h; p++) {
      data[p * 4] = (p * 7) & 0xff;
      data[p * 4 + 1] = (p >> 2) & 0xff;
      data[p * 4 + 2] = 0x80;
      data[p * 4 + 3] = 0xff;
    }
    labelBase = jpeg.encode({ data, width: w, height: h }, 80).data;
  }
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const text = Buffer.from(`frame ${i} `.padEnd(8 + (i % 5) * 3, '.'));
    const com = Buffer.alloc(4);
    com.writeUInt16BE(0xfffe, 0);
    com.writeUInt16BE(text.length + 2, 2);
    out.push(Buffer.concat([labelBase.subarray(0, 2), com, text, labelBase.subarray(2)]));
  }
  return out;
}

/**
 * A JPEG-shaped buffer of `size` bytes (SOI, `seq` as a 32-bit number, filler,
 * EOI), for code that never decodes: cheap at any size, and each frame tells
 * its `seq` back through `readUInt32BE(2)`.
 */
export function fakeJpeg(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, seq & 0xff);
  b[0] = 0xff;
  b[1] = 0xd8;
  b.writeUInt32BE(seq, 2);
  b[size - 2] = 0xff;
  b[size - 1] = 0xd9;
  return b;
}
