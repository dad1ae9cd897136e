/** Validation of the URL path a relay is served on. */
import { CameraError, ErrorCodes } from '../errors';

/**
 * Plain segments only: express would read `:name`, `*`, `(`, `?` and `+` as
 * route syntax, and `?`/`#` cannot be part of a path anyway.
 */
const SEGMENT_RE = /^[A-Za-z0-9._~-]+$/;
export const MAX_PATH_LENGTH = 200;

/** Returns the path to mount, or throws ERR_INVALID_SETTING saying what is wrong. */
export function validateRelayPath(raw: unknown): string {
  const path = typeof raw === 'string' ? raw.trim() : '';
  const fail = (why: string): never => {
    throw new CameraError(ErrorCodes.INVALID_SETTING, `URL path ${JSON.stringify(path)}: ${why}`);
  };
  if (!path) fail('is required');
  if (path.length > MAX_PATH_LENGTH) fail(`is longer than ${MAX_PATH_LENGTH} characters`);
  if (!path.startsWith('/')) fail('must start with /');
  if (path === '/') fail('must name a path below /, e.g. /camera/live');
  if (path.endsWith('/')) fail('must not end with /');
  for (const seg of path.slice(1).split('/')) {
    if (!seg) fail('has an empty segment (//)');
    if (seg === '.' || seg === '..') fail('must not contain . or .. segments');
    if (!SEGMENT_RE.test(seg)) fail('may only contain letters, digits and - . _ ~ between slashes');
  }
  return path;
}

/** The snapshot sibling of a stream path: `/cam/live` → `/cam/live.jpg`. */
export function snapshotPath(path: string): string {
  return `${path}.jpg`;
}
