/**
 * File name suggestions for snapshots: `<camera>_<YYYY-MM-DD_HH-mm-ss-SSS>.jpg`.
 *
 * The name is meant to be handed straight to a file-writing node, an e-mail
 * attachment or a chat upload, so it must be valid on every common file
 * system: no `:` (Windows, macOS Finder), no path separators, no leading dot
 * (hidden files), no control characters. Local time, because the person who
 * reads the file name thinks in local time; milliseconds keep two snapshots
 * of the same second apart.
 */

/** Longer camera names are cut: some upload targets limit the whole name to ~100 characters. */
export const MAX_NAME_PART_LENGTH = 48;
/** Used when nothing usable is left of the camera name. */
export const FALLBACK_NAME = 'camera';

/**
 * Letters and digits of any script are kept (a camera called "Garage Süd" is
 * still recognisable); everything else becomes `_`, runs of `_` collapse, and
 * `.`/`_`/`-` are trimmed from both ends.
 */
export function sanitizeName(name: string | undefined | null): string {
  const cleaned = String(name ?? '')
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '_')
    .replace(/_+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '');
  // Cut by code points so a surrogate pair is never split, then trim again.
  const cut = Array.from(cleaned).slice(0, MAX_NAME_PART_LENGTH).join('').replace(/[._-]+$/g, '');
  return cut || FALLBACK_NAME;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DD_HH-mm-ss-SSS` in local time. */
export function fileTimestamp(time: number | Date): string {
  const d = typeof time === 'number' ? new Date(time) : time;
  if (Number.isNaN(d.getTime())) throw new RangeError('fileTimestamp: invalid time');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `_${pad(d.getHours())}-${pad(d.getMinutes())}-${pad(d.getSeconds())}-${pad(d.getMilliseconds(), 3)}`
  );
}

/** Suggested file name for a snapshot taken at `time` (ms since epoch or a Date). */
export function snapshotFilename(camera: string | undefined | null, time: number | Date): string {
  return `${sanitizeName(camera)}_${fileTimestamp(time)}.jpg`;
}
