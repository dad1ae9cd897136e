/**
 * Every bound the parser puts on what it buffers or tolerates, named in one
 * place. What a parser holds is about maxFrameBytes + maxHeaderBytes plus the
 * small fixed buffers sized from these, whatever the input.
 */

import { CameraError, ErrorCodes } from '../errors';

/** A part's header block larger than this is dropped: cameras send a few hundred bytes. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** A frame larger than this is dropped without ever being buffered whole. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/**
 * Whitespace tolerated between a Content-Length body and its delimiter before
 * the length is considered wrong (servers pad with CRLFs or spaces).
 */
export const MAX_DELIMITER_PADDING = 256;
/**
 * Longest boundary accepted, from a Content-Type or from the first line of an
 * unlabelled stream. RFC 2046 allows 70; some servers use longer ones.
 */
export const MAX_BOUNDARY_LENGTH = 200;
/** More digits than this is not a frame length (and would lose precision as a number). */
export const MAX_CONTENT_LENGTH_DIGITS = 15;
/**
 * Skipped bytes kept beyond the needle.length-1 the split-delimiter search
 * needs, so discard accounting can see the line break before a delimiter that
 * was split at a chunk edge.
 */
export const SEARCH_LOOKBEHIND = 8;
/** Header lines per part whose names are remembered to recognise them in the next part. */
export const MAX_PREDICTED_HEADERS = 16;
/** Longer header names are not remembered (cameras use short ones). */
export const MAX_PREDICTED_HEADER_NAME = 64;
/** A line break is looked for byte by byte this far before asking Buffer#indexOf (a native call). */
export const SHORT_LINE_SCAN = 128;
/** Lower-cased header names cached; bounded so a stream of made-up names cannot grow it. */
export const MAX_CACHED_HEADER_NAMES = 128;

/** A limit option: undefined means the default; anything but a positive safe integer is a setting error. */
export function limitOption(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new CameraError(ErrorCodes.INVALID_SETTING, `${name} must be a positive integer`);
  }
  return v;
}
