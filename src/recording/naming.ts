/**
 * Recording file names: `<folder>/<base><ext>` or, when files rotate (or the
 * user asks for it), `<folder>/<base>-YYYYMMDD-HHMMSS<ext>` in local time, so
 * files sort by start time in any file manager.
 */
import * as path from 'node:path';

export const DEFAULT_EXTENSION = '.mjpg';
export const DEFAULT_BASE_NAME = 'recording';
/** Extensions kept as given; anything else gets `.mjpg` appended. */
const KNOWN_EXTENSIONS = new Set(['.mjpg', '.mjpeg', '.mpjpeg']);

export interface RecordingTarget {
  dir: string;
  base: string;
  ext: string;
}

/**
 * Splits a user path into folder, base name and extension. A path ending in a
 * separator is a folder: files are then named `recording…`.
 */
export function parseTarget(p: string): RecordingTarget {
  const trimmed = p.trim();
  if (trimmed === '') throw new Error('empty path');
  if (/[\\/]$/.test(trimmed)) return { dir: path.resolve(trimmed), base: DEFAULT_BASE_NAME, ext: DEFAULT_EXTENSION };
  const abs = path.resolve(trimmed);
  const ext = path.extname(abs);
  if (KNOWN_EXTENSIONS.has(ext.toLowerCase())) {
    return { dir: path.dirname(abs), base: path.basename(abs, ext), ext };
  }
  return { dir: path.dirname(abs), base: path.basename(abs), ext: DEFAULT_EXTENSION };
}

/** Joins a folder and a base name the way the node's two fields are meant. */
export function joinTarget(folder: string, name: string): string {
  const f = folder.trim();
  const n = name.trim();
  if (!f) return n;
  if (!n) return f.endsWith(path.sep) || f.endsWith('/') ? f : f + path.sep;
  return path.isAbsolute(n) ? n : path.join(f, n);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** YYYYMMDD-HHMMSS in local time. */
export function fileStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

export function exactName(t: RecordingTarget): string {
  return path.join(t.dir, t.base + t.ext);
}

/** `attempt` > 0 adds `-<attempt>` for files started in the same second. */
export function stampedName(t: RecordingTarget, ms: number, attempt = 0): string {
  return path.join(t.dir, `${t.base}-${fileStamp(ms)}${attempt > 0 ? `-${attempt}` : ''}${t.ext}`);
}
