/**
 * Keeps recordings inside the recorder's folder.
 *
 * Why two checks: a name from a msg can leave the folder by its spelling
 * (`../../etc/x`, `/abs/x`), which `assertInside` refuses before anything
 * touches the disk; and by the file system, through a symbolic link inside
 * the folder that points out of it, which only the disk can tell:
 * `realFolder` walks the path one component at a time from the real folder
 * and refuses a link that leads out. Links that stay inside are fine, and
 * the folder itself may be a link (that is the flow author's choice).
 * The file name itself is opened with O_NOFOLLOW (safe-open.ts).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { CameraError, ErrorCodes } from '../errors';
import { errnoCode } from './file-errors';

/** `p` is `root` or below it, by spelling (both absolute). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

export function outsideFolder(what: string, root: string): CameraError {
  return new CameraError(ErrorCodes.OUTSIDE_FOLDER, `${what} is outside the recording folder "${root}"`);
}

/** Throws ERR_OUTSIDE_FOLDER when `dir` is not `root` or below it. */
export function assertInside(root: string, dir: string, what: string): void {
  if (!isInside(root, dir)) throw outsideFolder(what, root);
}

function errno(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/**
 * The real path of `dir` (which must be `root` or below it by spelling),
 * creating missing folders when `create` is set. Throws ERR_OUTSIDE_FOLDER
 * when a link on the way leads out of the real root, the errno error
 * (ENOENT, ENOTDIR, EACCES …) otherwise.
 */
export async function realFolder(root: string, dir: string, create: boolean): Promise<string> {
  if (create) await fsp.mkdir(root, { recursive: true });
  const realRoot = await fsp.realpath(root);
  let cur = realRoot;
  for (const part of path.relative(root, dir).split(path.sep).filter(Boolean)) {
    const next = path.join(cur, part);
    let st = await fsp.lstat(next).catch((e: unknown) => {
      if (create && errnoCode(e) === 'ENOENT') return null;
      throw e;
    });
    if (!st) {
      // One level at a time, never recursive: mkdir -p would follow a link planted meanwhile.
      await fsp.mkdir(next).catch((e: unknown) => {
        if (errnoCode(e) !== 'EEXIST') throw e;
      });
      st = await fsp.lstat(next);
    }
    if (st.isSymbolicLink()) {
      const real = await fsp.realpath(next);
      if (!isInside(realRoot, real)) throw outsideFolder(`"${next}" is a link to "${real}", which`, root);
      cur = real;
    } else if (st.isDirectory()) {
      cur = next;
    } else {
      throw errno('ENOTDIR', `"${next}" is not a folder`);
    }
  }
  return cur;
}
