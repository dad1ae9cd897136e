/**
 * Opens recording files so that a path which is not a regular file can never
 * wedge Node-RED.
 *
 * Why: open(2) on a FIFO blocks until the other end is opened. Node runs
 * fs.open on a libuv threadpool thread (4 by default) that then blocks
 * forever; a few such opens and every fs call, DNS lookup and zlib job of the
 * whole process waits behind them, and a redeploy hangs on "Close timed out".
 * O_NONBLOCK makes the open return at once (ENXIO for a FIFO without reader
 * when writing), and fstat on the handle then refuses anything that is not a
 * regular file. On a regular file O_NONBLOCK has no effect.
 *
 * Writes also pass O_NOFOLLOW: a symbolic link planted at the recording's
 * name would otherwise redirect frames to wherever it points.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { CameraError, ErrorCodes } from '../errors';
import { errnoCode } from './file-errors';

const C = fs.constants;
// Absent on Windows, where FIFOs and these links do not exist in this form.
const O_NOFOLLOW = C.O_NOFOLLOW ?? 0;
const O_NONBLOCK = C.O_NONBLOCK ?? 0;

/** `append`: add to the file, create it if missing. `create`: a new file only (never overwrite). */
export type OpenMode = 'append' | 'create' | 'read';

const FLAGS: Record<OpenMode, number> = {
  append: C.O_WRONLY | C.O_APPEND | C.O_CREAT | O_NOFOLLOW | O_NONBLOCK,
  create: C.O_WRONLY | C.O_CREAT | C.O_EXCL | O_NOFOLLOW | O_NONBLOCK,
  // Playback follows links: its path is set by the flow's author, and "latest.mjpg → …" is a common setup.
  read: C.O_RDONLY | O_NONBLOCK,
};

/** What a non-regular path is, in words for the error message. */
export function fileKind(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

const KIND_HINTS: Record<string, string> = {
  'a symbolic link':
    'The recorder does not follow a symbolic link at the file name, so frames never land outside the folder. Give the real file name, or remove the link.',
  'a folder': 'The path is a folder; give a file name (or a folder plus a base name).',
};

export function notRegularFile(path: string, kind: string): CameraError {
  return new CameraError(ErrorCodes.NOT_REGULAR_FILE, `"${path}" is ${kind}, not a regular file`, KIND_HINTS[kind] ? { hint: KIND_HINTS[kind] } : {});
}

/** lstat that never throws: null when the path cannot be inspected. */
async function lstatOrNull(path: string): Promise<fs.Stats | null> {
  try {
    return await fsp.lstat(path);
  } catch {
    return null;
  }
}

/**
 * Opens `path` as a regular file, or throws: CameraError(ERR_NOT_REGULAR_FILE)
 * for a FIFO, device, socket, folder or (when writing) a symbolic link; the
 * original errno error for everything else (ENOENT, EACCES, …).
 */
export async function openRegularFile(path: string, mode: OpenMode): Promise<fsp.FileHandle> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, FLAGS[mode], 0o666);
  } catch (e) {
    // ELOOP: a link at the name (O_NOFOLLOW). ENXIO: a FIFO without reader, or a socket.
    // EISDIR: a folder. Say what the path is rather than the bare errno.
    const code = errnoCode(e);
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR' || code === 'EOPNOTSUPP') {
      const st = await lstatOrNull(path);
      if (st && !st.isFile()) throw notRegularFile(path, fileKind(st));
    }
    throw e;
  }
  let st: fs.Stats;
  try {
    st = await handle.stat();
  } catch (e) {
    await handle.close().catch(() => {});
    throw e;
  }
  if (!st.isFile()) {
    await handle.close().catch(() => {});
    throw notRegularFile(path, fileKind(st));
  }
  return handle;
}
