/**
 * Huffman tables for the DC-only decoder (ITU T.81 Annex C/F).
 *
 * Besides the canonical max-code tables (the slow path for codes longer than
 * LOOKAHEAD_BITS), every table gets a lookahead table indexed by the next
 * LOOKAHEAD_BITS bits. For AC tables that table already folds in the extra bits
 * of the coefficient when code + extra bits fit, so skipping a coefficient is
 * one table read and one subtraction — the DC-only decoder never needs AC values.
 */

/** 9 bits catch nearly every code of the standard (Annex K) and optimised tables. */
export const LOOKAHEAD_BITS = 9;
const LOOKAHEAD_SIZE = 1 << LOOKAHEAD_BITS;
const MAX_CODE_BITS = 16;

/** AC "advance" value that ends the block (EOB): pushes k past 63. */
export const EOB_ADVANCE = 64;

export interface HuffmanTable {
  /** Symbols in code order. */
  readonly values: Uint8Array;
  /** maxCode[l]: largest code of length l, -1 when none (index 1..16, 17 is a sentinel). */
  readonly maxCode: Int32Array;
  /** valOffset[l]: add to a length-l code to get its index in `values`. */
  readonly valOffset: Int32Array;
  /** (codeLength << 8) | symbol, or 0 when the code is longer than LOOKAHEAD_BITS. */
  readonly lookup: Uint16Array;
  /**
   * Skip table: (advance << 8) | totalBits, where totalBits is code length plus
   * extra bits and advance is how far the coefficient index k moves (run + 1,
   * 16 for ZRL, EOB_ADVANCE for EOB; 1 for a DC table). 0 when it does not fit.
   */
  readonly skip: Uint16Array;
}

/**
 * Builds a table from a DHT segment's 16 code-length counts and its symbols.
 * Null when the counts describe more codes than fit (a corrupt table).
 */
export function buildHuffmanTable(counts: ArrayLike<number>, symbols: Uint8Array, isAc: boolean): HuffmanTable | null {
  const values = Uint8Array.from(symbols);
  const maxCode = new Int32Array(MAX_CODE_BITS + 2).fill(-1);
  const valOffset = new Int32Array(MAX_CODE_BITS + 2);
  const lookup = new Uint16Array(LOOKAHEAD_SIZE);
  const skip = new Uint16Array(LOOKAHEAD_SIZE);

  let code = 0;
  let k = 0;
  for (let len = 1; len <= MAX_CODE_BITS; len++) {
    const n = counts[len - 1]!;
    valOffset[len] = k - code;
    for (let i = 0; i < n; i++, k++, code++) {
      // A code of `len` bits must fit in `len` bits; more means a corrupt table.
      if (code >= 1 << len) return null;
      if (len <= LOOKAHEAD_BITS) fillLookahead(lookup, skip, code, len, values[k]!, isAc);
    }
    if (n > 0) maxCode[len] = code - 1;
    code <<= 1;
  }
  maxCode[MAX_CODE_BITS + 1] = 0x7fffffff; // sentinel: the slow path always stops
  return { values, maxCode, valOffset, lookup, skip };
}

function fillLookahead(lookup: Uint16Array, skip: Uint16Array, code: number, len: number, sym: number, isAc: boolean): void {
  const shift = LOOKAHEAD_BITS - len;
  const first = code << shift;
  const count = 1 << shift;
  const size = sym & 0x0f;
  let advance: number;
  if (!isAc) advance = 1;
  else if (sym === 0x00) advance = EOB_ADVANCE;
  else if (sym === 0xf0) advance = 16;
  else advance = (sym >> 4) + 1;
  const extra = isAc ? size : sym;
  const total = len + extra;
  const skipEntry = total <= LOOKAHEAD_BITS && (isAc || sym <= 15) ? (advance << 8) | total : 0;
  const entry = (len << 8) | sym;
  for (let i = 0; i < count; i++) {
    lookup[first + i] = entry;
    skip[first + i] = skipEntry;
  }
}
