/** Reading our relay's multipart/x-mixed-replace output from the raw bytes a client received. */

/**
 * The part bodies in `raw`, each cut by its `Content-Length: N` header (the
 * relay's spelling). Stops before a part whose header or body has not fully
 * arrived, and at a part without a length.
 */
export function partsByLength(raw: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  for (;;) {
    const hdrEnd = raw.indexOf('\r\n\r\n', off);
    if (hdrEnd < 0) return out;
    const len = Number(/Content-Length: (\d+)/.exec(raw.subarray(off, hdrEnd).toString('latin1'))?.[1]);
    // A part without a length would make no progress: stop rather than loop.
    if (!Number.isInteger(len) || raw.length < hdrEnd + 4 + len) return out;
    out.push(raw.subarray(hdrEnd + 4, hdrEnd + 4 + len));
    off = hdrEnd + 4 + len;
  }
}
